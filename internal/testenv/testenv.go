// Package testenv decides what a test does when something it needs from
// the machine (a database, Redis, a program such as haproxy) is missing:
// it is skipped, or fails when SLUICE_REQUIRE_SERVICES=1 (CI), so that CI
// never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
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
