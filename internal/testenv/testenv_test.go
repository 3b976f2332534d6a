package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// ending records how a test ended, as Fatal and Skip end it (Goexit).
type ending struct {
	testing.TB
	fatal, skip string
}

func (e *ending) Helper()           {}
func (e *ending) Fatal(args ...any) { e.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (e *ending) Skip(args ...any)  { e.skip = fmt.Sprint(args...); runtime.Goexit() }

// run calls f with a recorder in a goroutine of its own, as the testing
// package runs a test, and returns how it ended.
func run(f func(tb testing.TB)) *ending {
	e := &ending{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(e)
	}()
	<-done
	return e
}

// A missing program skips the test, or fails it where skipping is
// forbidden; a present one is found.
func TestLookPath(t *testing.T) {
	for _, tc := range []struct {
		require          string
		wantFatal, wantS bool
	}{
		{"", false, true},
		{"1", true, false},
	} {
		t.Run("require="+tc.require, func(t *testing.T) {
			t.Setenv("SLUICE_REQUIRE_SERVICES", tc.require)
			e := run(func(tb testing.TB) { LookPath(tb, "sluice-no-such-program", "never") })
			if (e.fatal != "") != tc.wantFatal || (e.skip != "") != tc.wantS {
				t.Fatalf("fatal %q, skip %q; want fatal %v, skip %v", e.fatal, e.skip, tc.wantFatal, tc.wantS)
			}
			if msg := e.fatal + e.skip; !strings.Contains(msg, "sluice-no-such-program is not installed (never)") {
				t.Errorf("message %q does not name the program and how to install it", msg)
			}
			var bin string
			if e := run(func(tb testing.TB) { bin = LookPath(tb, "go", "") }); e.fatal != "" || e.skip != "" || bin == "" {
				t.Errorf("go: %q, fatal %q, skip %q", bin, e.fatal, e.skip)
			}
		})
	}
}
