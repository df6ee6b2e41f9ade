#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo proper, run after the build: pods on a bridge network and a macvlan network, driven by the
# built cnitool and the bundle's executables. Everything lives in namespaces named cnidemo-*: the
# "node" namespace plays the host, so the machine's own network is never touched. Teardown runs on
# every exit (success, failure, Ctrl-C) and also clears what an earlier interrupted run left.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=$ROOT/scripts/demo
BIN=${CNI_DEMO_BIN:-$ROOT/apps/cni-bundle/dist/bin}
CNITOOL=$ROOT/apps/cnitool/dist/cnitool.mjs
PREFIX=cnidemo-
NODE=${PREFIX}node
LAN=${PREFIX}lan
PODS=(${PREFIX}pod1 ${PREFIX}pod2 ${PREFIX}pod3)
NODE_IP=198.51.100.1
LAN_IP=192.168.77.254
HOST_PORT=8080

STATE=""
SERVER_PID=""
ATTACHED=()   # "<network> <pod> <ifname>" in the order of ADD; DEL walks it backwards
TORN_DOWN=""

step() { printf '==> %s\n' "$*"; }
ok() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command, quiet on success; on failure prints its output and ends the demo (teardown follows).
run() {
  local output
  output=$("$@" 2>&1) || { printf '%s\n' "$output" >&2; die "failed: $*"; }
  [ -n "$output" ] && printf '%s\n' "$output"
  return 0
}

# cnitool as a runtime on the node would run it: inside the node namespace.
cnitool() {
  ip netns exec "$NODE" env NETCONFPATH="$STATE/net.d" CNI_PATH="$BIN" CNI_CACHE_DIR="$STATE/cache" \
    CAP_ARGS="${CAP_ARGS:-}" node "$CNITOOL" "$@"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

demo_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true; }

# Removes every cnidemo-* namespace (stopping what still runs in it) and the demo's temp folders.
# Deleting the node namespace takes its bridge, veths, ifbs and netfilter rules with it.
clear_leftovers() {
  local ns pids
  for ns in $(demo_namespaces); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf /tmp/${PREFIX}state.*
}

