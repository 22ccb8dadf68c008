#!/usr/bin/env bash
# integration.partition.netns: three teechaind processes, each in a network
# namespace made by this test and joined by a bridge; the leader is cut off
# from the other two (its link goes down) while a workload runs.
#
# Checks: the cut-off leader's chain stops growing while the majority elects
# a leader and goes on committing; after healing every node has the same
# blocks, the blocks the old leader sealed alone are gone, and every
# transaction that got a receipt (before, during or after the cut) is in the
# ledger of every node, exactly once.
#
# Needs root (CAP_NET_ADMIN) and iproute2. Without them it exits 77 (CTest:
# skipped) and says why; the in-process test unit.node.test_cluster covers
# the same scenario on loopback (test_partitioned_leader_*).
#
# usage: partition.sh BIN_DIR
set -euo pipefail
bin="$1"
tag="tcp$$"
subnet="10.213.$(($$ % 200 + 20))"
work=$(mktemp -d /tmp/tc-partition-XXXXXX)
pids=()
deadline_s=120

log() { echo "partition: $*"; }

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for i in 0 1 2; do ip netns del "$tag-$i" 2>/dev/null; done
  ip link del "$tag-br" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 || ! ip netns add "$tag-0" 2>/dev/null; then
  echo "partition: network namespaces unavailable (need root and iproute2): skipped"
  exit 77
fi
ip netns add "$tag-1"
ip netns add "$tag-2"
ip link add "$tag-br" type bridge
ip addr add "$subnet.254/24" dev "$tag-br"
ip link set "$tag-br" up
for i in 0 1 2; do
  ip link add "$tag-h$i" type veth peer name "$tag-n$i"
  ip link set "$tag-n$i" netns "$tag-$i"
  ip link set "$tag-h$i" master "$tag-br" up
  ip netns exec "$tag-$i" ip addr add "$subnet.$((i + 1))/24" dev "$tag-n$i"
  ip netns exec "$tag-$i" ip link set "$tag-n$i" up
  ip netns exec "$tag-$i" ip link set lo up
done

"$bin/teechain" build-chain -l "$subnet.1:1,$subnet.2:1,$subnet.3:1" -o "$work/nodes" \
  -p 30300,20200 --accounts 3 >/dev/null
for i in 0 1 2; do
  dir="$work/nodes/$subnet.$((i + 1))/node0"
  # Fast elections so that the test stays short (the same on every node).
  sed -i 's/^election_timeout_ms = .*/election_timeout_ms = 600/; s/^heartbeat_ms = .*/heartbeat_ms = 60/' \
    "$dir/config.genesis"
  (cd "$dir" && exec ip netns exec "$tag-$i" "$bin/teechaind" -c config.ini -g config.genesis \
    2>"$dir/stderr.log") &
  pids+=($!)
done
url() { echo "http://$subnet.$(($1 + 1)):20200"; }

# status I FIELD: a field of getConsensusStatus on node I ("" if it does not answer).
status() {
  "$bin/teechain" status --rpc "$(url "$1")" --json --timeout-ms 1000 2>/dev/null |
    sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1
}
height() {
  local h
  h=$(status "$1" blockNumber)
  case "$h" in 0x*) echo $((h)) ;; "") echo -1 ;; *) echo "$h" ;; esac
}
leader_among() { # prints the index of a node (among $@) that says it leads
  for i in "$@"; do
    if [ "$(status "$i" isLeader)" = "true" ]; then
      echo "$i"
      return 0
    fi
  done
  return 1
}
wait_until() { # wait_until SECONDS CMD...
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}

keys=("$work"/nodes/accounts/*.key)
acked="$work/acked"
: >"$acked"
# send NODE KEYINDEX: a transfer through node NODE; appends its hash to $acked
# once it has a receipt there (up to 3 s), else to $work/unacked.
send() {
  local out hash
  out=$("$bin/teechain" send --rpc "$(url "$1")" --key "${keys[$2]}" \
    --to 0x000000000000000000000000000000000000bEEF --value 1 --wait-s 3 --json 2>/dev/null) || true
  hash=$(echo "$out" | sed -n 's/^[[:space:]]*"transactionHash":[[:space:]]*"\(0x[0-9a-f]*\)".*/\1/p' | head -n 1)
  if echo "$out" | grep -q '"blockNumber"'; then
    echo "$hash" >>"$acked"
  elif [ -n "$hash" ]; then
    echo "$hash" >>"$work/unacked"
  fi
}

wait_until 30 leader_among 0 1 2 >/dev/null || { log "no leader at start"; exit 1; }
old=$(leader_among 0 1 2)
log "leader is node$old; workload before the cut"
for k in 0 1 2; do send "$old" "$k"; done
[ "$(wc -l <"$acked")" -eq 3 ] || { log "transfers before the cut were not mined"; exit 1; }

others=()
for i in 0 1 2; do [ "$i" -ne "$old" ] && others+=("$i"); done
ip link set "$tag-h$old" down
log "node$old cut off"
wait_until 30 leader_among "${others[@]}" >/dev/null || { log "the majority elected no leader"; exit 1; }
new=$(leader_among "${others[@]}")
log "majority leader: node$new"
minority_height=$(height "$old")
# The old leader keeps taking transactions (it cannot commit them) ...
send "$old" 0
# ... while the majority commits.
for k in 1 2 1 2; do send "$new" "$k"; done
sleep 1
[ "$(height "$old")" -eq "$minority_height" ] || { log "the cut-off node kept committing"; exit 1; }
[ "$(height "$new")" -gt "$minority_height" ] || { log "the majority did not commit"; exit 1; }

ip link set "$tag-h$old" up
log "healed"
converged() {
  local h0 h1 h2
  h0=$("$bin/teechain" block latest --rpc "$(url 0)" --json 2>/dev/null | grep '"hash"' | head -n 1)
  h1=$("$bin/teechain" block latest --rpc "$(url 1)" --json 2>/dev/null | grep '"hash"' | head -n 1)
  h2=$("$bin/teechain" block latest --rpc "$(url 2)" --json 2>/dev/null | grep '"hash"' | head -n 1)
  [ -n "$h0" ] && [ "$h0" = "$h1" ] && [ "$h1" = "$h2" ]
}
# A transaction after healing, then every node must agree.
send "$new" 1
wait_until 30 converged || { log "nodes did not converge after healing"; exit 1; }
[ "$(leader_among 0 1 2)" != "" ] || { log "no leader after healing"; exit 1; }

# Every acknowledged transaction is on every node, in one block only.
while read -r h; do
  for i in 0 1 2; do
    r=$("$bin/teechain" receipt "$h" --rpc "$(url "$i")" --json 2>/dev/null) || {
      log "acknowledged $h missing on node$i"
      exit 1
    }
    echo "$r" | grep -q '"status":[[:space:]]*"0x1"' || { log "$h failed on node$i"; exit 1; }
  done
done <"$acked"
# The transaction sent to the cut-off leader was not lost: it went back to its
# pool when its block was dropped and was forwarded to the new leader.
if [ -s "$work/unacked" ]; then
  h=$(head -n 1 "$work/unacked")
  got() { "$bin/teechain" receipt "$h" --rpc "$(url "$new")" --json >/dev/null 2>&1; }
  wait_until 30 got || { log "the transaction sent during the cut was lost"; exit 1; }
fi
log "ok: $(wc -l <"$acked") acknowledged transactions on all nodes; height $(height "$new")"
