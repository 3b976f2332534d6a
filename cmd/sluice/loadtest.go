package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/sluicehq/sluice/internal/lockedio"
	"github.com/sluicehq/sluice/sim"
)

const loadtestUsage = `Usage:
  sluice loadtest --flow [--target URL[,URL...]] [--duration D] [--connections N] [--json FILE]
                  [--change-share 0.05] [--cancel-share 0.02] [--warmup 1s] [--profile DIR]
                  [--retry-budget D] [--acked FILE]
      Whole citizen journeys over HTTP, through the published API: eligibility,
      join the booking room and poll as told, collect the pass, verify identity
      (code), search clinics, book (both doses), look the booking up; a share
      also change or cancel; then return the pass. Without --target it starts
      its own server (child process: July 2021 campaign, embedded SQLite store,
      booking room opened wide, clock from --at); with several targets people
      are spread over them. Prints journeys per second and per hour, latency
      per step, errors by problem code and server CPU per journey (child only).
      Against a server other than a demo, set SLUICE_TEST_IDENTITY_SECRET (or
      _FILE) to the server's (docs/CONFIG.md). With --retry-budget people keep
      at their journey through faults (lost answers, 5xx, 503) for that long,
      sending each form again with its Idempotency-Key; --acked writes every
      booking, change and cancellation the servers acknowledged, one JSON
      object a line, for checking afterwards (docs/RELIABILITY.md).
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

// The children of --compare and --memory, started by re-running this
// binary (kindFlow, the child of --flow, is in flow.go).
const (
	childBaseline = "serve-baseline"
	childSluice   = "serve-sluice"
	benchRoom     = "bench"
)

func runLoadtest(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case childBaseline, childSluice, kindFlow:
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
	flow := fs.Bool("flow", false, "whole citizen journeys (see above)")
	target := fs.String("target", "", "base URL of a running server to load (--flow: a comma-separated list)")
	scenario := fs.String("scenario", sim.ScenarioJoin, "with --target: join, status or baseline")
	roomName := fs.String("room", "demo", "with --target: the room to join or poll")
	duration := fs.Duration("duration", 5*time.Second, "length of each round (--flow: of the measured window)")
	rounds := fs.Int("rounds", 3, "--compare: rounds of each scenario, interleaved")
	warmup := fs.Duration("warmup", time.Second, "--compare: unrecorded warm-up per scenario; --flow: before the measured window")
	conns := fs.Int("connections", 64, "keep-alive connections (--flow: people in their journey at once, one connection each)")
	jsonFile := fs.String("json", "", "--flow: write the report as JSON to this file")
	changeShare := fs.Float64("change-share", 0.05, "--flow: share of people who change their appointment once booked")
	cancelShare := fs.Float64("cancel-share", 0.02, "--flow: share of people who cancel once booked")
	cohort := fs.String("cohort", "53-54", "--flow: the cohort whose people book (its window must be open on the server's clock)")
	at := fs.String("at", flowClockDefault, "--flow without --target: where the child server's clock starts")
	seed := fs.Uint64("seed", 0, "--flow: chooses the people (0: random, so runs against one server meet new people)")
	client := fs.String("client", "go", "--compare: load generator, go (built in) or wrk")
	wrkThreads := fs.Int("wrk-threads", 1, "--client wrk: wrk threads")
	wrkScripts := fs.String("wrk-scripts", "scripts", "--client wrk: directory of wrk-join.lua and wrk-status.lua")
	behind := fs.Int("status-behind", 50, "status scenario: join this many times and poll with the last ticket (far back, so \"waiting\")")
	minRatio := fs.Float64("min-ratio", 0, "--compare: exit 1 if a ratio to the baseline is below this")
	sameRequest := fs.Bool("same-request", false, "--compare: also give the bare handler the very join and status requests (bare-join, bare-status rounds)")
	retryBudget := fs.Duration("retry-budget", 0, "--flow: how long a person keeps retrying through faults (0: a few retries per step)")
	ackedFile := fs.String("acked", "", "--flow: write the acknowledged bookings, changes and cancellations here (JSON lines)")
	profileDir := fs.String("profile", "", "--compare: write CPU profiles of the servers' first rounds here, cpu-SCENARIO.pprof (skews those rounds); --flow: profiles of the measured window, the child server's cpu-flow.pprof and the load generator's cpu-loadgen.pprof")
	if !parseFlags(fs, args) {
		return 2
	}
	if *duration <= 0 || *duration > sim.MaxDuration || *conns < 1 || *conns > 10000 || *rounds < 1 || *rounds > 100 {
		fmt.Fprintln(stderr, "sluice loadtest: want 0 < --duration <= 1h, 1 <= --connections <= 10000, 1 <= --rounds <= 100")
		return 2
	}
	if *flow && !(*changeShare >= 0 && *cancelShare >= 0 && *changeShare+*cancelShare <= 1) {
		fmt.Fprintln(stderr, "sluice loadtest: want --change-share and --cancel-share >= 0, adding up to at most 1")
		return 2
	}
	ctx, stop := untilStopped()
	defer stop()
	progress := isTerminal(stderr)
	if _, ok := stderr.(*os.File); !ok {
		// Children copy their stderr into it from goroutines of their own.
		stderr = &lockedio.Writer{W: stderr}
	}
	var err error
	switch {
	case *flow:
		err = runFlow(ctx, stdout, stderr, getenv, flowOpts{
			targets: *target, duration: *duration, warmup: *warmup, conns: *conns, jsonFile: *jsonFile,
			changeShare: *changeShare, cancelShare: *cancelShare, cohort: *cohort, at: *at, seed: *seed,
			profileDir: *profileDir, progress: progress, retryBudget: *retryBudget, ackedFile: *ackedFile,
		})
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
