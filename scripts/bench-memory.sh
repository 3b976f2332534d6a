#!/bin/sh
# Server resident memory growth for N tickets (default 1,000,000): the
# server runs as a child process so its VmRSS is its own (docs/BENCHMARKS.md).
#
#   scripts/bench-memory.sh [N]
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/sluice
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/sluice
timeout 1800 "$bin" loadtest --memory "${1:-1000000}"
