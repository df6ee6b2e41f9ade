#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo command. The full demo (pods on a bridge and a macvlan network, traffic, a port
# mapping, a clean teardown) arrives with the libcni/cnitool issue and the plugins it drives; until then
# it sets up the workspace, builds the executables and runs the one plugin that exists.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
setup_system_packages "${CNI_DEMO_APT_PACKAGES[@]}"
setup_node_dependencies
step "build"
pnpm run build || fail "build failed"
step "the executables in apps/cni-bundle/dist/bin"
ls -l apps/cni-bundle/dist/bin
step "VERSION of each, as a runtime asks it"
for plugin in apps/cni-bundle/dist/bin/*; do
  printf '%-12s ' "$(basename "$plugin")"
  env -i PATH="$PATH" CNI_COMMAND=VERSION "$plugin" </dev/null
  echo
done
