#!/usr/bin/env bash
# The node benchmark of docs/benchmarks.md ("A running node"): a fresh
# one-node chain, `teechain bench` at full speed to find the committed TPS,
# then at 80% of it for the latency target, with the node's CPU and RSS.
# Writes build/bench-results/node-max.json and node-80.json and prints the
# two summaries. Usage: scripts/bench-node.sh [TXS]   (default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/bin"
out="$PWD/build/bench-results"
txs="${1:-300000}"
work=$(mktemp -d /tmp/tc-bench-node-XXXXXX)
mkdir -p "$out"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/teechain" build-chain -l 127.0.0.1:1 -o "$work/nodes" -p 31990,21990 --accounts 100 >/dev/null
node_dir="$work/nodes/127.0.0.1/node0"
(cd "$node_dir" && exec "$bin/teechaind" -c config.ini -g config.genesis 2>/dev/null) &
pid=$!
rpc=http://127.0.0.1:21990
for _ in $(seq 1 100); do
  "$bin/teechain" status --rpc "$rpc" --timeout-ms 500 >/dev/null 2>&1 && break
  sleep 0.1
done
# A first small run waits for the node to lead (it elects itself after one
# election timeout) and warms the pool.
"$bin/teechain" bench --rpc "$rpc" --accounts "$work/nodes/accounts" --txs 200 --warmup 0 >/dev/null

"$bin/teechain" bench --rpc "$rpc" --accounts "$work/nodes/accounts" --txs "$txs" --rate 0 \
  --warmup 1 --pid "$pid" --json "$out/node-max.json" | tail -n 14
tps=$(jq -r '.result.committed_tps' "$out/node-max.json")
rate=$(awk -v t="$tps" 'BEGIN { printf "%d", t * 0.8 }')
echo
echo "== 80% of $tps tx/s: --rate $rate"
"$bin/teechain" bench --rpc "$rpc" --accounts "$work/nodes/accounts" --txs "$txs" \
  --rate "$rate" --warmup 1 --pid "$pid" --json "$out/node-80.json" | tail -n 14
echo "bench-node: JSON in $out/node-max.json and $out/node-80.json"
