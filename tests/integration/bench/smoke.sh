#!/bin/sh
# smoke.sh TEECHAIN TEECHAIND - the smoke test of `teechain bench`.
#
# Builds a 1-node chain in a temporary folder (ports P2P 31200, RPC 21200),
# starts teechaind, runs `teechain bench --txs 2000 --rate 500 --json FILE`,
# stops the node (always, also on failure) and checks the JSON: every key
# there, committed == sent (no errors expected), percentiles ordered, the
# histogram summing to the committed count. Then a short erc20 run (300
# token transfers; the tool deploys BenchToken and funds the senders first)
# and checks its JSON: the workload named, the set-up reported (contract,
# gas limit above a plain transfer's), every transfer committed, and no
# status-0 receipt in the sample. Last, a 2-load `teechain bench sweep` (the
# tool builds, starts and stops its own chains) and the chart data extracted
# from its reports. Never checks a timing.
set -eu

cli=$1
node=$2
rpc=http://127.0.0.1:21200
dir=$(mktemp -d "${TMPDIR:-/tmp}/tc_bench_smoke.XXXXXX")
node_pid=

stop_node() {
    if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
        kill -TERM "$node_pid" 2>/dev/null || true
        i=0
        while kill -0 "$node_pid" 2>/dev/null && [ "$i" -lt 300 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$node_pid" 2>/dev/null; then
            echo "smoke: node $node_pid ignored SIGTERM for 30 s; killing it" >&2
            kill -KILL "$node_pid" 2>/dev/null || true
        fi
        wait "$node_pid" 2>/dev/null || true
    fi
    node_pid=
}

cleanup() {
    status=$?
    stop_node
    if [ "$status" -ne 0 ] && [ -f "$dir/node.log" ]; then
        echo "smoke: last lines of the node's log:" >&2
        tail -n 20 "$dir/node.log" >&2
    fi
    rm -rf "$dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "smoke: $*" >&2
    exit 1
}

"$cli" build-chain -l 127.0.0.1:1 -o "$dir/nodes" -p 31200,21200 --accounts 10 \
    --bin "$node" >/dev/null
node_dir="$dir/nodes/127.0.0.1/node0"
(cd "$node_dir" && exec "$node" -c config.ini -g config.genesis) >"$dir/node.log" 2>&1 &
node_pid=$!

# Ready when eth_blockNumber answers.
i=0
block_number() {
    curl -sf -m 1 -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$rpc" 2>/dev/null |
        jq -r '.result | type' 2>/dev/null
}
until [ "$(block_number)" = string ]; do
    kill -0 "$node_pid" 2>/dev/null || fail "teechaind exited during start-up"
    i=$((i + 1))
    [ "$i" -le 150 ] || fail "teechaind did not answer on $rpc within 30 s"
    sleep 0.2
done

"$cli" bench --rpc "$rpc" --accounts "$dir/nodes/accounts" --txs 2000 --rate 500 \
    --warmup 1 --timeout 60 --pid "$node_pid" --json "$dir/bench.json" \
    || fail "teechain bench failed (status $?)"
"$cli" bench --rpc "$rpc" --accounts "$dir/nodes/accounts" --workload erc20 --senders 5 \
    --txs 300 --rate 300 --warmup 0.2 --timeout 60 --seed 1 --json "$dir/erc20.json" \
    || fail "teechain bench --workload erc20 failed (status $?)"
stop_node

# Every key of the report, with its type. (jq -e exits 0 on empty input in
# jq 1.6: the checks compare the printed value instead.)
[ "$(jq '
  (.tool == "teechain bench") and (.commit | type == "string") and (.command | type == "string")
  and (.config | (.rpc | type == "array") and (.txs == 2000) and (.rate_tps == 500)
       and (.mode == "open") and ([.senders, .outstanding, .connections, .batch, .warmup_s,
       .timeout_s, .poll_ms, .sign_threads, .pid] | all(type == "number")))
  and (.machine | (.nproc | type == "number") and (.cpu_model | type == "string")
       and (.kernel | type == "string"))
  and (.chain | [.chain_id, .start_block, .end_block, .blocks_with_txs] | all(type == "number"))
  and (.result | [.sent, .accepted, .rejected, .committed, .uncommitted, .send_duration_s,
       .duration_s, .offered_tps, .committed_tps, .overall_tps, .max_send_lag_ms]
       | all(type == "number"))
  and (.result.latency_ms | [.count, .min, .p50, .p90, .p99, .max, .mean] | all(type == "number"))
  and (.result.histogram_ms | length == 7)
  and (.result.node | [.cpu_percent_max, .cpu_percent_avg, .rss_mib_max, .rss_mib_avg]
       | all(type == "number"))
' "$dir/bench.json")" = true ] || fail "incomplete JSON report: $(cat "$dir/bench.json")"

# Consistency: everything sent was committed, no errors, ordered percentiles,
# a histogram summing to the committed count.
[ "$(jq '
  .result as $r
  | ($r.sent == 2000) and ($r.committed <= $r.sent) and ($r.committed == $r.sent)
    and ($r.accepted == 2000) and ($r.rejected == 0) and ($r.errors | length == 0)
    and ($r.timed_out == false) and ($r.latency_ms.count == $r.committed)
    and ($r.latency_ms.min <= $r.latency_ms.p50) and ($r.latency_ms.p50 <= $r.latency_ms.p90)
    and ($r.latency_ms.p90 <= $r.latency_ms.p99) and ($r.latency_ms.p99 <= $r.latency_ms.max)
    and (([$r.histogram_ms[].count] | add) == $r.committed)
    and ([$r.histogram_ms[].bucket] == ["<50","<100","<200","<400","<1000","<2000",">=2000"])
    and ($r.steady_window.committed <= $r.committed)
' "$dir/bench.json")" = true ] || fail "inconsistent JSON report: $(cat "$dir/bench.json")"

echo "smoke: bench JSON complete and consistent"

[ "$(jq '
  (.config.workload == "erc20") and (.config.seed == 1) and (.config.txs == 300)
  and (.result.setup.contract | type == "string" and test("^0x[0-9a-f]{40}$"))
  and (.result.setup.gas_limit > 21000) and (.result.setup.measured_gas > 21000)
  and (.result.setup.gas_limit >= .result.setup.measured_gas)
  and (.config.gas_limit == .result.setup.gas_limit)
  and (.result.sent == 300) and (.result.committed == 300) and (.result.rejected == 0)
  and (.result.errors | length == 0) and (.result.timed_out == false)
  and (.result.status_sample | (.size == 3) and (.status0 == 0) and (.missing == 0))
  and (.result.latency_ms.p50 <= .result.latency_ms.p99)
' "$dir/erc20.json")" = true ] || fail "inconsistent erc20 JSON report: $(cat "$dir/erc20.json")"

echo "smoke: erc20 bench JSON complete and consistent"

# `teechain bench sweep`: 2 offered loads on a fresh 1-node chain each
# (started and stopped by the tool, ports P2P 31210, RPC 21210), 300
# transfers per load; each report has its "sweep" member and consistent
# counts, and the chart data extraction gives one sorted line per load.
bin_dir=$(dirname "$node")
"$cli" bench sweep --config 's1:-l 127.0.0.1:1' --loads 400,200 --txs-per-load 300 \
    --warmup 0.2 --timeout 60 --accounts 10 --ports 31210,21210 --bin-dir "$bin_dir" \
    --out "$dir/sweep" >"$dir/sweep.txt" 2>"$dir/sweep.log" \
    || fail "teechain bench sweep failed: $(tail -n 5 "$dir/sweep.log")"
for load in 200 400; do
    f="$dir/sweep/s1-transfer-$load.json"
    [ -f "$f" ] || fail "no sweep report $f"
    [ "$(jq --argjson l "$load" '
      (.sweep.config == "s1") and (.sweep.build_chain_options == "-l 127.0.0.1:1")
      and (.sweep.offered_load_tps == $l) and (.sweep.nodes == 1) and (.sweep.target == "leader")
      and (.config.rate_tps == $l) and (.result.sent == 300) and (.result.committed == 300)
      and (.result.latency_ms.p50 <= .result.latency_ms.p99)
      and (.result.node | type == "object")
    ' "$f")" = true ] || fail "inconsistent sweep report: $(cat "$f")"
done
"$(dirname "$0")/../../../scripts/bench-charts.sh" --data-only "$dir/sweep" "$dir/img" >/dev/null \
    || fail "bench-charts.sh --data-only failed"
[ "$(cut -d' ' -f1 "$dir/sweep/chart-data/s1-transfer.dat" | paste -sd, -)" = "200,400" ] \
    || fail "chart data not one sorted line per load: $(cat "$dir/sweep/chart-data/s1-transfer.dat")"

echo "smoke: bench sweep reports complete and consistent"
