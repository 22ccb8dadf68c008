#!/usr/bin/env bash
# Installs, idempotently, every Debian package TEEChain needs to build, test
# and run. Safe to run again: it installs only what is missing, and runs
# `apt-get update` only when the package lists are missing or an install
# needs them. `deps.sh bench` adds what `make bench` needs besides: Debian's
# etcd (the 3-member Raft reference of docs/benchmarks.md) and gnuplot.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libssl-dev libsecp256k1-dev librocksdb-dev libevent-dev libcjson-dev libinih-dev
  libcmocka-dev
  # Integration tests: jq and curl read the node's JSON in shell tests;
  # iproute2 makes the network namespaces of the partition test.
  jq curl iproute2
)
# The end-to-end tests (tests/e2e/) run ethers, web3.js and solc-js from npm:
# Node.js and npm come from Debian unless the machine already has them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [ "${1:-}" = "bench" ]; then
  # gnuplot-nox: the charts of scripts/bench-charts.sh (PNG through cairo, no X).
  packages+=(etcd-server etcd-client gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  sudo_hint="sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo)
  else
    echo "deps: not root; run this, then run make again:" >&2
    echo "  $sudo_hint" >&2
    exit 1
  fi
else
  as_root=()
fi

export DEBIAN_FRONTEND=noninteractive
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
  "${as_root[@]}" apt-get update -qq
fi
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "deps: installed ${missing[*]}"
