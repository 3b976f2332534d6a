package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
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

// A measuring test runs only with SLUICE_BENCH set; its settings are read
// only when they are above zero.
func TestBenchSettings(t *testing.T) {
	t.Setenv("SLUICE_BENCH", "")
	if e := run(func(tb testing.TB) { Bench(tb) }); e.skip == "" {
		t.Error("a benchmark ran without SLUICE_BENCH")
	}
	for _, tc := range []struct {
		v    string
		want int
	}{{"", 7}, {"x", 7}, {"0", 7}, {"-3", 7}, {"12", 12}} {
		t.Setenv("SLUICE_TESTENV_N", tc.v)
		if got := PositiveInt("SLUICE_TESTENV_N", 7); got != tc.want {
			t.Errorf("PositiveInt(%q) = %d, want %d", tc.v, got, tc.want)
		}
	}
	t.Setenv("SLUICE_TESTENV_D", "-1s")
	if got := PositiveDuration("SLUICE_TESTENV_D", time.Second); got != time.Second {
		t.Errorf("PositiveDuration(-1s) = %v, want the default", got)
	}
	t.Setenv("SLUICE_TESTENV_D", "250ms")
	if got := PositiveDuration("SLUICE_TESTENV_D", time.Second); got != 250*time.Millisecond {
		t.Errorf("PositiveDuration(250ms) = %v", got)
	}
}
