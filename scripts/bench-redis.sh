#!/bin/sh
# What a node's line in Redis costs (docs/BENCHMARKS.md, issue 15):
# room/redis's BenchmarkNode at BASE (a git revision) and in the working
# tree, alternated PAIRS times (default 3) so that the machine's load hits
# both alike. Each run measures, in one process and one after the other,
# a node whose line is in memory (a single node) and one whose line is in
# Redis (one of several nodes), joins and status checks 2 at a time
# (GOMAXPROCS), on a redis-server of the benchmark's own (redis-server
# must be installed). It prints:
#
#   redis-cmds/op  Redis commands per join and per status check: the change
#                  in Redis's total_commands_processed (which counts the
#                  commands run inside scripts) over the run, ticks
#                  included, divided by the operations; machine-independent.
#   ratio          Redis-backed node's throughput / in-memory node's, in
#                  the same run (ns/op memory / ns/op redis).
#
# BASE's tree gets the working tree's benchmark file (it uses only the
# room.Room API, which both have).
#
#   scripts/bench-redis.sh BASE [BENCHTIME]     (default 2s)
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BASE [benchtime]" >&2; exit 2; }
base=$1
benchtime=${2:-2s}
pairs=${PAIRS:-3}
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "$0: redis-server is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
cp room/redis/node_bench_test.go "$tmp/base/room/redis/"
(cd "$tmp/base" && go test -c -o "$tmp/redis-base.test" ./room/redis/)
go test -c -o "$tmp/redis-new.test" ./room/redis/
echo "== BenchmarkNode, base = $base, benchtime $benchtime, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-8s %12s %12s %14s %14s %8s %8s\n' side op "mem ns/op" "redis ns/op" "cmds/op" "" ratio ""
i=0
while [ $i -lt "$pairs" ]; do
	for side in base new; do
		(cd room/redis && SLUICE_REQUIRE_SERVICES=1 "$tmp/redis-$side.test" -test.run '^$' -test.bench '^BenchmarkNode$' \
			-test.benchtime "$benchtime") | awk -v s="$side" '
			/^BenchmarkNode\// {
				split($1, p, "/"); sub(/-[0-9]+$/, "", p[3])
				ns[p[2] "/" p[3]] = $3
				if ($5 != "") cmds[p[3]] = $5
			}
			END {
				for (k = 1; k <= 2; k++) {
					op = k == 1 ? "join" : "status"
					m = ns["memory/" op]; r = ns["redis/" op]
					printf "%-5s %-8s %12.1f %12.1f %14.4f %14s %8.2fx\n", s, op, m, r, cmds[op], "", (r > 0 ? m / r : 0)
				}
			}'
	done
	i=$((i + 1))
done
