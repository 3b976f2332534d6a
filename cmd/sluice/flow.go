package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/atomicfile"
	"github.com/sluicehq/sluice/internal/lockedio"
	"github.com/sluicehq/sluice/internal/randid"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
)

const (
	// kindFlow is the child server of --flow.
	kindFlow = "serve-flow"
	// flowClockDefault is where the child's clock starts: the opening of
	// the 53-54 window of the July 2021 campaign.
	flowClockDefault = "2021-07-19T20:00:00+09:00"
	flowCampaign     = "2021-07-50s"
	flowRoom         = "vaccine"
	// The child's booking room is opened wide, so that what is measured
	// is the journey, not the pacing.
	flowRoomCapacity = 1_000_000
	flowRoomRate     = 100_000
	// targetP6 is issue 10's target for one node with the embedded store.
	targetP6 = 2_000_000
)

// startFlowServer starts the server of --flow: what `sluice serve` builds
// with the July 2021 campaign, the embedded store (SQLite,
// synchronous=FULL) in a temporary directory, the booking room opened
// wide, the test identity provider with secret, and a clock that starts at
// `at` and runs on in real time. shutdown stops it and removes the
// directory.
func startFlowServer(addr string, at time.Time, secret []byte) (a *app.App, shutdown func(context.Context) error, err error) {
	dir, err := os.MkdirTemp("", "sluice-flow-")
	if err != nil {
		return nil, nil, err
	}
	cfg := config.Default()
	cfg.Addr = addr
	cfg.LogLevel = "warn"
	cfg.Keys = room.GenerateKeyring("flow")
	cfg.Rooms = []config.RoomConfig{{Name: flowRoom, RoomTuning: config.RoomTuning{Capacity: new(flowRoomCapacity), Rate: new(float64(flowRoomRate))}}}
	cfg.Booking = config.Booking{Campaign: flowCampaign, Database: filepath.Join(dir, "sluice.db"), Room: flowRoom}
	cfg.PersonKeySecret = []byte(randid.New(32))
	cfg.SessionKeys = seal.Generate("flow")
	cfg.TestIdentitySecret = secret
	a, err = app.New(cfg, app.Options{Clock: clock.NewSettable(at)})
	if err == nil {
		err = a.Start()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return a, func(ctx context.Context) error {
		err := a.Shutdown(ctx)
		os.RemoveAll(dir)
		return err
	}, nil
}

// runFlowChild is the child process of --flow: startFlowServer with the
// secret the parent put in SLUICE_TEST_IDENTITY_SECRET.
func runFlowChild(addr, at string) (url string, shutdown func(context.Context) error, err error) {
	start, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return "", nil, fmt.Errorf("--at %q: want an RFC 3339 time like %s", at, flowClockDefault)
	}
	secret, err := config.TestIdentitySecret(os.Getenv)
	if err != nil {
		return "", nil, err
	}
	a, shutdown, err := startFlowServer(addr, start, secret)
	if err != nil {
		return "", nil, err
	}
	return a.URL(), shutdown, nil
}

type flowOpts struct {
	targets                  string // comma-separated; "" starts a child
	duration, warmup         time.Duration
	conns                    int
	jsonFile                 string
	changeShare, cancelShare float64
	cohort, at               string
	seed                     uint64
	profileDir               string
	progress                 bool // a progress line on stderr (a terminal)
	retryBudget              time.Duration
	ackedFile                string
}

// flowJSON is what --json writes: the report and how it was made.
type flowJSON struct {
	sim.FlowReport
	Targets       []string `json:"targets"`
	ChildServer   bool     `json:"child_server"`
	Connections   int      `json:"connections"`
	WarmupSeconds float64  `json:"warmup_seconds"`
	ChangeShare   float64  `json:"change_share"`
	CancelShare   float64  `json:"cancel_share"`
	// RetryBudgetSeconds is --retry-budget (0: a few retries per step).
	RetryBudgetSeconds float64 `json:"retry_budget_seconds"`
	// Acked is how many forms the servers acknowledged (--acked).
	Acked       uint64   `json:"acked"`
	Machine     string   `json:"machine"`
	LoadAverage []string `json:"load_average"` // at the start and at the end
}

