#!/usr/bin/env bash
# The @ethereumjs/vm floor of the EVM benchmark (issue 6): runs bench_evm's
# workloads on TEEChain's EVM and then, in the same run, exactly the same
# bytecode, calldata, gas and pre-state on @ethereumjs/vm (bench/evm-floor/),
# which must reproduce TEEChain's gas used, and prints both side by side.
#
# Usage: scripts/bench-evm-floor.sh [OURS_PASSES [ETHEREUMJS_PASSES]]
#        (defaults 5 and 3; best pass of each; about 3 minutes in all)
# Environment: BUILD_DIR (default build), configured as Release if new.
#
# The pinned npm packages are installed into $BUILD_DIR/evm-floor, never into
# the source tree; the workloads are dumped to $BUILD_DIR/evm-floor/workloads
# and each engine's own output is kept beside them (ours.txt, ethereumjs.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
ours_passes="${1:-5}"
floor_passes="${2:-3}"
build="${BUILD_DIR:-build}"
floor="$build/evm-floor"

for tool in node npm cmake; do
  command -v "$tool" >/dev/null || { echo "bench-evm-floor: $tool is needed (make deps)" >&2; exit 1; }
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_evm -j2 >/dev/null

# npm ci only when the pinned lock file differs from the one installed.
mkdir -p "$floor"
if ! cmp -s bench/evm-floor/package-lock.json "$floor/package-lock.json" ||
   [ ! -d "$floor/node_modules/@ethereumjs/vm" ]; then
  cp bench/evm-floor/package.json bench/evm-floor/package-lock.json "$floor/"
  (cd "$floor" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
     --fetch-timeout=60000 --fetch-retries=2)
fi
# Beside its node_modules: ES modules do not look packages up through NODE_PATH.
cp bench/evm-floor/run.mjs "$floor/"

rm -rf "$floor/workloads"
mkdir -p "$floor/workloads"
echo "== TEEChain EVM: $build/bench/bench_evm --dump $floor/workloads $ours_passes"
"$build/bench/bench_evm" --dump "$floor/workloads" "$ours_passes" | tee "$floor/ours.txt"
echo
echo "== @ethereumjs/vm: (cd $floor && node run.mjs workloads $floor_passes)"
(cd "$floor" && node run.mjs workloads "$floor_passes") | tee "$floor/ethereumjs.txt"
echo

# Both outputs end each workload line with gas/pass, ms/pass and Mgas/s; the
# name is what comes before those three columns.
echo "== EVM floor: Mgas/s, best pass of each engine (same bytecode, gas and pre-state)"
awk '
  function name_of(   i, s) { s = $1; for (i = 2; i <= NF - 3; i++) s = s " " $i; return s }
  FNR == 1 { file++ }
  $(NF) ~ /^[0-9.]+$/ && $(NF - 2) ~ /^[0-9]+$/ {
    n = name_of()
    if (file == 1) { order[++count] = n; ours[n] = $(NF) } else { theirs[n] = $(NF) }
  }
  END {
    printf "%-20s %12s %12s %10s\n", "workload", "ours", "ethereumjs", "ratio"
    for (i = 1; i <= count; i++) {
      n = order[i]
      if (n in theirs && theirs[n] > 0)
        printf "%-20s %12.1f %12.1f %9.1fx\n", n, ours[n], theirs[n], ours[n] / theirs[n]
      else
        printf "%-20s %12.1f %12s %10s\n", n, ours[n], "-", "-"
    }
  }' "$floor/ours.txt" "$floor/ethereumjs.txt"
