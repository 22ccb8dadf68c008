#!/usr/bin/env bash
# Charts and tables from `teechain bench sweep` reports (docs/benchmarks.md).
# Usage: scripts/bench-charts.sh [--data-only] DIR OUTDIR
# Reads every DIR/*.json that has a "sweep" member and writes, with jq:
#   DIR/chart-data/<config>-<workload>.dat  one line per offered load, sorted:
#                                           offered_tps committed_tps mean_ms p99_ms
#   DIR/summary.md                          a Markdown table per configuration
#                                           and workload, the machine, the commands
# then, with gnuplot (bench/charts/sweep.gp; skipped with --data-only):
#   OUTDIR/bench-sweep-tps.png       committed TPS vs offered load
#   OUTDIR/bench-sweep-latency.png   average and p99 latency vs offered load
# one series per configuration and workload.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data_only=0
if [ "${1:-}" = "--data-only" ]; then data_only=1; shift; fi
if [ $# -ne 2 ]; then
  echo "usage: scripts/bench-charts.sh [--data-only] DIR OUTDIR" >&2
  exit 2
fi
dir="$1"
outdir="$2"
command -v jq >/dev/null || { echo "bench-charts: jq is needed (scripts/deps.sh)" >&2; exit 1; }

shopt -s nullglob
files=("$dir"/*.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "bench-charts: no JSON report in $dir" >&2
  exit 1
fi
# One compact line per run, sweep reports only, in the order of the series
# (configuration as first seen on the command lines, then workload) and load.
runs=$(jq -c 'select(.sweep != null) | {
    config: .sweep.config, options: .sweep.build_chain_options,
    workload: .config.workload, offered: .sweep.offered_load_tps,
    tps: .result.committed_tps, sent: .result.sent, committed: .result.committed,
    timed_out: .result.timed_out, lat: .result.latency_ms, node: .result.node,
    nodes: .sweep.nodes, target: .sweep.target, command: .sweep.command,
    machine: .machine, commit: .commit }' "${files[@]}" |
  jq -s -c 'sort_by(.config, .workload, .offered) | .[]')
if [ -z "$runs" ]; then
  echo "bench-charts: no sweep report (with a \"sweep\" member) in $dir" >&2
  exit 1
fi
series=$(jq -r '"\(.config)-\(.workload)"' <<<"$runs" | awk '!seen[$0]++')

data="$dir/chart-data"
rm -rf "$data"
mkdir -p "$data"
for s in $series; do
  jq -r --arg s "$s" 'select("\(.config)-\(.workload)" == $s) |
      [.offered, .tps, .lat.mean, .lat.p99] | map(tostring) | join(" ")' <<<"$runs" \
    >"$data/$s.dat"
done

machine=$(jq -r -s '.[0].machine | "\(.nproc) cores, \(.cpu_model)"' <<<"$runs")
configs=$(jq -r '.config' <<<"$runs" | awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g')

# The Markdown tables.
{
  echo "Machine: $machine ($(jq -r -s '.[0].machine.kernel' <<<"$runs")); commit $(jq -r -s '.[0].commit' <<<"$runs")."
  echo
  for s in $series; do
    jq -r -s --arg s "$s" 'map(select("\(.config)-\(.workload)" == $s)) | .[0] |
        "### \(.config), \(.workload) (`build-chain \(.options)`, \(.nodes) node(s), load to \(.target))"' \
      <<<"$runs"
    echo
    echo "| offered (tx/s) | committed TPS | committed / sent | latency p50 / p99 / max (ms) | node CPU avg / max | node RSS max |"
    echo "|---|---|---|---|---|---|"
    jq -r --arg s "$s" 'select("\(.config)-\(.workload)" == $s) |
        def r0: . * 1 | round;
        def r1: . * 10 | round / 10;
        "| \(.offered) | \(.tps | r0)\(if .timed_out then " (timed out)" else "" end) | \(.committed) / \(.sent) | \(.lat.p50 | r0) / \(.lat.p99 | r0) / \(.lat.max | r0) | " +
        (if .node == null then "n/a | n/a |"
         else "\(.node.cpu_percent_avg | r0)% / \(.node.cpu_percent_max | r0)% | \(.node.rss_mib_max | r1) MiB |" end)' \
      <<<"$runs"
    echo
  done
  echo "Commands (one per workload):"
  echo
  jq -r '.command' <<<"$runs" | awk '!seen[$0]++' | sed 's/^/    /'
} >"$dir/summary.md"

echo "bench-charts: data in $data/, tables in $dir/summary.md"
[ "$data_only" -eq 0 ] || exit 0

command -v gnuplot >/dev/null || { echo "bench-charts: gnuplot is needed (scripts/deps.sh bench)" >&2; exit 1; }
mkdir -p "$outdir"
labels=$(for s in $series; do
  c=${s%-*}; w=${s##*-}
  n=$(jq -r -s --arg c "$c" 'map(select(.config == $c)) | .[0].nodes' <<<"$runs")
  echo "$c ($n node$([ "$n" = 1 ] || echo s)), $w"
done | paste -sd'|' -)
title="TEEChain bench sweep: $configs on $machine"
gnuplot -e "datadir='$data'; outdir='$outdir'; series='$(echo $series)'; labels='$labels'; title='$title'" \
  "$here/bench/charts/sweep.gp"
echo "bench-charts: $outdir/bench-sweep-tps.png, $outdir/bench-sweep-latency.png"
