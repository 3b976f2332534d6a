package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
)

const loadtestUsage = `Usage:
  sluice loadtest --compare [--rounds 3] [--duration 5s] [--connections 64] [--client go|wrk]
      Start a bare net/http baseline server and a full Sluice server (child
      processes), then alternate rounds of baseline, join (POST tickets) and
      status (GET status, waiting ticket) and print req/s, the ratios to the
      baseline (medians of the rounds) and latency percentiles.
  sluice loadtest --memory N [--connections 64]
      Start a Sluice server (child process), warm it up, issue N tickets as
      fast as possible and print the server's resident memory before and after.
  sluice loadtest --target URL --scenario join|status|baseline [--room NAME] [--duration 10s]
      Load one running server. join and status use the room (default "demo");
      baseline sends GET to the URL as given.

Flags:
`

// The children of --compare and --memory, started by re-running this binary.
const (
	childBaseline = "serve-baseline"
	childSluice   = "serve-sluice"
	benchRoom     = "bench"
)

func runLoadtest(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case childBaseline, childSluice:
			return runChild(args[0], args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("sluice loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadtestUsage)
		fs.PrintDefaults()
	}
	compare := fs.Bool("compare", false, "compare join and status with the bare baseline in one run")
	memory := fs.Uint64("memory", 0, "issue this many tickets and report the server's resident memory growth")
	target := fs.String("target", "", "base URL of a running server to load")
	scenario := fs.String("scenario", sim.ScenarioJoin, "with --target: join, status or baseline")
	roomName := fs.String("room", "demo", "with --target: the room to join or poll")
	duration := fs.Duration("duration", 5*time.Second, "length of each round")
	rounds := fs.Int("rounds", 3, "--compare: rounds of each scenario, interleaved")
	warmup := fs.Duration("warmup", time.Second, "--compare: unrecorded warm-up per scenario")
	conns := fs.Int("connections", 64, "keep-alive connections")
	client := fs.String("client", "go", "--compare: load generator, go (built in) or wrk")
	wrkThreads := fs.Int("wrk-threads", 1, "--client wrk: wrk threads")
	wrkScripts := fs.String("wrk-scripts", "scripts", "--client wrk: directory of wrk-join.lua and wrk-status.lua")
	behind := fs.Int("status-behind", 50, "status scenario: join this many times and poll with the last ticket (far back, so \"waiting\")")
	minRatio := fs.Float64("min-ratio", 0, "--compare: exit 1 if a ratio to the baseline is below this")
	sameRequest := fs.Bool("same-request", false, "--compare: also give the bare handler the very join and status requests (bare-join, bare-status rounds)")
	profileDir := fs.String("profile", "", "--compare: write CPU profiles of the servers' first rounds here, cpu-SCENARIO.pprof (skews those rounds)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice loadtest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *duration <= 0 || *duration > sim.MaxDuration || *conns < 1 || *conns > 10000 || *rounds < 1 || *rounds > 100 {
		fmt.Fprintln(stderr, "sluice loadtest: want 0 < --duration <= 1h, 1 <= --connections <= 10000, 1 <= --rounds <= 100")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, ok := stderr.(*os.File); !ok {
		// Children copy their stderr into it from goroutines of their own.
		stderr = &lockedWriter{w: stderr}
	}
	var err error
	switch {
	case *compare:
		err = runCompare(ctx, stdout, stderr, compareOpts{
			rounds: *rounds, duration: *duration, warmup: *warmup, conns: *conns,
			client: *client, wrkThreads: *wrkThreads, wrkScripts: *wrkScripts,
			behind: *behind, minRatio: *minRatio, profileDir: *profileDir, sameRequest: *sameRequest,
		})
	case *memory > 0:
		err = runMemory(ctx, stdout, stderr, *memory, *conns)
	case *target != "":
		err = runTarget(ctx, stdout, *target, *scenario, *roomName, *duration, *conns, *behind)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice loadtest:", err)
		return 1
	}
	return 0
}

// ---- one running server ----

func runTarget(ctx context.Context, stdout io.Writer, target, scenario, roomName string, d time.Duration, conns, behind int) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--target %q: want an http:// URL (TLS is not supported)", target)
	}
	if u.Port() == "" {
		u.Host += ":80"
	}
	var req sim.Request
	switch scenario {
	case sim.ScenarioJoin:
		req = sim.JoinRequest(u.Host, roomName)
	case sim.ScenarioStatus:
		t, err := sim.Join(ctx, "http://"+u.Host, roomName, behind)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "status ticket: state %s, position %d\n", t.State, t.Position)
		req = sim.StatusRequest(u.Host, roomName, t.Ticket)
	case sim.ScenarioBaseline:
		req = sim.Request{Method: "GET", Host: u.Host, Path: u.RequestURI()}
	default:
		return fmt.Errorf("--scenario %q: use join, status or baseline", scenario)
	}
	res, err := sim.Run(ctx, sim.Config{Addr: u.Host, Request: req, Connections: conns, Duration: d})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %.0f req/s (2xx) over %v with %d connections; p50 %v p99 %v max %v; responses %s\n",
		scenario, res.RPS(), res.Elapsed.Round(time.Millisecond), conns,
		res.Latency.Quantile(0.5).Round(time.Microsecond), res.Latency.Quantile(0.99).Round(time.Microsecond),
		res.Latency.Max().Round(time.Microsecond), res.StatusSummary())
	if res.FirstError != nil {
		fmt.Fprintf(stdout, "first network error: %v\n", res.FirstError)
	}
	return nil
}