teardown() {
  [ -n "$TORN_DOWN" ] && return 0
  TORN_DOWN=1
  trap '' INT TERM   # a second Ctrl-C must not leave half a teardown
  step "teardown"
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    ok "stopped the HTTP server in ${PODS[0]}"
  fi
  local i network pod ifname
  if [ -n "$STATE" ] && ip netns list | grep -q "^$NODE\b"; then
    for ((i = ${#ATTACHED[@]} - 1; i >= 0; i--)); do
      read -r network pod ifname <<<"${ATTACHED[i]}"
      if CAP_ARGS="$(cap_args "$network" "$pod")" cnitool del -i "$ifname" "$network" "/var/run/netns/$pod" >/dev/null 2>"$STATE/del.err"; then
        ok "DEL $network $ifname of $pod"
      else
        ok "DEL $network $ifname of $pod failed: $(tail -n1 "$STATE/del.err")"
      fi
    done
  fi
  clear_leftovers
  ok "removed namespaces $(printf '%s ' "$NODE" "$LAN" "${PODS[@]}")and $STATE"
  [ -z "$(demo_namespaces)" ] || printf 'warning: namespaces left: %s\n' "$(demo_namespaces)" >&2
}

trap 'status=$?; teardown; exit $status' EXIT
trap 'printf "\ninterrupted\n"; exit 130' INT
trap 'printf "\nterminated\n"; exit 143' TERM

# The runtime's capability arguments: every pod gets a rate limit, pod1 a port mapping too.
cap_args() {
  local network=$1 pod=$2
  [ "$network" = podnet ] || { echo '{}'; return; }
  local bandwidth='"bandwidth":{"ingressRate":100000000,"ingressBurst":1000000,"egressRate":100000000,"egressBurst":1000000}'
  if [ "$pod" = "${PODS[0]}" ]; then
    echo "{\"portMappings\":[{\"hostPort\":$HOST_PORT,\"containerPort\":80,\"protocol\":\"tcp\"}],$bandwidth}"
  else
    echo "{$bandwidth}"
  fi
}

attach() {
  local network=$1 pod=$2 ifname=$3 output
  ATTACHED+=("$network $pod $ifname")
  output=$(CAP_ARGS="$(cap_args "$network" "$pod")" cnitool add -i "$ifname" "$network" "/var/run/netns/$pod" 2>&1) ||
    { printf '%s\n' "$output" >&2; die "ADD $network $ifname of $pod failed"; }
  ok "ADD $network -> $pod $ifname: $(ipv4 "$pod" "$ifname")"
}

ipv4() { ip -n "$1" -4 -o addr show dev "$2" scope global | awk '{print $4}' | head -n1; }
ipv4_bare() { ipv4 "$@" | cut -d/ -f1; }

ping_from() {
  local pod=$1 target=$2 what=$3
  in_ns "$pod" ping -c 2 -i 0.2 -W 2 -q "$target" >/dev/null 2>&1 || die "ping $what ($target from $pod) failed"
  ok "ping $what ($target) answers"
}

# ---------------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "the demo makes network namespaces: run it as root"
for tool in ip ping tc node; do command -v "$tool" >/dev/null || die "\"$tool\" not found"; done
[ -x "$BIN/bridge" ] || die "no executables in \"$BIN\": build first (bash scripts/demo.sh does)"
[ -f "$CNITOOL" ] || die "no \"$CNITOOL\": build first (bash scripts/demo.sh does)"

started=$(date +%s%N)
if [ -n "$(demo_namespaces)" ] || compgen -G "/tmp/${PREFIX}state.*" >/dev/null; then
  step "clearing what an earlier interrupted run left: $(demo_namespaces | tr '\n' ' ')"
  clear_leftovers
fi

STATE=$(mktemp -d "/tmp/${PREFIX}state.XXXXXX")
step "state folder $STATE (configs, IPAM leases, tuning backups, result cache)"

step "node namespace $NODE (plays the host: lo up, ip_forward on)"
run ip netns add "$NODE"
run ip -n "$NODE" link set lo up
run in_ns "$NODE" sysctl -qw net.ipv4.ip_forward=1

# The node's own address is off the LAN's subnet (on lo: a dummy link needs a module some kernels
# lack): a pod answers it through its default route over the bridge, not over net1, which would
# bypass the node's NAT.
step "node address $NODE_IP (on the node's lo)"
run ip -n "$NODE" addr add "$NODE_IP/32" dev lo

step "LAN peer namespace $LAN ($LAN_IP), linked to the node's lan0 (the macvlan master) by a veth"
run ip netns add "$LAN"
run ip -n "$LAN" link set lo up
run ip -n "$NODE" link add lan0 type veth peer name eth0 netns "$LAN"
run ip -n "$LAN" addr add "$LAN_IP/24" dev eth0
run ip -n "$NODE" link set lan0 up
run ip -n "$LAN" link set eth0 up

step "pod namespaces ${PODS[*]}"
for pod in "${PODS[@]}"; do
  run ip netns add "$pod"
  run ip -n "$pod" link set lo up
done

step "network configurations in $STATE/net.d"
run node "$DEMO/netconf.mjs" "$STATE/net.d" "$STATE" "$BIN" | sed 's/^/    /'

step "ADD podnet (eth0) to every pod, cnitool inside $NODE, CNI_PATH=${BIN#$ROOT/}"
for pod in "${PODS[@]}"; do attach podnet "$pod" eth0; done

step "ADD lan (net1, macvlan on lan0) to every pod"
for pod in "${PODS[@]}"; do attach lan "$pod" net1; done

step "CHECK every attachment"
for entry in "${ATTACHED[@]}"; do
  read -r network pod ifname <<<"$entry"
  output=$(CAP_ARGS="$(cap_args "$network" "$pod")" cnitool check -i "$ifname" "$network" "/var/run/netns/$pod" 2>&1) ||
    { printf '%s\n' "$output" >&2; die "CHECK $network $ifname of $pod failed"; }
done
ok "all ${#ATTACHED[@]} attachments pass CHECK"

step "traffic between pods over the bridge"
ping_from "${PODS[0]}" "$(ipv4_bare "${PODS[1]}" eth0)" "pod1 -> pod2"
ping_from "${PODS[1]}" "$(ipv4_bare "${PODS[2]}" eth0)" "pod2 -> pod3"
ping_from "${PODS[2]}" "$(ipv4_bare "${PODS[0]}" eth0)" "pod3 -> pod1"

step "traffic to the LAN peer over macvlan"
for pod in "${PODS[@]}"; do ping_from "$pod" "$LAN_IP" "${pod#$PREFIX} net1 -> LAN peer"; done
ping_from "$LAN" "$(ipv4_bare "${PODS[2]}" net1)" "LAN peer -> pod3 net1"

if [ -x "$BIN/portmap" ]; then
  step "port mapping: $NODE_IP:$HOST_PORT on the node -> ${PODS[0]}:80"
  in_ns "${PODS[0]}" node "$DEMO/http.mjs" serve 80 "hello from ${PODS[0]}" &
  SERVER_PID=$!
  reply=$(in_ns "$NODE" node "$DEMO/http.mjs" get "http://$NODE_IP:$HOST_PORT/") || die "the port mapping did not answer"
  ok "GET http://$NODE_IP:$HOST_PORT/ from $NODE: \"$reply\""
fi

if [ -x "$BIN/tuning" ]; then
  step "tuning's sysctl in the pods"
  for pod in "${PODS[@]}"; do
    value=$(in_ns "$pod" sysctl -n net.ipv4.conf.eth0.arp_ignore) || die "could not read arp_ignore in $pod"
    [ "$value" = 1 ] || die "net.ipv4.conf.eth0.arp_ignore is $value in $pod, tuning set 1"
  done
  ok "net.ipv4.conf.eth0.arp_ignore = 1 in ${PODS[*]}"
fi

if [ -x "$BIN/bandwidth" ]; then
  step "rate limits (bandwidth) on the node's side"
  tbfs=$(tc -n "$NODE" qdisc show | grep -c '^qdisc tbf' || true)
  [ "$tbfs" -ge "${#PODS[@]}" ] || die "expected token bucket filters for ${#PODS[@]} pods, found $tbfs"
  ok "$tbfs token bucket filters (ingress on the host veths, egress on the ifbs): $(tc -n "$NODE" qdisc show | grep -o -m1 'rate [^ ]*')"
fi

step "summary: what each pod got (read back with ip -j)"
node "$DEMO/summary.mjs" "${PODS[@]}" || die "summary failed"

teardown
[ -z "$(demo_namespaces)" ] || die "namespaces left behind"
elapsed=$((($(date +%s%N) - started) / 1000000))
step "demo done in $((elapsed / 1000)).$((elapsed % 1000 / 100)) s; nothing left behind"
