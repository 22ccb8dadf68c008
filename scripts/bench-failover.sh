#!/usr/bin/env bash
# Failover time of a Raft chain (docs/benchmarks.md, issue 5): a fresh chain
# of NODES nodes on loopback under a light steady load (`teechain bench` at
# 200 tx/s through a node that is never killed); TRIALS times: kill -9 the
# leader, measure the time until a surviving node sees the first block sealed
# by the new leader, restart the killed node and let it catch up. Prints every
# trial and the median, and writes build/bench-results/failover.txt.
# Usage: scripts/bench-failover.sh [TRIALS] [NODES]   (default 10, 4)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/bin"
trials="${1:-10}"
nodes="${2:-4}"
out="$PWD/build/bench-results"
work=$(mktemp -d /tmp/tc-failover-XXXXXX)
mkdir -p "$out"
load_pid=""
cleanup() {
  set +e
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null; fi
  for i in $(seq 0 $((nodes - 1))); do
    f="$work/nodes/127.0.0.1/node$i/node.pid"
    if [ -f "$f" ]; then kill -KILL "$(cat "$f")" 2>/dev/null; fi
  done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/teechain" build-chain -l "127.0.0.1:$nodes" -o "$work/nodes" -p 31800,21800 --accounts 20 >/dev/null
"$work/nodes/127.0.0.1/start_all.sh" >/dev/null
rpc() { echo "http://127.0.0.1:$((21800 + $1))"; }
field() { # field NODE NAME: a field of getConsensusStatus
  "$bin/teechain" status --rpc "$(rpc "$1")" --json --timeout-ms 500 2>/dev/null |
    sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1
}
leader() {
  for i in $(seq 0 $((nodes - 1))); do
    [ "$(field "$i" isLeader)" = "true" ] && { echo "$i"; return 0; }
  done
  return 1
}
height() { local h; h=$(field "$1" blockNumber); echo $((${h:-0})); }
# The sealer (miner) of node $1's latest block.
miner() {
  "$bin/teechain" block latest --rpc "$(rpc "$1")" --json --timeout-ms 500 2>/dev/null |
    sed -n 's/^[[:space:]]*"miner":[[:space:]]*"\(0x[0-9a-fA-F]*\)".*/\1/p' | head -n 1
}
now_ms() { date +%s%3N; }

for _ in $(seq 1 100); do leader >/dev/null && break; sleep 0.1; done
results=()
for t in $(seq 1 "$trials"); do
  l=$(leader)
  # The observer: a surviving node; the load goes through it too.
  o=$(((l + 1) % nodes))
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; fi
  "$bin/teechain" bench --rpc "$(rpc "$o")" --accounts "$work/nodes/accounts" --txs 12000 \
    --rate 200 --warmup 0 --timeout 1 >/dev/null 2>&1 &
  load_pid=$!
  # Wait until blocks are flowing, then kill the leader.
  h0=$(height "$o")
  for _ in $(seq 1 100); do [ "$(height "$o")" -gt "$h0" ] && break; sleep 0.05; done
  old_miner=$(miner "$o")
  pid=$(cat "$work/nodes/127.0.0.1/node$l/node.pid")
  t0=$(now_ms)
  kill -KILL "$pid"
  # Blocks the old leader had already committed may still arrive: the clock
  # stops at the first block sealed by another node.
  while m=$(miner "$o"); [ -z "$m" ] || [ "$m" = "$old_miner" ]; do
    sleep 0.01
    if [ $(($(now_ms) - t0)) -gt 30000 ]; then echo "trial $t: no block within 30 s" >&2; exit 1; fi
  done
  dt=$(($(now_ms) - t0))
  results+=("$dt")
  echo "trial $t: killed node$l, next block after $dt ms (seen on node$o)"
  rm -f "$work/nodes/127.0.0.1/node$l/node.pid"
  "$work/nodes/127.0.0.1/node$l/start.sh" >/dev/null
  # Let it catch up before the next trial.
  for _ in $(seq 1 200); do [ "$(height "$l")" -ge "$(height "$o")" ] && break; sleep 0.05; done
done
median=$(printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
election=$(sed -n 's/^election_timeout_ms *= *//p' "$work/nodes/127.0.0.1/node0/config.genesis")
echo "failover: $nodes nodes, election_timeout_ms $election: median $median ms over $trials trials (${results[*]})" |
  tee "$out/failover.txt"
