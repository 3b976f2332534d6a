package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
)

type compareOpts struct {
	rounds           int
	duration, warmup time.Duration
	conns            int
	client           string
	wrkThreads       int
	wrkScripts       string
	behind           int
	minRatio         float64
	sameRequest      bool
	profileDir       string
}

// roundResult is one round of one scenario, whatever the client.
type roundResult struct {
	rps      float64 // 2xx responses per second
	p50, p99 time.Duration
	errors   uint64
	statuses string
	cpu      time.Duration // server CPU time (user+system) per 2xx response
}

func runCompare(ctx context.Context, stdout, stderr io.Writer, o compareOpts) error {
	if o.client != "go" && o.client != "wrk" {
		return fmt.Errorf("--client %q: use go or wrk", o.client)
	}
	if o.client == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			return errors.New("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
		}
		for _, f := range []string{"wrk-join.lua", "wrk-status.lua"} {
			if _, err := os.Stat(filepath.Join(o.wrkScripts, f)); err != nil {
				return fmt.Errorf("--wrk-scripts: %v", err)
			}
		}
	}
	base, err := startChild(ctx, stderr, childBaseline, nil)
	if err != nil {
		return err
	}
	defer base.stop()
	sl, err := startChild(ctx, stderr, childSluice, nil)
	if err != nil {
		return err
	}
	defer sl.stop()
	t, err := sim.Join(ctx, sl.URL, benchRoom, o.behind)
	if err != nil {
		return err
	}
	if t.State != string(room.StateWaiting) {
		return fmt.Errorf("status ticket is %q, not waiting", t.State)
	}
	fmt.Fprintln(stdout, machineLine())
	fmt.Fprintf(stdout, "load average at the start: %s\n", loadavg())
	fmt.Fprintf(stdout, "client: %s, %d connections, %d rounds of %v per scenario (interleaved), warm-up %v\n",
		o.client, o.conns, o.rounds, o.duration, o.warmup)
	fmt.Fprintf(stdout, "baseline: %s (bare net/http, constant %d-byte JSON)\n", base.URL, len(sim.BaselineBody))
	fmt.Fprintf(stdout, "sluice:   %s (room %q, capacity 1, rate 1/s; status ticket at position %d, %s)\n\n",
		sl.URL, benchRoom, t.Position, t.State)

	type scen struct {
		name string
		srv  *child
		req  sim.Request
		path string
		lua  string
		same int // index of the bare handler given the same request, or -1
	}
	joinPath, statusPath := "/api/v1/rooms/"+benchRoom+"/tickets", "/api/v1/rooms/"+benchRoom+"/status"
	scens := []scen{
		{sim.ScenarioBaseline, base, sim.BaselineRequest(base.Addr), "/", "", -1},
		{sim.ScenarioJoin, sl, sim.JoinRequest(sl.Addr, benchRoom), joinPath, "wrk-join.lua", -1},
		{sim.ScenarioStatus, sl, sim.StatusRequest(sl.Addr, benchRoom, t.Ticket), statusPath, "wrk-status.lua", -1},
	}
	if o.sameRequest {
		// The bare handler answers any request alike, so it can be given
		// exactly the join and status requests: the ratio to those
		// isolates what Sluice adds from what parsing the longer request
		// costs net/http.
		scens = []scen{
			scens[0],
			{"bare-join", base, sim.JoinRequest(base.Addr, benchRoom), joinPath, "wrk-join.lua", -1},
			{sim.ScenarioJoin, sl, sim.JoinRequest(sl.Addr, benchRoom), joinPath, "wrk-join.lua", 1},
			{"bare-status", base, sim.StatusRequest(base.Addr, benchRoom, t.Ticket), statusPath, "wrk-status.lua", -1},
			{sim.ScenarioStatus, sl, sim.StatusRequest(sl.Addr, benchRoom, t.Ticket), statusPath, "wrk-status.lua", 3},
		}
	}
	runOnce := func(s scen, d time.Duration) (roundResult, error) {
		if o.client == "wrk" {
			var args []string
			if s.lua != "" {
				args = append(args, "-s", filepath.Join(o.wrkScripts, s.lua))
			}
			return runWrk(ctx, s.srv.URL+s.path, t.Ticket, d, o.conns, o.wrkThreads, args...)
		}
		res, err := sim.Run(ctx, sim.Config{Addr: s.srv.Addr, Request: s.req, Connections: o.conns, Duration: d})
		if err != nil {
			return roundResult{}, err
		}
		return roundResult{rps: res.RPS(), p50: res.Latency.Quantile(0.5), p99: res.Latency.Quantile(0.99),
			errors: res.Errors(), statuses: res.StatusSummary()}, nil
	}
	// run is one round, with the server's CPU time per response: unlike
	// req/s, it hardly depends on what else the machine is doing.
	run := func(s scen, d time.Duration) (roundResult, error) {
		cpu0, _ := procCPU(s.srv.Pid())
		start := time.Now()
		rr, err := runOnce(s, d)
		elapsed := time.Since(start)
		if cpu1, cerr := procCPU(s.srv.Pid()); err == nil && cerr == nil && rr.rps > 0 {
			rr.cpu = time.Duration(float64(cpu1-cpu0) / (rr.rps * min(elapsed, d).Seconds()))
		}
		return rr, err
	}
	if o.warmup > 0 {
		for _, s := range scens {
			if _, err := run(s, o.warmup); err != nil {
				return fmt.Errorf("warm-up %s: %w", s.name, err)
			}
		}
	}
	results := make([][]roundResult, len(scens))
	for r := 1; r <= o.rounds; r++ {
		for i, s := range scens {
			profiling := o.profileDir != "" && r == 1
			srv := s.srv
			if profiling {
				f, err := filepath.Abs(filepath.Join(o.profileDir, "cpu-"+s.name+".pprof"))
				if err != nil {
					return err
				}
				if line, err := srv.command(ctx, "cpuprofile "+f); err != nil || line != "ok" {
					return fmt.Errorf("cpu profile: %q %v", line, err)
				}
			}
			rr, err := run(s, o.duration)
			if profiling {
				srv.command(ctx, "cpuprofile-stop")
			}
			if err != nil {
				return fmt.Errorf("round %d %s: %w", r, s.name, err)
			}
			results[i] = append(results[i], rr)
			fmt.Fprintf(stdout, "round %d %-11s %9.0f req/s  server CPU %5.1fµs/req  p50 %-9v p99 %-9v responses %s\n", r, s.name, rr.rps,
				float64(rr.cpu)/1e3, rr.p50.Round(time.Microsecond), rr.p99.Round(time.Microsecond), rr.statuses)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", loadavg())
	sameCol, sameSep := "", ""
	if o.sameRequest {
		sameCol, sameSep = " ratio to bare handler, same request |", "---|"
	}
	fmt.Fprintf(stdout, "\n| scenario | req/s per round | median req/s | ratio to baseline | paired ratio (median of rounds) |%s server CPU per request (median) | CPU ratio (baseline/scenario) | p50 (median) | p99 (median) | errors |\n", sameCol)
	fmt.Fprintf(stdout, "|---|---|---|---|---|%s---|---|---|---|---|\n", sameSep)
	baseMedian := median(results[0], func(r roundResult) float64 { return r.rps })
	baseCPU := median(results[0], func(r roundResult) float64 { return float64(r.cpu) })
	failed := false
	for i, s := range scens {
		var per []string
		var errs uint64
		for _, r := range results[i] {
			per = append(per, strconv.FormatFloat(r.rps, 'f', 0, 64))
			errs += r.errors
		}
		m := median(results[i], func(r roundResult) float64 { return r.rps })
		ratio := m / baseMedian
		p50 := time.Duration(median(results[i], func(r roundResult) float64 { return float64(r.p50) }))
		p99 := time.Duration(median(results[i], func(r roundResult) float64 { return float64(r.p99) }))
		cpu := median(results[i], func(r roundResult) float64 { return float64(r.cpu) })
		same := ""
		if o.sameRequest {
			same = " |"
			if s.same >= 0 {
				same = fmt.Sprintf(" %.3f |", m/median(results[s.same], func(r roundResult) float64 { return r.rps }))
			}
		}
		paired := pairedRatio(results[i], results[0])
		fmt.Fprintf(stdout, "| %s | %s | %.0f | %.3f | %.3f |%s %.1f µs | %.3f | %v | %v | %d |\n", s.name, strings.Join(per, ", "), m, ratio,
			paired, same, cpu/1e3, baseCPU/cpu, p50.Round(time.Microsecond), p99.Round(time.Microsecond), errs)
		if s.srv == sl && (min(ratio, paired) < o.minRatio || errs > 0) {
			failed = true
		}
	}
	fmt.Fprintln(stdout)
	if failed {
		return fmt.Errorf("a ratio is below --min-ratio %.2f or there were errors", o.minRatio)
	}
	return nil
}

// pairedRatio is the median over rounds of the scenario's req/s divided by
// the baseline's in the same round. Rounds are interleaved, so a round's
// baseline ran seconds before the scenario: the per-round ratio cancels
// slow drift in what else the machine is doing, which the ratio of the two
// medians does not.
func pairedRatio(rs, base []roundResult) float64 {
	var ratios []float64
	for i := range min(len(rs), len(base)) {
		if base[i].rps > 0 {
			ratios = append(ratios, rs[i].rps/base[i].rps)
		}
	}
	return medianOf(ratios)
}

func median(rs []roundResult, f func(roundResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return medianOf(v)
}

// medianOf sorts v and returns its median (0 for none).
func medianOf(v []float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkErrors   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$`)
)

// runWrk runs wrk once and reads its report: 2xx req/s (wrk's own
// Requests/sec counts every response), p50 and p99.
func runWrk(ctx context.Context, url, ticket string, d time.Duration, conns, threads int, extra ...string) (roundResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := append([]string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs) + "s", "--latency"}, extra...)
	args = append(args, url)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Env = append(os.Environ(), "SLUICE_TICKET="+ticket)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return roundResult{}, fmt.Errorf("wrk %s: %v: %s", strings.Join(args, " "), err, out.String())
	}
	return parseWrk(out.String())
}

func parseWrk(s string) (roundResult, error) {
	m := wrkRequests.FindStringSubmatch(s)
	if m == nil {
		return roundResult{}, fmt.Errorf("cannot read wrk's report: %q", s)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	el := wrkDuration(m[2], m[3])
	var bad uint64
	if m := wrkNon2xx.FindStringSubmatch(s); m != nil {
		bad, _ = strconv.ParseUint(m[1], 10, 64)
	}
	var r roundResult
	r.errors = bad
	if m := wrkErrors.FindStringSubmatch(s); m != nil {
		for _, x := range m[1:] {
			v, _ := strconv.ParseUint(x, 10, 64)
			r.errors += v
		}
	}
	if el > 0 {
		r.rps = float64(n-min(bad, n)) / el.Seconds()
	}
	for _, m := range wrkPct.FindAllStringSubmatch(s, -1) {
		v := wrkDuration(m[2], m[3])
		if m[1] == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	r.statuses = fmt.Sprintf("total:%d non-2xx:%d errors:%d", n, bad, r.errors-bad)
	return r, nil
}

func wrkDuration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	switch unit {
	case "us":
		return time.Duration(f * float64(time.Microsecond))
	case "ms":
		return time.Duration(f * float64(time.Millisecond))
	case "m":
		return time.Duration(f * float64(time.Minute))
	}
	return time.Duration(f * float64(time.Second))
}

// machineLine describes the machine and the Go runtime for a report.
func machineLine() string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("machine: %d CPUs (%s), GOMAXPROCS %d, %s %s/%s", runtime.NumCPU(), model,
		runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
