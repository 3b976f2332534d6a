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
# Then the same through HTTP: `sluice serve` (built at BASE and from the
# working tree) with a room of capacity 1 and rate 1/s, its line in memory
# and in a redis-server of the script's own, loaded by `sluice loadtest
# --target ... --scenario join|status` (64 connections, DURATION each),
# memory and Redis alternated (which first, too); Redis commands per request are the change
# in total_commands_processed over the round divided by the 2xx answers.
#
#   scripts/bench-redis.sh BASE [BENCHTIME [DURATION]]   (default 2s, 5s)
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BASE [benchtime]" >&2; exit 2; }
base=$1
benchtime=${2:-2s}
duration=${3:-5s}
pairs=${PAIRS:-3}
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "$0: redis-server is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
cp room/redis/node_bench_test.go "$tmp/base/room/redis/"
(cd "$tmp/base" && go test -c -o "$tmp/redis-base.test" ./room/redis/ && go build -o "$tmp/sluice-base" ./cmd/sluice)
go test -c -o "$tmp/redis-new.test" ./room/redis/
go build -o "$tmp/sluice-new" ./cmd/sluice
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

# freeport: a TCP port nobody listens on now.
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rport=$(freeport)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
cmds() { redis-cli -p "$rport" info stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ {print $2}'; }
export $("$tmp/sluice-new" keygen) $("$tmp/sluice-new" keygen --session)
n=0
# serve SIDE MODE: one server's join and status rounds.
serve() {
	n=$((n + 1))
	port=$(freeport)
	cat >"$tmp/cfg.yaml" <<CFG
addr: 127.0.0.1:$port
log_level: error
limits:
  exempt: [127.0.0.0/8]
rooms:
  - name: bench
    capacity: 1
    rate: 1
CFG
	if [ "$2" = redis ]; then
		SLUICE_REDIS_URL=redis://127.0.0.1:$rport/0 SLUICE_REDIS_PREFIX=bench$n: "$tmp/sluice-$1" serve --config "$tmp/cfg.yaml" 2>"$tmp/serve.log" &
	else
		"$tmp/sluice-$1" serve --config "$tmp/cfg.yaml" 2>"$tmp/serve.log" &
	fi
	spid=$!
	sleep 1.5
	for sc in join status; do
		c0=$(cmds)
		out=$("$tmp/sluice-new" loadtest --target "http://127.0.0.1:$port" --scenario $sc --room bench --duration "$duration" 2>&1 | tail -n 1)
		c1=$(cmds)
		echo "$out" | awk -v s="$1" -v m="$2" -v sc="$sc" -v c="$((c1 - c0))" '{
			ok = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(200|201):/) { split($i, p, ":"); ok += p[2] }
			printf "%-5s %-6s %-7s %10s req/s %12.4f redis-cmds/req\n", s, m, sc, $2, (m == "redis" && ok > 0 ? c / ok : 0) }'
	done
	kill $spid
	wait $spid 2>/dev/null || true
}
echo
echo "== sluice serve + loadtest, $duration per round, load average $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ $i -lt "$pairs" ]; do
	for side in base new; do
		# Memory first in odd pairs, Redis first in even ones, so that a
		# change of the machine's load does not favour one mode.
		if [ $((i % 2)) = 0 ]; then
			serve $side memory
			serve $side redis
		else
			serve $side redis
			serve $side memory
		fi
	done
	i=$((i + 1))
done
