#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The users' scenario, run after the build: NetworkAttachmentDefinitions in a folder, pods annotated
# with k8s.v1.cni.cncf.io/networks in both forms, each getting eth0 plus one interface per selected
# NAD through multinet (the bundle's executable, called as a runtime calls it), traffic over each
# network, the network-status each pod would carry, a NAD whose plugin is missing failing cleanly,
# and a teardown that leaves nothing. Namespaces are cnidemo-*: the machine's network is never
# touched. Teardown runs on every exit (success, failure, Ctrl-C).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=$ROOT/scripts/demo
BIN=${CNI_DEMO_BIN:-$ROOT/apps/cni-bundle/dist/bin}
PREFIX=cnidemo-
NODE=${PREFIX}mnode
LAN=${PREFIX}mlan
LAN_IP=192.168.78.254
# "namespace/name" of each pod and its annotation, both forms: a list of names and the JSON form.
PODS=(web/web1 web/web2 storage/db1)
declare -A NETWORKS_OF=(
  [web/web1]='bridge-net,macvlan-net'
  [web/web2]='[{"name":"bridge-net","interface":"data0"},{"name":"backup","namespace":"storage","interface":"backup0"}]'
  [storage/db1]='storage/backup'
)

STATE=""
ADDED=()
TORN_DOWN=""

step() { printf '==> %s\n' "$*"; }
ok() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
run() {
  local output
  output=$("$@" 2>&1) || { printf '%s\n' "$output" >&2; die "failed: $*"; }
  [ -n "$output" ] && printf '%s\n' "$output"
  return 0
}
netns_of() { echo "${PREFIX}${1#*/}"; }
mn() { node "$DEMO/multinet.mjs" "$@"; }
demo_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true; }

teardown() {
  [ -n "$TORN_DOWN" ] && return 0
  TORN_DOWN=1
  trap '' INT TERM
  step "teardown: multinet DEL of every pod, last first"
  local i pod
  for ((i = ${#ADDED[@]} - 1; i >= 0; i--)); do
    pod=${ADDED[i]}
    if output=$(mn del "$STATE" "$BIN" "$NODE" "$pod" 2>&1); then ok "DEL $pod"; else ok "DEL $pod failed: $output"; fi
  done
  if [ -n "$STATE" ] && [ -d "$STATE/multinet" ]; then
    read -r records results <<<"$(mn left "$STATE")"
    ok "multinet's records left: $records attachment records, $results cached results"
  fi
  local ns pids
  for ns in $NODE $LAN $(for pod in "${PODS[@]}" web/bad1; do netns_of "$pod"; done); do
    ip netns list 2>/dev/null | grep -q "^$ns\b" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "$STATE" ] && rm -rf "$STATE"
  ok "removed the namespaces and $STATE"
}
trap 'status=$?; teardown; exit $status' EXIT
trap 'printf "\ninterrupted\n"; exit 130' INT
trap 'printf "\nterminated\n"; exit 143' TERM

ipv4() { ip -n "$1" -4 -o addr show dev "$2" scope global | awk '{print $4}' | head -n1; }
ipv4_bare() { ipv4 "$@" | cut -d/ -f1; }
ping_from() {
  local ns=$1 target=$2 what=$3
  ip netns exec "$ns" ping -c 1 -W 2 -q "$target" >/dev/null 2>&1 || die "ping $what ($target) failed"
  ok "ping $what ($target) answers"
}

# ---------------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "the demo makes network namespaces: run it as root"
[ -x "$BIN/multinet" ] || die "no multinet in \"$BIN\": build first (bash scripts/demo.sh does)"

started=$(date +%s%N)
STATE=$(mktemp -d "/tmp/${PREFIX}state.XXXXXX")
printf '\n'
step "multinet: the users' scenario (NADs in a folder, annotated pods), state in $STATE"
run ip netns add "$NODE"
run ip -n "$NODE" link set lo up
run ip netns add "$LAN"
run ip -n "$NODE" link add lan0 type veth peer name eth0 netns "$LAN"
run ip -n "$LAN" addr add "$LAN_IP/24" dev eth0
run ip -n "$NODE" link set lan0 up
run ip -n "$LAN" link set eth0 up
ok "node namespace $NODE; LAN peer $LAN ($LAN_IP) behind the node's lan0"

step "NetworkAttachmentDefinitions, written as the Multus docs print them"
run mn setup "$STATE" "$BIN"
ok "multinet's configuration: $STATE/net.d/00-multinet.conflist (default network: bridge cnidemo1, 10.89.0.0/24)"

for pod in "${PODS[@]}"; do
  ns=$(netns_of "$pod")
  run ip netns add "$ns"
  run ip -n "$ns" link set lo up
  step "ADD pod $pod, annotated k8s.v1.cni.cncf.io/networks: ${NETWORKS_OF[$pod]}"
  ADDED+=("$pod")
  run mn add "$STATE" "$BIN" "$NODE" "$pod" "${NETWORKS_OF[$pod]}"
  for ifname in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
    ok "$ifname $(ipv4 "$ns" "$ifname")"
  done
done

W1=$(netns_of web/web1) W2=$(netns_of web/web2) D1=$(netns_of storage/db1)
step "traffic over each network"
ping_from "$W1" "$(ipv4_bare "$W2" eth0)" "web1 -> web2 on the default network"
ping_from "$W1" "$(ipv4_bare "$W2" data0)" "web1 net1 -> web2 data0 on web/bridge-net"
ping_from "$W1" "$LAN_IP" "web1 net2 -> the LAN peer on web/macvlan-net"
ping_from "$D1" "$(ipv4_bare "$W2" backup0)" "db1 net1 -> web2 backup0 on storage/backup"

step "the network-status each pod would carry (multinet's networkStatus over its caches)"
mn status "$STATE" web/web2 || die "status failed"

step "a pod selecting a NAD whose plugin is not installed"
bad=web/bad1
run ip netns add "$(netns_of $bad)"
if output=$(mn add "$STATE" "$BIN" "$NODE" "$bad" 'bridge-net,sriov-net'); then die "ADD of $bad should have failed"; fi
ok "ADD refused: $output"
left=$(ip -n "$(netns_of $bad)" -o link show | grep -vc ': lo:' || true)
ok "interfaces in $(netns_of $bad) besides lo: $left (nothing attached, nothing to undo)"

teardown
[ -z "$(demo_namespaces)" ] || die "namespaces left behind: $(demo_namespaces | tr '\n' ' ')"
elapsed=$((($(date +%s%N) - started) / 1000000))
step "multinet demo done in $((elapsed / 1000)).$((elapsed % 1000 / 100)) s; nothing left behind"
