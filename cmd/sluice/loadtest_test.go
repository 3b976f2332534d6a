package main

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// The load test starts its servers by running its own executable again
// ("sluice loadtest serve-..."), and the crash tests run "sluice serve";
// under `go test` that executable is the test binary, which this init turns
// into the sluice command for those children.
func init() {
	if os.Getenv("SLUICE_LOADTEST_TEST_CHILD") == "1" && len(os.Args) > 2 && (os.Args[1] == "loadtest" || os.Args[1] == "serve") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
}

// runOK runs the sluice command and fails the test unless it exits 0; it
// returns the standard output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr, os.Getenv); code != 0 {
		t.Fatalf("sluice %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestLoadtestCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for a few seconds")
	}
	t.Setenv("SLUICE_LOADTEST_TEST_CHILD", "1")
	out := runOK(t, "loadtest", "--compare", "--rounds", "1", "--duration", "300ms", "--warmup", "100ms", "--connections", "4", "--same-request")
	for _, want := range []string{"status ticket at position", "| baseline |", "| join |", "| status |", "| bare-status |", "waiting"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoadtestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and issues tickets")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc (Linux)")
	}
	t.Setenv("SLUICE_LOADTEST_TEST_CHILD", "1")
	out := runOK(t, "loadtest", "--memory", "5000", "--connections", "4")
	if !strings.Contains(out, "issued 5000 tickets") || !strings.Contains(out, "joined=15000") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestLoadtestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest"},
		{"loadtest", "--duration", "0s", "--compare"},
		{"loadtest", "--connections", "0", "--compare"},
		{"loadtest", "--compare", "extra"},
		{"loadtest", "--flow", "--change-share", "0.8", "--cancel-share", "0.3"},
		{"loadtest", "--flow", "--cancel-share", "-0.1"},
		{"loadtest", "--flow", "--connections", "0"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb, os.Getenv); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"loadtest", "--target", "ftp://x", "--duration", "1s"}, &out, &errb, os.Getenv); code != 1 {
		t.Errorf("bad target: exit %d, want 1", code)
	}
}

func TestParseWrk(t *testing.T) {
	report := `Running 5s test @ http://127.0.0.1:41000/api/v1/rooms/bench/tickets
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.91ms    1.20ms  31.62ms   84.12%
    Req/Sec    22.10k     1.31k   24.73k    70.00%
  Latency Distribution
     50%    2.71ms
     75%    3.26ms
     90%    4.03ms
     99%    7.05ms
  110000 requests in 5.00s, 29.05MB read
  Non-2xx or 3xx responses: 10000
  Socket errors: connect 0, read 1, write 2, timeout 3
Requests/sec:  21998.87
Transfer/sec:      5.81MB
`
	r, err := parseWrk(report)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 20000 || r.p50 != 2710*time.Microsecond || r.p99 != 7050*time.Microsecond || r.errors != 10006 {
		t.Errorf("got %+v", r)
	}
	r, err = parseWrk("  5000 requests in 1.00m, 1MB read\n  Latency Distribution\n     50%  850.00us\n     99%    1.20s\n")
	if err != nil || r.rps != 5000.0/60 || r.p50 != 850*time.Microsecond || r.p99 != 1200*time.Millisecond || r.errors != 0 {
		t.Errorf("got %+v, %v", r, err)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("garbage accepted")
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc (Linux)")
	}
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) {
	}
	d, err := procCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Fatalf("procCPU = %v, %v", d, err)
	}
}

func TestPairedRatio(t *testing.T) {
	rr := func(v ...float64) []roundResult {
		var out []roundResult
		for _, x := range v {
			out = append(out, roundResult{rps: x})
		}
		return out
	}
	for _, c := range []struct {
		name       string
		scen, base []roundResult
		want       float64
	}{
		{"one round", rr(90), rr(100), 0.9},
		// The machine was slow in round 2, while the scenario ran in
		// round 3 too: the ratio of the medians is 54/100, the paired
		// ratio sees 0.9 in two rounds of three.
		{"drift", rr(90, 54, 54), rr(100, 60, 100), 0.9},
		{"median of three", rr(80, 95, 100), rr(100, 100, 100), 0.95},
		{"even count", rr(80, 90), rr(100, 100), 0.85},
		{"zero baseline skipped", rr(50, 90), rr(0, 100), 0.9},
		{"no rounds", nil, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := pairedRatio(c.scen, c.base); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("pairedRatio = %v, want %v", got, c.want)
			}
		})
	}
}
