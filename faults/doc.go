// Package faults is Sluice's fault suite (issue 12): HAProxy
// (deploy/haproxy) in front of three `sluice serve` nodes on one Redis of
// its own (AOF on) and one PostgreSQL schema, with the journey load
// generator (`sluice loadtest --flow`) driving people through the whole
// flow while nodes are killed (kill -9) and started again, Redis is
// restarted and PostgreSQL stalls for 15 s. It asserts what an operator
// needs on the night: no acknowledged booking lost, no slot overbooked,
// nobody through the gate without a valid pass, nobody locked out, every
// journey done within the retry budget, no request past its deadline.
//
// Short form by default (about a minute of load, for CI);
// SLUICE_FAULTS_FULL=1 (scripts/faults.sh --full) runs the full one. The
// figures are printed and recorded in docs/RELIABILITY.md. The suite is
// all in this package's tests (Linux only); there is no code to import.
package faults