// ---- child servers ----

// child is a server started as a child process of this run. Its stdin is a
// command channel ("gc", "stats", "cpuprofile FILE", "cpuprofile-stop");
// when stdin closes it exits, so it cannot outlive the run.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	URL   string
	Addr  string
}

func startChild(ctx context.Context, stderr io.Writer, kind string, extra ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"loadtest", kind, "--addr", "127.0.0.1:0"}, extra...)...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	line, err := c.reply(ctx, 15*time.Second)
	if err != nil || !strings.HasPrefix(line, "ready ") {
		c.stop()
		return nil, fmt.Errorf("%s did not start: %q %v", kind, line, err)
	}
	c.URL = strings.TrimPrefix(line, "ready ")
	c.Addr = strings.TrimPrefix(c.URL, "http://")
	return c, nil
}

func (c *child) reply(ctx context.Context, timeout time.Duration) (string, error) {
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", errors.New("child exited")
		}
		return line, nil
	case <-time.After(timeout):
		return "", errors.New("child did not answer")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// command sends one command and returns the child's one-line answer.
func (c *child) command(ctx context.Context, cmd string) (string, error) {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return "", err
	}
	return c.reply(ctx, 30*time.Second)
}

func (c *child) Pid() int { return c.cmd.Process.Pid }

// stop closes stdin (the child shuts down) and waits, killing it if it
// takes too long.
func (c *child) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() {
		c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// runChild is a child server: the bare baseline or a full Sluice server
// with one open room "bench" of capacity 1 (so a line forms) and otherwise
// the default configuration, exactly as `sluice serve` builds it.
func runChild(kind string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice loadtest "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	lifetime := fs.Duration("max-lifetime", time.Hour, "exit after this long whatever happens")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var (
		url      string
		shutdown func(context.Context) error
		stats    func() string
	)
	switch kind {
	case childBaseline:
		srv := sim.NewServer(sim.BaselineHandler())
		ln, err := listen(*addr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		go srv.Serve(ln)
		url, shutdown = "http://"+ln.Addr().String(), srv.Shutdown
		stats = func() string { return "" }
	case childSluice:
		cfg := config.Default()
		cfg.Addr = *addr
		cfg.LogLevel = "warn"
		cfg.Keys = room.GenerateKeyring("bench")
		cfg.Rooms = []config.RoomConfig{{Name: benchRoom, Capacity: 1, Rate: 1}}
		a, err := app.New(cfg, app.Options{})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := a.Start(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		url, shutdown = a.URL(), a.Shutdown
		stats = func() string {
			rm, _ := a.Rooms.Get(benchRoom)
			c := rm.Counters()
			return fmt.Sprintf(" joined=%d waiting=%d active=%d", c.Joined, c.Waiting, c.Active)
		}
	}
	fmt.Fprintf(stdout, "ready %s\n", url)
	var prof *os.File
	stopProfile := func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
			prof = nil
		}
	}
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	deadline := time.After(*lifetime)
loop:
	for {
		select {
		case <-sig:
			break loop
		case <-deadline:
			fmt.Fprintln(stderr, kind+": --max-lifetime reached, exiting")
			break loop
		case line, ok := <-cmds:
			if !ok {
				break loop
			}
			cmd, arg, _ := strings.Cut(line, " ")
			switch cmd {
			case "gc":
				runtime.GC()
				debug.FreeOSMemory()
				fmt.Fprintln(stdout, memStats()+stats())
			case "stats":
				fmt.Fprintln(stdout, memStats()+stats())
			case "cpuprofile":
				stopProfile()
				f, err := os.Create(arg)
				if err == nil {
					err = pprof.StartCPUProfile(f)
				}
				if err != nil {
					fmt.Fprintln(stdout, "error", err)
					continue
				}
				prof = f
				fmt.Fprintln(stdout, "ok")
			case "cpuprofile-stop":
				stopProfile()
				fmt.Fprintln(stdout, "ok")
			default:
				fmt.Fprintln(stdout, "error unknown command")
			}
		}
	}
	stopProfile()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shutdown(ctx)
	return 0
}

