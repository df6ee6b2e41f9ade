#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: on a fresh Debian machine with Node, as root, installs what the
# tests need (system packages, pnpm, npm dependencies), builds, runs every tier and prints the
# per-tier counts. .ci/run calls exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

setup_system_packages "${CNI_TEST_APT_PACKAGES[@]}"
setup_node_dependencies

step "build"
pnpm run build || fail "build failed"
step "typecheck"
pnpm run typecheck || fail "typecheck failed"
step "lint"
pnpm run lint || fail "lint failed"

rm -rf .tier-results
mkdir -p .tier-results
status=0

# The VM tier is CPU-bound in qemu: it runs beside the host tiers, which wait on the kernel
# more than on the CPU, and its log is printed when it ends.
step "tier: vm (in the background, log in .tier-results/vm.log)"
# The tier's budget is 10 minutes; the hard limit only guards against a hung VM, with room for
# the CPU the host tiers take meanwhile.
CNI_VM_TIMEOUT_S="${CNI_VM_TIMEOUT_S:-840}" node packages/testkit/vm/run-vm-tier.mjs >.tier-results/vm.log 2>&1 &
vm_pid=$!

# The lease tier mostly sleeps through DHCP lease lifetimes: it too runs in the background.
step "tier: lease (in the background, log in .tier-results/lease.log)"
node scripts/run-tier.mjs lease >.tier-results/lease.log 2>&1 &
lease_pid=$!

step "tier: unit"
node scripts/run-tier.mjs unit || status=1
step "tier: kernel"
node scripts/run-tier.mjs kernel || status=1
step "tier: fuzz"
node scripts/run-tier.mjs fuzz || status=1
step "tier: e2e"
node scripts/run-tier.mjs e2e || status=1

step "tier: vm (waiting)"
wait "$vm_pid" || status=1
cat .tier-results/vm.log

step "tier: lease (waiting)"
wait "$lease_pid" || status=1
cat .tier-results/lease.log

node scripts/tier-summary.mjs || status=1
exit "$status"
