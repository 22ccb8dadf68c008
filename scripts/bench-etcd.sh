#!/usr/bin/env bash
# The reference beside the chain's Raft figures (docs/benchmarks.md, issue 5):
# a 3-member etcd cluster from Debian's etcd-server on loopback, measured by
# `etcdctl check perf` (60 s of puts at the chosen load), on the same machine
# and in the same `make bench` run as the chain. Prints etcdctl's report and
# writes it to build/bench-results/etcd.txt.
# Usage: scripts/bench-etcd.sh [LOAD]   (s, m, l or xl: 150, 1,000, 8,000 or
# 15,000 writes/s offered; default l)
set -euo pipefail
cd "$(dirname "$0")/.."
load="${1:-l}"
out="$PWD/build/bench-results"
mkdir -p "$out"
if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
  echo "bench-etcd: etcd-server and etcd-client are not installed (make deps installs them)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/tc-etcd-XXXXXX)
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

cluster=""
for i in 0 1 2; do
  cluster+="${cluster:+,}e$i=http://127.0.0.1:$((23800 + i))"
done
endpoints=""
for i in 0 1 2; do
  etcd --name "e$i" --data-dir "$work/e$i" \
    --listen-client-urls "http://127.0.0.1:$((23790 + i))" \
    --advertise-client-urls "http://127.0.0.1:$((23790 + i))" \
    --listen-peer-urls "http://127.0.0.1:$((23800 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((23800 + i))" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token tc-bench >"$work/e$i.log" 2>&1 &
  pids+=($!)
  endpoints+="${endpoints:+,}http://127.0.0.1:$((23790 + i))"
done
export ETCDCTL_API=3
for _ in $(seq 1 100); do
  etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
{
  echo "# etcd $(etcd --version | head -n 1 | awk '{print $3}'), 3 members on loopback, etcdctl check perf --load=$load"
  etcdctl --endpoints "$endpoints" check perf --load="$load" 2>&1 | tr '\r' '\n' |
    grep -Ev '^ *[0-9]+ / [0-9]+|^ *$' || true
} | tee "$out/etcd.txt"