func memStats() string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("heap_alloc=%d heap_inuse=%d heap_sys=%d sys=%d num_gc=%d total_alloc=%d mallocs=%d",
		m.HeapAlloc, m.HeapInuse, m.HeapSys, m.Sys, m.NumGC, m.TotalAlloc, m.Mallocs)
}

// ---- --compare ----

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
	base, err := startChild(ctx, stderr, childBaseline)
	if err != nil {
		return err
	}
	defer base.stop()
	sl, err := startChild(ctx, stderr, childSluice)
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
	writeMachine(stdout)
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

func writeMachine(w io.Writer) {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	fmt.Fprintf(w, "machine: %d CPUs (%s), GOMAXPROCS %d, %s %s/%s\n", runtime.NumCPU(), model,
		runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
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

// ---- --memory ----

func runMemory(ctx context.Context, stdout, stderr io.Writer, n uint64, conns int) error {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		return errors.New("--memory reads /proc/PID/status: Linux only")
	}
	sl, err := startChild(ctx, stderr, childSluice)
	if err != nil {
		return err
	}
	defer sl.stop()
	writeMachine(stdout)
	join := sim.JoinRequest(sl.Addr, benchRoom)
	issue := func(k uint64) (*sim.Result, error) {
		res, err := sim.Run(ctx, sim.Config{Addr: sl.Addr, Request: join, Connections: conns, Duration: 30 * time.Minute, Requests: k})
		if err != nil {
			return nil, err
		}
		if res.OK != k {
			return res, fmt.Errorf("asked for %d tickets, got %d (%s)", k, res.OK, res.StatusSummary())
		}
		return res, nil
	}
	const warm = 10_000
	if _, err := issue(warm); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(time.Second)
	settled, err := sl.command(ctx, "gc")
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	before, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sluice server pid %d, room %q (capacity 1: everyone waits), %d connections\n", sl.Pid(), benchRoom, conns)
	fmt.Fprintf(stdout, "after %d warm-up joins and a GC: VmRSS %.1f MB (%s)\n", warm, mb(before.rss), settled)
	res, err := issue(n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %d tickets in %v (%.0f joins/s, p99 %v)\n", res.OK, res.Elapsed.Round(time.Millisecond), res.RPS(), res.Latency.Quantile(0.99).Round(time.Microsecond))
	time.Sleep(2 * time.Second)
	after, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	st, _ := sl.command(ctx, "stats")
	fmt.Fprintf(stdout, "2 s later, no forced GC: VmRSS %.1f MB, VmHWM %.1f MB (%s)\n", mb(after.rss), mb(after.hwm), st)
	gc, _ := sl.command(ctx, "gc")
	time.Sleep(time.Second)
	afterGC, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "after a forced GC:       VmRSS %.1f MB (%s)\n\n", mb(afterGC.rss), gc)
	growth := int64(after.rss) - int64(before.rss)
	peak := int64(after.hwm) - int64(before.rss)
	verdict := "met"
	if growth >= 10<<20 || peak >= 10<<20 {
		verdict = "MISSED"
	}
	fmt.Fprintf(stdout, "| tickets | RSS before | RSS after | growth | peak (VmHWM) growth | after forced GC | target < 10 MB |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(stdout, "| %d | %.1f MB | %.1f MB | %+.1f MB | %+.1f MB | %.1f MB | %s |\n", n, mb(before.rss), mb(after.rss),
		float64(growth)/(1<<20), float64(peak)/(1<<20), mb(afterGC.rss), verdict)
	return nil
}

type rssInfo struct{ rss, hwm uint64 }

func rss(pid int) (rssInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssInfo{}, err
	}
	var r rssInfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, _ := strconv.ParseUint(f[0], 10, 64)
		switch k {
		case "VmRSS":
			r.rss = kb << 10
		case "VmHWM":
			r.hwm = kb << 10
		}
	}
	if r.rss == 0 {
		return r, errors.New("no VmRSS in /proc/PID/status")
	}
	return r, nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// procCPU is the user+system CPU time a process has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may contain spaces) in ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	// USER_HZ is 100 on every Linux platform Go supports.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// loadavg is /proc/loadavg's three load averages, or "unknown".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
