#!/bin/sh
# What saving leaves and claims before they are answered costs
# (docs/BENCHMARKS.md): BenchmarkClaimLeave at BASE (a git revision) and in
# the working tree, alternated PAIRS times (default 3) so that the
# machine's load hits both alike. It reports wall time per step, not CPU
# time as bench-ab.sh does: the cost is mostly waiting for fsync.
#
#   scripts/bench-durable.sh BASE [N]     N iterations per run (default 2000)
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BASE [iterations]" >&2; exit 2; }
base=$1
n=${2:-2000}
pairs=${PAIRS:-3}
cd "$(dirname "$0")/.."
. scripts/lib.sh
base_tree "$base"
(cd "$tmp/base" && go test -c -o "$tmp/room-base.test" ./room/)
go test -c -o "$tmp/room-new.test" ./room/
echo "== BenchmarkClaimLeave, base = $base, $n iterations, load average $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ $i -lt "$pairs" ]; do
	for side in base new; do
		# The state files go to a directory on disk (TMPDIR may be tmpfs,
		# where fsync costs nothing).
		(cd room && TMPDIR=$tmp "$tmp/room-$side.test" -test.run '^$' -test.bench '^BenchmarkClaimLeave$' \
			-test.benchtime "${n}x") | awk -v s="$side" '/^BenchmarkClaimLeave/ {
				printf "%-5s %-42s %10s ns/op %10s claim-ns/op %10s leave-ns/op\n", s, $1, $3, $5, $7 }'
	done
	i=$((i + 1))
done
