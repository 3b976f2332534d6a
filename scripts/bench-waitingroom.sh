#!/bin/sh
# Waiting-room throughput against a bare net/http handler, in one run on one
# machine (docs/BENCHMARKS.md). Builds the binary, then runs
# `sluice loadtest --compare` with the built-in load generator and, if wrk is
# installed (Debian: apt-get install wrk), again with wrk.
#
#   scripts/bench-waitingroom.sh [loadtest flags; default: --rounds 5 --duration 4s --same-request]
#
# Every run is bounded: rounds x scenarios x duration, plus start-up.
set -eu
[ $# -gt 0 ] || set -- --rounds 5 --duration 4s --same-request
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/sluice
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/sluice

echo "== load generator: sluice loadtest (Go, raw HTTP/1.1 keep-alive connections)"
timeout 900 "$bin" loadtest --compare "$@"

if command -v wrk >/dev/null 2>&1; then
	echo
	echo "== load generator: $(wrk -v 2>&1 | head -n1)"
	timeout 900 "$bin" loadtest --compare --client wrk --wrk-scripts scripts "$@"
else
	echo
	echo "wrk is not installed: skipping the wrk comparison (Debian: apt-get install wrk)"
fi
