package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// FlowConfig is a run of whole citizen journeys over HTTP, through the
// published API only (docs/API.md), so that it can load any deployment
// (`sluice loadtest --flow`).
type FlowConfig struct {
	// Targets are the servers' base URLs (http://host:port[/prefix]).
	// People are spread over them; each person's whole journey goes to
	// one (on one keep-alive connection), although any node serves anyone.
	Targets []string
	// Cohort is the id of the cohort whose people book (default "53-54");
	// one of its windows must be open on the servers' clock.
	Cohort string
	// Connections is the number of people in their journey at once, each
	// on a keep-alive connection of its own (default 64).
	Connections int
	// Warmup runs journeys that are not measured; Duration is the measured
	// window that follows (required, at most MaxDuration).
	Warmup, Duration time.Duration
	// ChangeShare and CancelShare are the shares of people who, once
	// booked, change their appointment or cancel it (0..1, sum at most 1).
	ChangeShare, CancelShare float64
	// TestIdentitySecret is the server's SLUICE_TEST_IDENTITY_SECRET: with
	// it the verification code of a test phone is derived from the
	// challenge id (booking.TestIdentityCode). Without it, only a demo
	// server, which returns the code in its answer, can be loaded.
	TestIdentitySecret []byte
	// Seed chooses the people (0: random), so that runs against the same
	// server do not meet the same people.
	Seed uint64
	// RequestTimeout bounds each request (default 15s: longer than a
	// server's own deadline, request_timeout, 10 s by default, so that a
	// server that answers "503, try again" at its deadline is heard, not
	// taken for a lost answer).
	RequestTimeout time.Duration
	// Window, if set, is called when the measured window begins (true)
	// and when it ends (false), e.g. to read the servers' CPU time.
	Window func(begin bool)
	// Progress, if set, is called about once a second.
	Progress func(FlowProgress)
	// Booked, if set, is called from the workers (concurrently) for each
	// booking a look-up confirmed, before the person perhaps changes or
	// cancels it: tests check the bookings through the server's own API.
	Booked func(p Person, bookingNumber string)
	// Acked, if set, is called from the workers (concurrently) for each
	// booking, change and cancellation whose success answer arrived, in
	// the order each person got them: what the servers acknowledged and
	// must keep (`sluice loadtest --flow --acked FILE`); and for each
	// change or cancellation whose answer never came (Unacknowledged).
	Acked func(Acked)
	// RetryBudget, if set, is how long a person keeps at their journey
	// through faults: a step whose answer was lost or that was told to
	// come back later (a connection dropped, 5xx, 503 + Retry-After, rate
	// limited) is sent again, backing off, for as long as the journey is
	// younger than the budget; a booking, change or cancellation with its
	// Idempotency-Key, a confirmation as it was. A journey still failing
	// when the budget is spent fails with "over_budget". Without it, each
	// step is retried a few times only.
	RetryBudget time.Duration
	// Districts and Dates, if set, are the only ones people search (by
	// default every district, and first doses on the days from two to
	// 28 days ahead): a few of them make people contest the same slots.
	Districts []string
	Dates     []booking.Date
}

// Acked is a booking form the server acknowledged (FlowConfig.Acked).
type Acked struct {
	Kind   string `json:"kind"` // "book", "change" or "cancel"
	Name   string `json:"name"`
	RRN    string `json:"rrn"`
	Number string `json:"booking_number"`
	// The first-dose slot booked or changed to (not for "cancel").
	Clinic int64  `json:"clinic_id,omitempty"`
	Date   string `json:"date,omitempty"`
	Block  int    `json:"block"`
	// Unacknowledged marks a change or cancellation that was sent but
	// whose answer never came (lost until the retry budget or the run
	// ran out): it may or may not have been done, so a check accepts the
	// booking as it was before or after it.
	Unacknowledged bool `json:"unacknowledged,omitempty"`
}

// FlowProgress is the state of a run, for a progress line.
type FlowProgress struct {
	Elapsed   time.Duration // since the start, warm-up included
	Measuring bool          // in the measured window
	// Since the start of the measured window (of the run while warming up).
	Flows, Failed, Errors uint64
}

// ErrNoVerificationCode stops a run against a server that neither returns
// verification codes (a demo) nor shares a test identity secret with it.
var ErrNoVerificationCode = errors.New("the server returned no verification code (only `sluice demo` does): " +
	"start the server with SLUICE_TEST_IDENTITY_SECRET and give the load generator the same secret (docs/CONFIG.md)")

// errRunOver ends a journey that the end of the run cut short: it is
// neither completed nor failed.
var errRunOver = errors.New("the run is over")

