#!/usr/bin/env bash
# The fault suite (faults/, docs/RELIABILITY.md): HAProxy in front of three
# `sluice serve` nodes on a Redis of its own (AOF) and a PostgreSQL schema
# of its own, under `sluice loadtest --flow`, with nodes killed, Redis
# restarted and PostgreSQL stalled. Needs haproxy, redis-server and the
# PostgreSQL of SLUICE_POSTGRES_URL (default: the test server).
#
#   scripts/faults.sh           short form (about 75 s of load, as in CI)
#   scripts/faults.sh --full    full form (6 minutes of load, more faults)
#
# The figures are printed at the end and written to faults-report.md (or
# the file named by SLUICE_FAULTS_REPORT).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --full) export SLUICE_FAULTS_FULL=1 ;;
  "") ;;
  *) echo "usage: $0 [--full]" >&2; exit 2 ;;
esac
export SLUICE_REQUIRE_SERVICES="${SLUICE_REQUIRE_SERVICES:-1}"
export SLUICE_POSTGRES_URL="${SLUICE_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export SLUICE_FAULTS_REPORT="${SLUICE_FAULTS_REPORT:-$PWD/faults-report.md}"
rm -f "$SLUICE_FAULTS_REPORT"
status=0
go test -count=1 -timeout 30m -run '^TestFaults$' -v ./faults/ || status=$?
if [ -f "$SLUICE_FAULTS_REPORT" ]; then
  echo "== figures ($SLUICE_FAULTS_REPORT)"
  cat "$SLUICE_FAULTS_REPORT"
fi
exit "$status"
