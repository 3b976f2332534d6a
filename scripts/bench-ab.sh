#!/bin/sh
# Before/after comparison of the waiting room's hot paths on one machine
# (docs/BENCHMARKS.md). Builds sluice and the room and web test binaries
# twice, at BASE (a git revision, e.g. main) and from the working tree, then
# alternates base and new so that changes in what the machine is doing hit
# both alike:
#
#   1. CPU time per operation of Room.Join, Room.Status and the join and
#      status handlers: each benchmark runs a fixed number of iterations N
#      and 3N under /usr/bin/time, and (cpu(3N) - cpu(N)) / 2N is the CPU
#      per operation, set-up excluded. CPU time counts only what the
#      benchmark itself runs, so it moves far less than wall time on a busy
#      machine (resolution: 10 ms / 2N).
#   2. `sluice loadtest --compare` (throughput against bare net/http, paired
#      ratios), with the flags given after BASE.
#
#   scripts/bench-ab.sh BASE [loadtest flags; default: --rounds 5 --duration 3s --same-request]
#
# PAIRS (default 3) is the number of base/new alternations of each part.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BASE [loadtest flags]" >&2; exit 2; }
base=$1
shift
[ $# -gt 0 ] || set -- --rounds 5 --duration 3s --same-request
pairs=${PAIRS:-3}
cd "$(dirname "$0")/.."
. scripts/lib.sh
base_tree "$base"
for side in base new; do
	src=.
	[ "$side" = base ] && src=$tmp/base
	(cd "$src" && go build -o "$tmp/sluice-$side" ./cmd/sluice &&
		go test -c -o "$tmp/room-$side.test" ./room/ &&
		go test -c -o "$tmp/web-$side.test" ./web/)
done

# cpu BIN DIR BENCH N: CPU nanoseconds per operation.
cpu() {
	run() {
		(cd "$2" && /usr/bin/time -f "%U %S" "$1" -test.run '^$' -test.bench "$3" -test.benchtime "${4}x" -test.cpu 1 2>&1 >/dev/null) |
			tail -n 1 | awk '{print $1 + $2}'
	}
	a=$(run "$1" "$2" "$3" "$4")
	b=$(run "$1" "$2" "$3" $(($4 * 3)))
	awk -v a="$a" -v b="$b" -v n="$4" 'BEGIN { printf "%.0f", (b - a) / (2 * n) * 1e9 }'
}

# row SIDE PACKAGE BENCH N: one measurement into $out.
row() { echo "$1 $3 $(cpu "$tmp/$2-$1.test" "$PWD/$2" "$3" "$4")" >>"$out"; }

echo "== CPU per operation (ns), base = $base, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-22s %s\n' side benchmark "ns/op (one per pair)"
out=$tmp/cpu.txt
i=0
while [ $i -lt "$pairs" ]; do
	for side in base new; do
		row "$side" room '^BenchmarkJoin$/serial' 600000
		row "$side" room '^BenchmarkStatus$/serial' 3000000
		row "$side" web '^BenchmarkHandlerJoin$' 300000
		row "$side" web '^BenchmarkHandlerStatus$' 300000
	done
	i=$((i + 1))
done
sort -k2,2 -k1,1 -s "$out" | awk '{k = $1 " " $2; if (!(k in v)) o[n++] = k; v[k] = v[k] " " $3}
	END { for (j = 0; j < n; j++) { split(o[j], p, " "); printf "%-6s %-22s%s\n", p[1], p[2], v[o[j]] } }'

i=0
while [ $i -lt "$pairs" ]; do
	for side in base new; do
		echo
		echo "== $side ($([ "$side" = base ] && echo "$base" || echo "working tree")), pair $((i + 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
		timeout 900 "$tmp/sluice-$side" loadtest --compare "$@" | sed -n '/^| scenario/,$p'
	done
	i=$((i + 1))
done
