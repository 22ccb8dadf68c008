#!/bin/sh
# run.sh TEECHAIND TEECHAIN - deploys a hand-assembled storage contract on a
# fresh one-node chain and drives it with the CLI: deploy with a constructor
# argument, call get() -> 7, send set(42), call get() -> 42, reverts with
# their reason, --json output.
#
# The node runs in a temporary directory on P2P port 31100 and RPC port
# 21100, under `timeout` (it cannot outlive the test by more than 100 s), and
# is stopped on every exit path. Exit status: 0 pass, 1 fail, 77 skip, which
# happens only when the node answers eth_call or eth_estimateGas with
# -32601 (method not found): the checks that need neither run first.
set -u

NODE_BIN=$1
CLI_BIN=$2
P2P_PORT=31100
RPC_PORT=21100
RPC=http://127.0.0.1:$RPC_PORT
CLI_TIMEOUT_S=40
SKIP=77

# The storage contract. Init code (27 bytes): copy the last 32 bytes of the
# code (the constructor argument) to memory, SSTORE it to slot 0, return the
# runtime. Runtime (82 bytes): selector = calldata[0..4);
#   get()        6d4ce63c -> return SLOAD(0)
#   set(uint256) 60fe47b1 -> SSTORE(0, calldata[4..36)), stop
#   anything else        -> revert with Error("nope")
INIT=6020602038036000396000516000556052601b60003960526000f3
RUNTIME=60003560e01c80636d4ce63c14603e576360fe47b114604a57
RUNTIME=${RUNTIME}6308c379a060e01b60005260206004526004602452636e6f706560e01b
RUNTIME=${RUNTIME}60445260646000fd5b60005460005260206000f35b60043560005500

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tc_cli_contract.XXXXXX") || exit 1
NODE_PID=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
        kill -TERM "$NODE_PID" 2>/dev/null
        i=0
        while kill -0 "$NODE_PID" 2>/dev/null && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$NODE_PID" 2>/dev/null
        wait "$NODE_PID" 2>/dev/null
    fi
    if [ -z "${TC_KEEP_TMP:-}" ]; then
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*"
    echo "--- node log (tail) ---"
    tail -n 30 "$TMP/node.log" 2>/dev/null
    exit 1
}

# cli ARGS...: runs teechain with a time bound; output in $OUT, status in $RC.
cli() {
    OUT=$(timeout "$CLI_TIMEOUT_S" "$CLI_BIN" "$@" 2>&1)
    RC=$?
    echo "\$ teechain $*"
    echo "$OUT" | sed 's/^/  /'
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "expected exit status $1, got $RC"
}

expect_out() {
    case $OUT in
    *"$1"*) ;;
    *) fail "expected output containing '$1'" ;;
    esac
}

# storage_is HEX: slot 0 of $ADDR holds the 32-byte word HEX (eth_getStorageAt
# through curl; without curl the check is skipped, and says so).
storage_is() {
    if ! command -v curl >/dev/null 2>&1; then
        echo "(no curl: storage of $ADDR not checked)"
        return
    fi
    body='{"jsonrpc":"2.0","id":1,"method":"eth_getStorageAt","params":["'$ADDR'","0x0","latest"]}'
    answer=$(curl -s --max-time 10 -H 'Content-Type: application/json' --data "$body" "$RPC")
    case $answer in
    *"\"result\":\"0x$1\""*) echo "slot 0 of $ADDR = 0x$1" ;;
    *) fail "eth_getStorageAt: expected 0x$1, got $answer" ;;
    esac
}

# eth_call/eth_estimateGas missing from the node: the only reason to skip.
skip_if_not_served() {
    case $OUT in
    *"JSON-RPC error -32601"*)
        echo "SKIP: this teechaind does not serve $1 yet (-32601); the contract was"
        echo "deployed and driven with explicit --gas and checked without eth_call."
        exit $SKIP
        ;;
    esac
}

