#!/usr/bin/env bash
# The README's "run" job: a local TEEChain, the way `hardhat node` or
# `ganache` give one. Generates a fresh one-node chain in nodes/ (replacing the
# previous one), starts teechaind in the foreground, prints the JSON-RPC URL
# and the funded development accounts with their private keys, and stops the
# node cleanly on Ctrl-C (SIGINT) or SIGTERM.
#
# Environment: RPC_PORT (default 20200, the CLI's default endpoint), P2P_PORT
# (default 30300), ACCOUNTS (default 10), OUT (default nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/bin"
out="${OUT:-nodes}"
rpc_port="${RPC_PORT:-20200}"
p2p_port="${P2P_PORT:-30300}"
accounts="${ACCOUNTS:-10}"

"$bin/teechain" build-chain -l 127.0.0.1:1 -o "$out" -p "$p2p_port,$rpc_port" \
  --accounts "$accounts" --force >/dev/null
node_dir="$out/127.0.0.1/node0"
url="http://127.0.0.1:$rpc_port"

cd "$node_dir"
"$bin/teechaind" -c config.ini -g config.genesis 2>>log.stderr &
pid=$!
stop() {
  trap - INT TERM
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo
  echo "node stopped; its data and logs are in $node_dir"
  exit 0
}
trap stop INT TERM

# Ready when eth_blockNumber answers (bounded: 30 s).
ready=0
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run: teechaind exited during start-up:" >&2
    tail -n 5 log.stderr >&2
    exit 1
  fi
  if "$bin/teechain" status --rpc "$url" --timeout-ms 500 >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
cd - >/dev/null
if [ "$ready" -ne 1 ]; then
  echo "run: the node did not answer on $url within 30 s" >&2
  kill -TERM "$pid" 2>/dev/null || true
  exit 1
fi

chain_id=$(sed -n 's/^chain_id *= *//p' "$node_dir/config.genesis")
cat <<EOF

TEEChain is running: one node, Raft, chain id $chain_id, gas price 0.

JSON-RPC:  $url   (eth_*, net_*, web3_*, FISCO-style methods; GET /health, /metrics)
Logs:      $node_dir/log/teechaind.log

Accounts (1,000,000 ETH each; development keys, never use them elsewhere):
EOF
i=0
for f in "$out"/accounts/0x*.key; do
  addr=$(basename "$f" .key)
  printf '  (%d) %s  private key 0x%s\n' "$i" "$addr" "$(tr -d '\n' <"$f")"
  i=$((i + 1))
done
cat <<EOF

Try it:
  build/bin/teechain send --rpc $url --accounts-dir $out/accounts \\
      --from-account $(basename "$(ls "$out"/accounts/0x*.key | head -n 1)" .key) --to 0x000000000000000000000000000000000000dEaD --value 1ether
  or point ethers.js at $url (chain id $chain_id).

Press Ctrl-C to stop.
EOF
wait "$pid"
status=$?
echo "run: teechaind exited with status $status (see $node_dir/log/teechaind.log)" >&2
exit "$status"