// RunFlow runs journeys on cfg.Connections connections until the end of
// the measured window and returns what the window saw and its length.
func RunFlow(ctx context.Context, cfg FlowConfig) (*FlowStats, time.Duration, error) {
	if cfg.Connections <= 0 {
		cfg.Connections = 64
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	if cfg.Cohort == "" {
		cfg.Cohort = "53-54"
	}
	switch {
	case cfg.Duration <= 0 || cfg.Duration > MaxDuration || cfg.Warmup < 0 || cfg.Warmup > MaxDuration:
		return nil, 0, fmt.Errorf("sim: duration must be in (0, %v] and warm-up in [0, %v]", MaxDuration, MaxDuration)
	case len(cfg.Targets) == 0:
		return nil, 0, errors.New("sim: no target")
	case !(cfg.ChangeShare >= 0 && cfg.CancelShare >= 0 && cfg.ChangeShare+cfg.CancelShare <= 1):
		return nil, 0, errors.New("sim: the change and cancel shares must be >= 0 and add up to at most 1")
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64() | 1
	}
	plan, err := newFlowPlan(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	run := &flowRun{plan: plan}
	start := time.Now()
	run.end = start.Add(cfg.Warmup + cfg.Duration)
	wctx, cancel := context.WithDeadline(ctx, run.end)
	defer cancel()

	windowAt := start.Add(cfg.Warmup)
	var windowStart time.Time
	beginWindow := func() {
		windowStart = time.Now()
		run.beginWindow(cfg.Window)
	}
	if cfg.Warmup == 0 {
		beginWindow()
	}
	workers := make([]*flowWorker, cfg.Connections)
	var wg sync.WaitGroup
	for i := range workers {
		w := newFlowWorker(run, &plan.targets[i%len(plan.targets)], uint64(i))
		workers[i] = w
		wg.Go(func() { w.loop(wctx) })
	}
	// The clock of the run: warm-up, window, progress.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for wctx.Err() == nil {
		if !run.measuring.Load() && !time.Now().Before(windowAt) {
			beginWindow()
		}
		if !run.measuring.Load() {
			timer.Reset(time.Until(windowAt))
		}
		select {
		case <-wctx.Done():
		case <-timer.C:
		case <-tick.C:
			if cfg.Progress != nil {
				cfg.Progress(run.progress(time.Since(start)))
			}
		}
		if err := run.fatal.Load(); err != nil {
			cancel()
			wg.Wait()
			return nil, 0, *err
		}
	}
	windowEnd := time.Now()
	if cfg.Window != nil && run.measuring.Load() {
		cfg.Window(false)
	}
	wg.Wait()
	if err := run.fatal.Load(); err != nil {
		return nil, 0, *err
	}
	if windowStart.IsZero() { // cancelled during the warm-up
		return &FlowStats{}, 0, ctx.Err()
	}
	total := &FlowStats{}
	for _, w := range workers {
		total.Merge(&w.stats)
	}
	if windowEnd.After(run.end) {
		windowEnd = run.end
	}
	return total, windowEnd.Sub(windowStart), ctx.Err()
}

// flowPlan is what every worker shares, read-only: where to go and whom
// to send.
type flowPlan struct {
	cfg       FlowConfig
	targets   []flowTarget
	room      string
	people    *People
	districts []string
	dates     []booking.Date // first-dose dates people ask for
	// vaccines the cohort may book; a person searches for one of them. A
	// server that does not list them gets searches without a vaccine.
	vaccines []string
}

type flowTarget struct {
	addr, host, prefix string
}

// flowRun is the state of a run that workers and the run's clock share.
type flowRun struct {
	plan      *flowPlan
	end       time.Time
	next      atomic.Uint64 // the next person
	measuring atomic.Bool
	// Counted from the start, then again from the window's start.
	flows, failed, errs atomic.Uint64
	fatal               atomic.Pointer[error]
}

func (r *flowRun) beginWindow(window func(bool)) {
	r.flows.Store(0)
	r.failed.Store(0)
	r.errs.Store(0)
	r.measuring.Store(true)
	if window != nil {
		window(true)
	}
}

func (r *flowRun) progress(elapsed time.Duration) FlowProgress {
	return FlowProgress{Elapsed: elapsed, Measuring: r.measuring.Load(),
		Flows: r.flows.Load(), Failed: r.failed.Load(), Errors: r.errs.Load()}
}

func (r *flowRun) stop(err error) { r.fatal.CompareAndSwap(nil, &err) }

func parseTarget(s string) (flowTarget, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.RawQuery != "" {
		return flowTarget{}, fmt.Errorf("target %q: want an http:// URL (TLS is not supported)", s)
	}
	t := flowTarget{addr: u.Host, host: u.Host, prefix: strings.TrimRight(u.Path, "/")}
	if u.Port() == "" {
		t.addr += ":80"
	}
	return t, nil
}

// Regions is the answer of GET /api/v1/regions as far as a client of the
// published API needs it: the districts' codes, region by region.
type Regions struct {
	Regions []struct {
		Districts []struct {
			Code string `json:"code"`
		} `json:"districts"`
	} `json:"regions"`
}

// DistrictCodes are the codes of all the districts, in the order listed.
func (r Regions) DistrictCodes() []string {
	var codes []string
	for _, region := range r.Regions {
		for _, d := range region.Districts {
			codes = append(codes, d.Code)
		}
	}
	return codes
}

// newFlowPlan reads the campaign and the regions from the first target:
// the cohort's birth dates, whether its window is open now, the booking
// room, the districts and the dates to book.
func newFlowPlan(ctx context.Context, cfg FlowConfig) (*flowPlan, error) {
	p := &flowPlan{cfg: cfg}
	for _, s := range cfg.Targets {
		t, err := parseTarget(s)
		if err != nil {
			return nil, err
		}
		p.targets = append(p.targets, t)
	}
	w := newFlowWorker(&flowRun{plan: p, end: time.Now().Add(time.Minute)}, &p.targets[0], 0)
	defer w.conn.Close()
	var camp struct {
		Now     string `json:"now"`
		Room    string `json:"room"`
		Cohorts []struct {
			ID       string   `json:"id"`
			BornFrom string   `json:"born_from"`
			BornTo   string   `json:"born_to"`
			Vaccines []string `json:"vaccines"`
		} `json:"cohorts"`
		Windows []struct {
			Cohort   string `json:"cohort_id"`
			OpenNow  bool   `json:"open_now"`
			DayDigit *int   `json:"birth_day_digit"`
		} `json:"windows_today"`
	}
	if err := w.do(ctx, -1, w.get("/api/v1/campaign"), 200, &camp); err != nil {
		return nil, fmt.Errorf("reading the campaign from %s: %w", cfg.Targets[0], err)
	}
	now, err := time.Parse(time.RFC3339, camp.Now)
	if err != nil || camp.Room == "" {
		return nil, fmt.Errorf("%s: the campaign answer has no time or room", cfg.Targets[0])
	}
	p.room = camp.Room
	var from, to booking.Date
	for _, c := range camp.Cohorts {
		if c.ID == cfg.Cohort {
			from, _ = booking.ParseDate(c.BornFrom)
			to, _ = booking.ParseDate(c.BornTo)
			p.vaccines = c.Vaccines
		}
	}
	if from.IsZero() || to.IsZero() {
		return nil, fmt.Errorf("%s: the campaign has no cohort %q", cfg.Targets[0], cfg.Cohort)
	}
	digit := -2
	for _, win := range camp.Windows {
		if win.Cohort == cfg.Cohort && win.OpenNow {
			digit = -1
			if win.DayDigit != nil {
				digit = *win.DayDigit
			}
		}
	}
	if digit == -2 {
		return nil, fmt.Errorf("%s: no window of cohort %s is open at the server's time %s; "+
			"use a server whose clock is inside one (e.g. `sluice demo --at 2021-07-19T20:00:00+09:00`, or a campaign file with a window open now)",
			cfg.Targets[0], cfg.Cohort, camp.Now)
	}
	if p.people, err = NewPeople(from, to, digit, cfg.Seed); err != nil {
		return nil, err
	}
	var regions Regions
	if err := w.do(ctx, -1, w.get("/api/v1/regions"), 200, &regions); err != nil {
		return nil, fmt.Errorf("reading the regions from %s: %w", cfg.Targets[0], err)
	}
	p.districts = regions.DistrictCodes()
	if len(cfg.Districts) > 0 {
		for _, d := range cfg.Districts {
			if !slices.Contains(p.districts, d) {
				return nil, fmt.Errorf("%s: no district %q", cfg.Targets[0], d)
			}
		}
		p.districts = cfg.Districts
	}
	if len(p.districts) == 0 {
		return nil, fmt.Errorf("%s: no districts", cfg.Targets[0])
	}
	// First doses from the day after tomorrow (so that changing and
	// cancelling online are still allowed) for four weeks, no Sundays.
	today := booking.DateOf(now)
	for d := 2; d <= 28; d++ {
		if day := today.AddDays(d); day.Weekday() != time.Sunday {
			p.dates = append(p.dates, day)
		}
	}
	if len(cfg.Dates) > 0 {
		p.dates = cfg.Dates
	}
	return p, nil
}
