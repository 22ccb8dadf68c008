#!/usr/bin/env bash
# The README's "run" job: a local TEEChain, the way `hardhat node` or
# `ganache` give one. Generates a fresh chain of NODES Raft nodes (default 4)
# in nodes/ (replacing the previous one), starts every teechaind, prints the
# JSON-RPC URLs and the funded development accounts with their private keys,
# and stops every node cleanly on Ctrl-C (SIGINT) or SIGTERM.
#
# Environment: NODES (default 4), RPC_PORT (first RPC port, default 20200, the
# CLI's default endpoint), P2P_PORT (default 30300), ACCOUNTS (default 10),
# OUT (default nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
bin="$root/build/bin"
out="${OUT:-nodes}"
nodes="${NODES:-4}"
rpc_port="${RPC_PORT:-20200}"
p2p_port="${P2P_PORT:-30300}"
accounts="${ACCOUNTS:-10}"

"$bin/teechain" build-chain -l "127.0.0.1:$nodes" -o "$out" -p "$p2p_port,$rpc_port" \
  --accounts "$accounts" --force >/dev/null

pids=()
stop() {
  local code="${1:-0}"
  trap - INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo
  echo "nodes stopped; their data and logs are in $out/127.0.0.1/node*/"
  exit "$code"
}
trap 'stop 0' INT TERM

for i in $(seq 0 $((nodes - 1))); do
  dir="$out/127.0.0.1/node$i"
  (cd "$dir" && exec "$bin/teechaind" -c config.ini -g config.genesis 2>>log.stderr) &
  pids+=($!)
done

# Ready when every node answers and one of them leads (bounded: 30 s).
url0="http://127.0.0.1:$rpc_port"
ready=0
for _ in $(seq 1 300); do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "run: node$i exited during start-up:" >&2
      tail -n 5 "$out/127.0.0.1/node$i/log.stderr" >&2
      stop 1
    fi
  done
  if "$bin/teechain" status --rpc "$url0" --json --timeout-ms 500 2>/dev/null |
    grep -q '"leader"[[:space:]]*:[[:space:]]*"0x'; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then
  echo "run: no leader elected within 30 s (see $out/127.0.0.1/node*/log/teechaind.log)" >&2
  stop 1
fi

chain_id=$(sed -n 's/^chain_id *= *//p' "$out/127.0.0.1/node0/config.genesis")
echo
echo "TEEChain is running: $nodes node(s), Raft, chain id $chain_id, gas price 0."
echo
echo "JSON-RPC (any node; followers forward transactions to the leader):"
for i in $(seq 0 $((nodes - 1))); do
  echo "  node$i  http://127.0.0.1:$((rpc_port + i))   logs: $out/127.0.0.1/node$i/log/teechaind.log"
done
echo "  (eth_*, net_*, web3_*, FISCO-style methods; GET /health, GET /metrics)"
echo
echo "Accounts (1,000,000 ETH each; development keys, never use them elsewhere):"
i=0
first=""
for f in "$out"/accounts/0x*.key; do
  addr=$(basename "$f" .key)
  [ -n "$first" ] || first="$addr"
  printf '  (%d) %s  private key 0x%s\n' "$i" "$addr" "$(tr -d '\n' <"$f")"
  i=$((i + 1))
done
cat <<EOF

Try it:
  build/bin/teechain send --rpc $url0 --accounts-dir $out/accounts \\
      --from-account $first --to 0x000000000000000000000000000000000000dEaD --value 1ether
  or point ethers.js at $url0 (chain id $chain_id).

Press Ctrl-C to stop.
EOF
# Runs until a signal, or until a node exits on its own.
set +e
wait -n "${pids[@]}"
status=$?
echo "run: a node exited with status $status (see $out/127.0.0.1/node*/log/teechaind.log)" >&2
stop 1
