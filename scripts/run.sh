#!/usr/bin/env bash
# The README's "run" job. Until a node can be started (issue 4), the main job
# is to run TEEChain's primitives and EVM against the public Ethereum test
# vectors and the Raft core through the simulator, and to say plainly what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
vectors="${TC_ETH_TESTS:-$(cd .. && pwd)/shared/ethereum-tests}"
bin=build/bin
if [ ! -d "$vectors" ]; then
  echo "run: Ethereum test vectors not found at $vectors (set TC_ETH_TESTS)" >&2
  exit 1
fi

status=0
for suite in rlp:RLPTests trie:TrieTests tx:TransactionTests state:GeneralStateTests; do
  name=${suite%%:*}
  dir=${suite#*:}
  echo "== teechain-conformance $name $vectors/$dir"
  "$bin/teechain-conformance" "$name" "$vectors/$dir" | tail -n 1 || status=1
done
if [ -x "$bin/raft-sim" ]; then
  seed=${SEED:-$(date +%s)}
  for n in 3 5; do
    echo "== raft-sim --nodes $n --seed $seed --events 20000"
    "$bin/raft-sim" --nodes "$n" --seed "$seed" --events 20000 | tail -n 1 || status=1
  done
fi
exit $status
