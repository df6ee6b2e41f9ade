#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo's containerd part (`bash scripts/demo.sh --containerd`): the multinet scenario's pods run
# through containerd's CRI, as kubelet runs them, with containerd confined to namespaces and a temp
# folder of its own. Needs Debian's containerd and runc; the driver is
# apps/cni-bundle/src/containerd/demo.ts, bundled here with tsup (its gRPC client is a dev dependency).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CNI_DEMO_BIN:-$ROOT/apps/cni-bundle/dist/bin}
[ "$(id -u)" = 0 ] || { echo "error: run the demo as root" >&2; exit 1; }
for tool in containerd ctr runc nsenter unshare setpriv; do
  command -v "$tool" >/dev/null || { echo "error: \"$tool\" not found (apt-get install containerd runc)" >&2; exit 1; }
done
[ -x "$BIN/multinet" ] || { echo "error: no multinet in \"$BIN\": build first" >&2; exit 1; }
OUT=$ROOT/apps/cni-bundle/dist/demo
printf '\n'
( cd "$ROOT/apps/cni-bundle" && npx tsup --no-config src/containerd/demo.ts --format esm --external @grpc/grpc-js --external @grpc/proto-loader --platform node --target node20 --out-dir "$OUT" --silent ) ||
  { echo "error: could not bundle the containerd demo driver" >&2; exit 1; }
exec node "$OUT/demo.js" "$BIN" "$ROOT/apps/cni-bundle/src/containerd/cri.proto"
