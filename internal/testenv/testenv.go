// Package testenv decides what a test does when something it needs from
// the machine (a database, Redis, a program such as haproxy) is missing:
// it is skipped, or fails when SLUICE_REQUIRE_SERVICES=1 (CI), so that CI
// never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Missing ends the test for want of what msg names: it fails when
// SLUICE_REQUIRE_SERVICES=1, and is skipped otherwise.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("SLUICE_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg + "; SLUICE_REQUIRE_SERVICES=1 forbids skipping")
	}
	tb.Skip(msg)
}

// LookPath is the path of the program name, or ends the test (Missing);
// install says how to install it ("Debian: apt-get install haproxy").
func LookPath(tb testing.TB, name, install string) string {
	tb.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, name+" is not installed ("+install+")")
	}
	return bin
}

// Bench lets a measuring test (one that times and logs, asserting nothing
// about the times) run only when asked for: with SLUICE_BENCH set and
// without -short. Its numbers mean something only on a quiet machine.
func Bench(tb testing.TB) {
	tb.Helper()
	if testing.Short() || os.Getenv("SLUICE_BENCH") == "" {
		tb.Skip("benchmark; set SLUICE_BENCH=1 to run")
	}
}

// PositiveInt is the environment variable name read as a whole number
// above zero, or def when it is unset or not one.
func PositiveInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// PositiveDuration is the environment variable name read as a duration
// above zero (time.ParseDuration), or def when it is unset or not one.
func PositiveDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
