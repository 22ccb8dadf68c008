#!/usr/bin/env bash
# `make sim-long SEEDS=N`: runs N seeds of the Raft simulator (raft-sim),
# spread over the node counts 1, 3, 4, 5 and 7, in parallel over the cores,
# and prints every failing seed with the command that replays it.
# Usage: scripts/sim-long.sh N
# Environment (all optional):
#   SIM_EVENTS     events per run (default 20000)
#   SIM_FAULTS     fault mix (default all; see raft-sim --help)
#   SIM_SEED_BASE  first seed (default: derived from the clock, and printed)
#   SIM_JOBS       parallel runs (default: nproc)
#   RAFT_SIM       the raft-sim binary (default build/bin/raft-sim)
# Exit status: 0 if every run held every check, 1 if any failed, 2 on usage.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-}
if ! [[ "$seeds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: make sim-long SEEDS=N   (N >= 1 seeds)" >&2
  exit 2
fi
export SIM=${RAFT_SIM:-build/bin/raft-sim}
export EVENTS=${SIM_EVENTS:-20000}
export FAULTS=${SIM_FAULTS:-all}
base=${SIM_SEED_BASE:-$(( $(date +%s) % 100000 * 100000 ))}
jobs=${SIM_JOBS:-$(nproc)}
if [ ! -x "$SIM" ]; then
  echo "sim-long: $SIM not found (run make first)" >&2
  exit 2
fi

TMP=$(mktemp -d)
export TMP
trap 'rm -rf "$TMP"' EXIT

# Chunks of 1 to 25 seeds (about a tenth of the total), the node count
# rotating from chunk to chunk.
counts=(1 3 4 5 7)
chunk=$(( seeds / 10 )); [ "$chunk" -ge 1 ] || chunk=1; [ "$chunk" -le 25 ] || chunk=25
left=$seeds
first=$base
k=0
while [ "$left" -gt 0 ]; do
  n=$(( left < chunk ? left : chunk ))
  echo "${counts[$(( k % 5 ))]} $first $(( first + n - 1 ))" >> "$TMP/chunks"
  first=$(( first + n ))
  left=$(( left - n ))
  k=$(( k + 1 ))
done

echo "sim-long: $seeds seeds from $base ($EVENTS events each, faults $FAULTS, $jobs jobs)"
run_chunk() {
  local out="$TMP/out.$1.$2"
  local rc=0
  "$SIM" --nodes "$1" --seeds "$2..$3" --events "$EVENTS" --faults "$FAULTS" > "$out" 2>&1 || rc=$?
  echo "$rc $1 $2 $3" > "$TMP/rc.$1.$2"
}
export -f run_chunk
start=$(date +%s)
xargs -P "$jobs" -n 3 bash -c 'run_chunk "$@"' _ < "$TMP/chunks"
elapsed=$(( $(date +%s) - start ))

runs=0
violations=0
broken=0
for f in "$TMP"/out.*; do
  line=$(grep -E '^raft-sim: [0-9]+ run\(s\)' "$f" || true)
  if [ -n "$line" ]; then
    runs=$(( runs + $(echo "$line" | sed -E 's/^raft-sim: ([0-9]+) run.*/\1/') ))
    violations=$(( violations + $(echo "$line" | sed -E 's/.* ([0-9]+) violation\(s\).*/\1/') ))
  fi
done
# A chunk that ended without its summary (crash, signal) is a failure too.
while read -r rc nodes lo hi; do
  if [ "$rc" -gt 1 ] || ! grep -qE '^raft-sim: [0-9]+ run\(s\)' "$TMP/out.$nodes.$lo"; then
    broken=$(( broken + 1 ))
    echo "sim-long: raft-sim exited with status $rc on seeds $lo..$hi (nodes $nodes):"
    tail -n 20 "$TMP/out.$nodes.$lo"
    echo "  rerun: $SIM --nodes $nodes --seeds $lo..$hi --events $EVENTS --faults $FAULTS"
  fi
done < <(cat "$TMP"/rc.*)

if [ "$violations" -gt 0 ]; then
  echo "sim-long: failing seeds:"
  grep -h -E 'VIOLATION|replay:' "$TMP"/out.* | grep -vE '^  (seed|last)' || true
fi
echo "sim-long: $runs runs in ${elapsed}s, $violations violation(s), $broken broken chunk(s)"
[ "$violations" -eq 0 ] && [ "$broken" -eq 0 ]
