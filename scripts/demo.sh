#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo command: installs what is missing (Debian packages, pnpm, the workspace's
# dependencies), builds the executables, then runs the demo in two parts inside namespaces it makes:
# scripts/demo/run.sh, cnitool attaching networks one by one (a bridge network and a macvlan network,
# traffic, a port mapping, a summary), then scripts/demo/multinet.sh, the users' scenario (NADs in a
# folder, pods annotated with k8s.v1.cni.cncf.io/networks in both forms getting eth0 plus one
# interface per NAD through multinet, traffic over each, their network-status, a NAD whose plugin is
# missing failing cleanly). Each part tears down what it made, also on failure and Ctrl-C.
# `--no-setup` skips the installs and the build (the executables must exist).
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
bash scripts/demo/run.sh || exit $?
exec bash scripts/demo/multinet.sh
