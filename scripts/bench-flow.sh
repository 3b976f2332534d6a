#!/bin/sh
# Whole journeys on one node with the embedded store (issue 10, target P6:
# at least 2,000,000 journeys per hour, errors under 1%), measured with the
# load generator on the same machine (docs/BENCHMARKS.md, "Whole journeys").
# Builds the binary, then runs `sluice loadtest --flow` ROUNDS times against
# a fresh child server each time and prints each run's summary; the JSON
# reports stay in DIR.
#
#   scripts/bench-flow.sh [ROUNDS [DIR [loadtest flags]]]   (defaults: 3, a temporary directory,
#                                                            --duration 30s --connections 128)
#
# Every run is bounded: ROUNDS x (duration + warm-up + start-up).
set -eu
rounds=${1:-3}
dir=${2:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- --duration 30s --connections 128
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$dir" ] || dir=$tmp
mkdir -p "$dir"
go build -o "$tmp/sluice" ./cmd/sluice
i=1
while [ "$i" -le "$rounds" ]; do
	echo "== run $i of $rounds, $(date -u +%H:%M:%S) UTC"
	timeout 900 "$tmp/sluice" loadtest --flow --json "$dir/flow-$i.json" "$@" |
		grep -E '^(load average|complete journeys|failed journeys|server CPU|load generator CPU|target P6|\| (confirm|book|journey) )'
	i=$((i + 1))
done
[ "$dir" = "$tmp" ] || echo "JSON reports: $dir/flow-*.json"
