#!/usr/bin/env bash
# `make bench`: runs every benchmark program of bench/ one after another (never
# two at once: the machine has two cores) and keeps each one's output in
# build/bench-results/<name>.txt, with the machine description in front, so
# that figures can be copied into docs/benchmarks.md with their context.
# Usage: scripts/bench.sh [NAME...]   (default: all bench_* programs)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench-results
mkdir -p "$out"
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ $# -gt 0 ]; then
  progs=("$@")
else
  progs=()
  for p in build/bench/bench_*; do
    [ -x "$p" ] && progs+=("$(basename "$p")")
  done
fi
for name in "${progs[@]}"; do
  file="$out/$name.txt"
  {
    echo "# $name  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
    echo "# machine: $machine"
    echo "# command: build/bench/$name"
    "build/bench/$name"
  } 2>&1 | tee "$file"
  echo
done
# With no names given, the node benchmark too (a one-node chain under
# `teechain bench`).
if [ $# -eq 0 ]; then
  echo "== node: scripts/bench-node.sh"
  scripts/bench-node.sh | tee "$out/node.txt"
  echo "== failover: scripts/bench-failover.sh"
  scripts/bench-failover.sh
  echo "== etcd reference: scripts/bench-etcd.sh"
  scripts/bench-etcd.sh
fi
# With no names given, the @ethereumjs/vm floor of the EVM benchmark too.
[ $# -gt 0 ] || scripts/bench-evm-floor.sh | tee "$out/evm-floor.txt"
echo "bench: results in $out/"