func runFlow(ctx context.Context, stdout, stderr io.Writer, getenv func(string) string, o flowOpts) error {
	secret, err := config.TestIdentitySecret(getenv)
	if err != nil {
		return err
	}
	var targets []string
	var srv *child
	if o.targets == "" {
		if secret == nil {
			secret = []byte(randid.New(32))
		}
		srv, err = startChild(ctx, stderr, kindFlow, []string{"SLUICE_TEST_IDENTITY_SECRET=" + string(secret)}, "--at", o.at)
		if err != nil {
			return err
		}
		defer srv.stop()
		targets = []string{srv.URL}
	} else {
		for _, t := range strings.Split(o.targets, ",") {
			if t = strings.TrimSpace(t); t != "" {
				targets = append(targets, t)
			}
		}
	}
	machine := machineLine()
	load0 := loadavg()
	fmt.Fprintln(stdout, machine)
	fmt.Fprintf(stdout, "load average at the start: %s\n", load0)
	if srv != nil {
		fmt.Fprintf(stdout, "server: child process %d at %s (campaign %s, SQLite synchronous=FULL, room %s capacity %d rate %d/s, clock from %s)\n",
			srv.Pid(), srv.URL, flowCampaign, flowRoom, flowRoomCapacity, flowRoomRate, o.at)
	} else {
		fmt.Fprintf(stdout, "targets: %s (people spread over them; server CPU unknown: not a child of this run)\n", strings.Join(targets, ", "))
	}
	fmt.Fprintf(stdout, "%d people at a time, warm-up %v, measured %v, change %.0f%%, cancel %.0f%%\n",
		o.conns, o.warmup, o.duration, 100*o.changeShare, 100*o.cancelShare)

	var serverCPU, clientCPU [2]time.Duration
	var cpuErr error
	profiling := false
	var selfProfile *os.File
	window := func(begin bool) {
		i := 1
		if begin {
			i = 0
		}
		var err error
		if srv != nil {
			serverCPU[i], err = procCPU(srv.Pid())
			cpuErr = errors.Join(cpuErr, err)
		}
		clientCPU[i], err = procCPU(os.Getpid())
		cpuErr = errors.Join(cpuErr, err)
		if o.profileDir == "" {
			return
		}
		if !begin {
			pprof.StopCPUProfile()
			if selfProfile != nil {
				selfProfile.Close()
			}
			if profiling {
				srv.command(ctx, "cpuprofile-stop")
			}
			return
		}
		selfProfile, err = os.Create(filepath.Join(o.profileDir, "cpu-loadgen.pprof"))
		if err == nil {
			err = pprof.StartCPUProfile(selfProfile)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sluice loadtest: load generator cpu profile: %v\n", err)
		}
		if srv != nil {
			f, err := filepath.Abs(filepath.Join(o.profileDir, "cpu-flow.pprof"))
			if err == nil {
				var line string
				line, err = srv.command(ctx, "cpuprofile "+f)
				if err == nil && line != "ok" {
					err = errors.New(line)
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "sluice loadtest: server cpu profile: %v\n", err)
			}
			profiling = err == nil
		}
	}
	var progress func(sim.FlowProgress)
	if o.progress {
		progress = func(p sim.FlowProgress) {
			phase := "warm-up"
			if p.Measuring {
				phase = "measured"
			}
			fmt.Fprintf(stderr, "\r\033[K%5.0fs %s: %d journeys, %d failed, %d error answers",
				p.Elapsed.Seconds(), phase, p.Flows, p.Failed, p.Errors)
		}
	}
	var acked func(sim.Acked)
	var ackedN atomic.Uint64
	var ackedErr atomic.Pointer[error]
	if o.ackedFile != "" {
		f, err := os.Create(o.ackedFile)
		if err != nil {
			return err
		}
		defer f.Close()
		out := &lockedio.Writer{W: f}
		// Written as they come, so that what was acknowledged is on file
		// whatever happens to this run.
		acked = func(a sim.Acked) {
			b, _ := json.Marshal(a)
			if _, err := out.Write(append(b, '\n')); err != nil {
				ackedErr.CompareAndSwap(nil, &err)
			}
			ackedN.Add(1)
		}
	}
	stats, elapsed, err := sim.RunFlow(ctx, sim.FlowConfig{
		Targets: targets, Cohort: o.cohort, Connections: o.conns, Warmup: o.warmup, Duration: o.duration,
		ChangeShare: o.changeShare, CancelShare: o.cancelShare, TestIdentitySecret: secret, Seed: o.seed,
		Window: window, Progress: progress, RetryBudget: o.retryBudget, Acked: acked,
	})
	if o.progress {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if err := ackedErr.Load(); err != nil {
		return fmt.Errorf("--acked: %w", *err)
	}
	rep := stats.Report(elapsed)
	if cpuErr == nil {
		if srv != nil {
			rep.ServerCPUMsPerFlow = rep.PerFlowMs(serverCPU[1] - serverCPU[0])
		}
		rep.ClientCPUMsPerFlow = rep.PerFlowMs(clientCPU[1] - clientCPU[0])
	}
	load1 := loadavg()
	fmt.Fprintf(stdout, "load average at the end: %s\n\n", load1)
	writeFlowReport(stdout, &rep, srv != nil)
	if o.jsonFile != "" {
		out := flowJSON{FlowReport: rep, Targets: targets, ChildServer: srv != nil, Connections: o.conns,
			WarmupSeconds: o.warmup.Seconds(), ChangeShare: o.changeShare, CancelShare: o.cancelShare,
			RetryBudgetSeconds: o.retryBudget.Seconds(), Acked: ackedN.Load(),
			Machine: machine, LoadAverage: []string{load0, load1}}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(o.jsonFile, append(b, '\n')); err != nil {
			return err
		}
	}
	if rep.Flows == 0 {
		return errors.New("no journey was completed")
	}
	return nil
}

func writeFlowReport(w io.Writer, r *sim.FlowReport, child bool) {
	fmt.Fprintf(w, "complete journeys: %d in %.1f s = %.1f per second = %.0f per hour\n", r.Flows, r.Seconds, r.FlowsPerSecond, r.FlowsPerHour)
	fmt.Fprintf(w, "failed journeys:   %d (%.3f%% of the journeys that ended); error answers %.4f per journey\n",
		r.FailedFlows, 100*r.ErrorRate, r.ErrorsPerFlow)
	switch {
	case r.ServerCPUMsPerFlow != nil:
		fmt.Fprintf(w, "server CPU:        %.3f ms per journey (user+system of the child server)\n", *r.ServerCPUMsPerFlow)
	case child:
		fmt.Fprintln(w, "server CPU:        unknown (could not read /proc)")
	default:
		fmt.Fprintln(w, "server CPU:        unknown (the target is not a child of this run)")
	}
	if r.ClientCPUMsPerFlow != nil {
		fmt.Fprintf(w, "load generator CPU: %.3f ms per journey (on the same machine)\n", *r.ClientCPUMsPerFlow)
	}
	if child {
		verdict := "met"
		if r.FlowsPerHour < targetP6 || r.ErrorRate >= 0.01 {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "target P6 (one node, embedded store: >= %d journeys per hour, errors < 1%%): %s\n", targetP6, verdict)
	}
	fmt.Fprintln(w, "\n| step | requests | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|")
	for _, name := range append(sim.StepNames(), "journey") {
		l, ok := r.Steps[name]
		if name == "journey" {
			l, ok = r.Journey, r.Journey.Count > 0
		}
		if ok {
			fmt.Fprintf(w, "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms |\n", name, l.Count, l.P50, l.P95, l.P99, l.Max)
		}
	}
	if len(r.FailedBy) > 0 {
		fmt.Fprintln(w, "\n| failed journeys ended by | journeys |\n|---|---|")
		for _, c := range slices.Sorted(maps.Keys(r.FailedBy)) {
			fmt.Fprintf(w, "| %s | %d |\n", c, r.FailedBy[c])
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "\n| error code | answers |\n|---|---|")
		for _, c := range r.ErrorCodes() {
			fmt.Fprintf(w, "| %s | %d |\n", c, r.Errors[c])
		}
	}
	fmt.Fprintln(w)
}

// isTerminal reports whether w is a terminal (for a progress line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
