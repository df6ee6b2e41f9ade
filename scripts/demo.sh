#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo command: installs what is missing (Debian packages, pnpm, the workspace's
# dependencies), builds the executables, then runs the demo (scripts/demo/run.sh): pods on a bridge
# network and a macvlan network inside namespaces it makes, traffic, a port mapping, a summary and a
# clean teardown. `--no-setup` skips the installs and the build (the executables must exist).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-setup" ]; then
  source scripts/lib/setup.sh
  setup_system_packages "${CNI_DEMO_APT_PACKAGES[@]}"
  setup_node_dependencies
  step "build"
  pnpm run build || fail "build failed"
fi
printf '\n'
exec bash scripts/demo/run.sh