"$CLI_BIN" build-chain -l 127.0.0.1:1 -o "$TMP/chain" -p "$P2P_PORT,$RPC_PORT" --accounts 1 \
    --bin "$NODE_BIN" >"$TMP/build.log" 2>&1 || fail "build-chain: $(cat "$TMP/build.log")"
KEY=$(ls "$TMP"/chain/accounts/*.key)
printf '%s\n%s\n' "0x$INIT" "$RUNTIME" >"$TMP/storage.bin"

NODE_DIR=$TMP/chain/127.0.0.1/node0
(cd "$NODE_DIR" && exec timeout 100 "$NODE_BIN" -c config.ini -g config.genesis) \
    >"$TMP/node.log" 2>&1 &
NODE_PID=$!

i=0
until "$CLI_BIN" status --rpc "$RPC" --timeout-ms 1000 >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "the node did not answer eth_blockNumber within 20 s"
    kill -0 "$NODE_PID" 2>/dev/null || fail "the node exited at start-up"
    sleep 0.2
done

# Does the node run contracts on eth_call / eth_estimateGas?
cli call 0x0000000000000000000000000000000000000001 'get()' --rpc "$RPC"
SERVES_CALL=yes
case $OUT in *"JSON-RPC error -32601"*) SERVES_CALL=no ;; esac

if [ $SERVES_CALL = no ]; then
    # What can be checked without eth_call: deploy, send and the failure path.
    cli deploy "$TMP/storage.bin" --args 'constructor(uint256)' 7 --key "$KEY" --rpc "$RPC" \
        --gas 300000
    expect_rc 0
    expect_out "status             success (1)"
    ADDR=$(echo "$OUT" | sed -n 's/^contract address *//p')
    [ -n "$ADDR" ] || fail "no contract address printed"
    storage_is 0000000000000000000000000000000000000000000000000000000000000007
    cli send "$ADDR" 'set(uint256)' 42 --key "$KEY" --rpc "$RPC" --gas 100000
    expect_rc 0
    expect_out "status             success (1)"
    expect_out "logs               0"
    storage_is 000000000000000000000000000000000000000000000000000000000000002a
    cli send "$ADDR" 'nope()' --key "$KEY" --rpc "$RPC" --gas 100000
    expect_rc 1
    expect_out "failed (status 0"
    cli call "$ADDR" 'get()(uint256)' --rpc "$RPC"
    skip_if_not_served eth_call
    fail "eth_call answered after answering -32601"
fi

cli deploy "$TMP/storage.bin" --args 'constructor(uint256)' 7 --key "$KEY" --rpc "$RPC"
skip_if_not_served eth_estimateGas
expect_rc 0
expect_out "status             success (1)"
ADDR=$(echo "$OUT" | sed -n 's/^contract address *//p')
[ -n "$ADDR" ] || fail "no contract address printed"

cli call "$ADDR" 'get()(uint256)' --rpc "$RPC"
expect_rc 0
[ "$OUT" = 7 ] || fail "get() returned '$OUT', expected 7"

cli send "$ADDR" 'set(uint256)' 42 --key "$KEY" --rpc "$RPC"
expect_rc 0
expect_out "status             success (1)"
expect_out "logs               0"

cli call "$ADDR" 'get()(uint256)' --rpc "$RPC"
expect_rc 0
[ "$OUT" = 42 ] || fail "get() returned '$OUT', expected 42"

cli call "$ADDR" 'get()(uint256)' --rpc "$RPC" --json
expect_rc 0
expect_out '"42"'

cli call "$ADDR" 'get()' --rpc "$RPC"
expect_rc 0
[ "$OUT" = 0x000000000000000000000000000000000000000000000000000000000000002a ] ||
    fail "raw get() returned '$OUT'"

cli call "$ADDR" 'nope()(uint256)' --rpc "$RPC"
expect_rc 1
expect_out "execution reverted: nope"

# A send that would revert is caught by the estimate and not sent.
cli send "$ADDR" 'nope()' --key "$KEY" --rpc "$RPC"
expect_rc 1
expect_out "execution reverted: nope"

echo "PASS"
exit 0
