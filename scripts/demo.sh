#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo command: installs what is missing (Debian packages, pnpm, the workspace's
# dependencies), builds the executables, then runs the demo in two parts inside namespaces it makes:
# scripts/demo/run.sh, cnitool attaching networks one by one (a bridge network and a macvlan network,
# traffic, a port mapping, a summary), then scripts/demo/multinet.sh, the users' scenario (NADs in a
# folder, pods annotated with k8s.v1.cni.cncf.io/networks in both forms getting eth0 plus one
# interface per NAD through multinet, traffic over each, their network-status, a NAD whose plugin is
# missing failing cleanly). Each part tears down what it made, also on failure and Ctrl-C.
# `--no-setup` skips the installs and the build (the executables must exist). `--containerd` then
# runs the same pods through containerd's CRI (scripts/demo/containerd.sh; Debian's containerd and
# runc, installed by the setup when missing).
set -uo pipefail
cd "$(dirname "$0")/.."
setup=1 containerd=""
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup="" ;;
    --containerd) containerd=1 ;;
    *) printf 'usage: bash scripts/demo.sh [--no-setup] [--containerd]\n' >&2; exit 2 ;;
  esac
done
if [ -n "$setup" ]; then
  source scripts/lib/setup.sh
  setup_system_packages "${CNI_DEMO_APT_PACKAGES[@]}"
  [ -n "$containerd" ] && setup_system_packages containerd runc
  setup_node_dependencies
  step "build"
  pnpm run build || fail "build failed"
fi
printf '\n'
bash scripts/demo/run.sh || exit $?
[ -z "$containerd" ] && exec bash scripts/demo/multinet.sh
bash scripts/demo/multinet.sh || exit $?
exec bash scripts/demo/containerd.sh
