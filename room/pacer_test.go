package room

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

func TestPacingValidate(t *testing.T) {
	ok := Pacing{}.withDefaults()
	if ok.Mode != PacingFixed || ok.TargetP95 != 800*time.Millisecond || ok.MaxErrorRate != 0.01 || ok.MinRate != 1 || ok.MaxRate != 1000 {
		t.Fatalf("defaults: %+v", ok)
	}
	for _, tc := range []struct {
		change func(p *Pacing)
		field  string
	}{
		{func(p *Pacing) {}, ""},
		{func(p *Pacing) { p.Mode = PacingAuto }, ""},
		{func(p *Pacing) { p.Mode = "Auto" }, "pacing.mode"},
		{func(p *Pacing) { p.TargetP95 = time.Millisecond }, "pacing.target_p95"},
		{func(p *Pacing) { p.TargetP95 = 2 * time.Minute }, "pacing.target_p95"},
		{func(p *Pacing) { p.MaxErrorRate = 1 }, "pacing.max_error_rate"},
		{func(p *Pacing) { p.MaxErrorRate = -0.1 }, "pacing.max_error_rate"},
		{func(p *Pacing) { p.MaxErrorRate = math.NaN() }, "pacing.max_error_rate"},
		{func(p *Pacing) { p.MinRate = 0 }, "pacing.min_rate"},
		{func(p *Pacing) { p.MaxRate = 2e6 }, "pacing.max_rate"},
		{func(p *Pacing) { p.MinRate, p.MaxRate = 10, 5 }, "pacing.max_rate"},
	} {
		s := Settings{Name: "r"}.WithDefaults()
		tc.change(&s.Pacing)
		err := s.Validate()
		var se *SettingError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: refused: %v", s.Pacing, err)
		case tc.field != "" && (!errors.As(err, &se) || se.Field != tc.field):
			t.Errorf("%+v: %v, want a problem with %s", s.Pacing, err, tc.field)
		}
	}
}

func TestHealthWindow(t *testing.T) {
	clk := clock.NewManual(t0)
	h := NewHealth(clk)
	if r := h.Read(); r.Requests != 0 || r.P95 != 0 || r.Stalled {
		t.Fatalf("empty: %+v", r)
	}
	// 100 answers: 94 at 100 ms, 6 at 1 s of which 2 failed.
	for i := range 100 {
		lat, failed := 100*time.Millisecond, false
		if i >= 94 {
			lat, failed = time.Second, i >= 98
		}
		h.Observe(lat, failed)
	}
	r := h.Read()
	if r.Requests != 100 || r.ErrorRate != 0.02 || r.P95 < time.Second || r.P95 > 1100*time.Millisecond {
		t.Fatalf("reading %+v: want 100 requests, error rate 0.02, p95 about 1s", r)
	}
	// The window slides: after HealthWindow they are gone.
	clk.Advance(HealthWindow + healthSliceLen)
	if r := h.Read(); r.Requests != 0 {
		t.Fatalf("after the window: %+v", r)
	}
	// A request in flight that never ends: stalled after a window.
	done, ok := h.Acquire(context.Background())
	if !ok {
		t.Fatal("Acquire refused while not limiting")
	}
	clk.Advance(HealthWindow)
	if r := h.Read(); !r.Stalled || r.InFlight != 1 {
		t.Fatalf("a request unanswered for a window: %+v, want stalled", r)
	}
	done(true)
	if r := h.Read(); r.Stalled || r.InFlight != 0 || r.ErrorRate != 1 {
		t.Fatalf("after it failed: %+v", r)
	}
}

// The in-flight limit holds a request over it until a place is free and
// refuses it (503 backend_busy) when none comes within the hold.
func TestInFlightLimitHoldsThenRefuses(t *testing.T) {
	l := newInFlightLimit()
	for range initialLimit {
		if !l.acquire(context.Background(), 0) {
			t.Fatal("a place under the limit was refused")
		}
	}
	if l.acquire(context.Background(), 0) {
		t.Fatal("a place over the limit was given without holding")
	}
	got := make(chan bool)
	go func() { got <- l.acquire(context.Background(), time.Minute) }()
	for {
		l.mu.Lock()
		n := len(l.held)
		l.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	l.release(t0, 10*time.Millisecond, false)
	if !<-got {
		t.Fatal("a held request was not let through when a place came free")
	}
	l.limit = float64(l.inFlight) // full again
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if l.acquire(ctx, time.Minute) {
		t.Fatal("a held request whose client left was let through")
	}
	if len(l.held) != 0 {
		t.Fatalf("%d requests still held", len(l.held))
	}
}

// The limit grows while answers come as fast as unloaded and shrinks when
// they slow down past the tolerance; fast failures do not shrink it.
func TestInFlightLimitAdapts(t *testing.T) {
	l := newInFlightLimit()
	now := t0
	l.inFlight = initialLimit
	for range 20 {
		now = now.Add(10 * time.Millisecond)
		l.adapt(now, 100*time.Millisecond, false)
	}
	grown := l.limit
	if grown <= initialLimit {
		t.Fatalf("limit %v after fast answers with the limit used, want above %d", grown, initialLimit)
	}
	for range 20 {
		now = now.Add(10 * time.Millisecond)
		l.adapt(now, 5*time.Millisecond, true) // 503s at once
	}
	if l.limit < grown {
		t.Fatalf("fast failures cut the limit from %v to %v", grown, l.limit)
	}
	now = now.Add(time.Second)
	l.adapt(now, time.Second, false)
	if l.limit >= grown || l.slowStart {
		t.Fatalf("a slow answer left the limit at %v (slow start %v), want a cut", l.limit, l.slowStart)
	}
}

// Pacer.Step as a table: each signal and what it does to the rate.
func TestPacerStep(t *testing.T) {
	cfg := Pacing{Mode: PacingAuto, TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}
	ok := HealthReading{P95: 100 * time.Millisecond, Requests: 100, InFlight: 5, Limit: 50}
	for _, tc := range []struct {
		name   string
		pacer  Pacer
		rate   float64
		h      HealthReading
		demand bool
		want   float64 // 0: unchanged
		reason string
	}{
		{"all well, people waiting: grows", Pacer{}, 100, ok, true, 104, "within the objective"},
		{"all well, nobody waiting: holds", Pacer{}, 100, ok, false, 0, ""},
		{"near the knee: creeps", Pacer{}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, InFlight: 40, Limit: 50}, true, 101, "within"},
		{"at the limit: holds", Pacer{}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, InFlight: 48, Limit: 50}, true, 0, ""},
		{"below the last good rate: recovers fast", Pacer{good: 100}, 10, ok, true, 15, "within"},
		{"p95 in the headroom: holds", Pacer{}, 100, HealthReading{P95: 700 * time.Millisecond, Requests: 100}, true, 0, ""},
		{"p95 over: cut", Pacer{}, 100, HealthReading{P95: time.Second, Requests: 100}, true, 75, "p95 1s above the objective 800ms"},
		{"p95 far over: deep cut", Pacer{}, 100, HealthReading{P95: 4 * time.Second, Requests: 100}, true, 50, "p95 4s above"},
		{"too few answers to judge p95", Pacer{}, 100, HealthReading{P95: 4 * time.Second, Requests: 3}, false, 0, ""},
		{"errors over: cut", Pacer{}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, ErrorRate: 0.05}, true, 75, "error rate 5.0%"},
		{"failing: min_rate", Pacer{}, 100, HealthReading{Requests: 100, ErrorRate: 0.9}, true, 1, "backend failing"},
		{"no answer: min_rate", Pacer{}, 100, HealthReading{InFlight: 7, Stalled: true}, true, 1, "not answering"},
		{"refused busy: cut", Pacer{}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, Busy: 3, Limit: 20}, true, 75, "no place in flight"},
		{"many held: gentle cut", Pacer{}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, Held: 30, Limit: 20}, true, 90, "held at the gate"},
		{"limit fell: cut in proportion", Pacer{limitRef: 40}, 100, HealthReading{P95: 100 * time.Millisecond, Requests: 100, Limit: 20}, true, 50, "lost capacity"},
		{"out of bounds: into them", Pacer{}, 5000, HealthReading{}, false, 1000, "bounds"},
		{"cut just made: no second", Pacer{lastCut: t0.Add(-time.Second), cutP95: time.Second}, 100, HealthReading{P95: time.Second, Requests: 100}, true, 0, ""},
		{"worse a round later: cut again", Pacer{lastCut: t0.Add(-2 * time.Second), cutP95: time.Second}, 100, HealthReading{P95: 1500 * time.Millisecond, Requests: 100}, true, 53.333, "above"},
	} {
		p := tc.pacer
		rate, reason, changed := p.Step(t0, PaceInput{Pacing: cfg, Rate: tc.rate, Health: tc.h, Demand: tc.demand})
		want := tc.want
		if want == 0 {
			want = tc.rate
		}
		if changed != (tc.want != 0) || math.Abs(rate-want) > 0.01 || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: Step = %v %q changed %v, want %v with %q", tc.name, rate, reason, changed, want, tc.reason)
		}
		// A second step within PaceEvery changes nothing.
		if _, _, again := p.Step(t0.Add(PaceEvery/2), PaceInput{Pacing: cfg, Rate: rate, Health: tc.h, Demand: tc.demand}); again {
			t.Errorf("%s: a second step within %v changed the rate", tc.name, PaceEvery)
		}
	}
}

// A room in auto pacing moves its rate from the gate's measurements on its
// ticks, writes it into the line's controls and logs why; an operator's
// rate (pacing fixed) stops it.
func TestRoomPacesFromHealth(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 1000, Rate: 10, Pacing: Pacing{Mode: PacingAuto}}, nil)
	var log strings.Builder
	f.r.SetLog(slog.New(slog.NewTextHandler(&log, nil)))
	f.joinN(2000)
	// The backend answers in 2 s (p95 over the 800 ms objective).
	h := f.r.Health()
	for range paceMinSamples {
		done, _ := h.Acquire(context.Background())
		f.clk.Advance(200 * time.Millisecond)
		done(false)
		h.Observe(2*time.Second, false)
	}
	f.tick()
	if got := f.r.Settings().Rate; got >= 10 {
		t.Fatalf("rate %v after a p95 of 2s, want cut below 10", got)
	}
	if v, _ := f.r.shared.View(bg, f.r.name); v.Controls.Rate != f.r.Settings().Rate {
		t.Fatalf("the line's rate %v, the room's %v: the pacer's rate must be a control", v.Controls.Rate, f.r.Settings().Rate)
	}
	if !strings.Contains(log.String(), "pacing: admission rate changed") || !strings.Contains(log.String(), "above the objective") {
		t.Fatalf("no log line with the reason: %s", log.String())
	}
	if ch := f.r.LastPaceChange(); ch.From != 10 || ch.To != f.r.Settings().Rate || f.r.PaceChanges() != 1 {
		t.Fatalf("last change %+v, %d changes", ch, f.r.PaceChanges())
	}
	// The operator sets a rate: fixed, the pacer leaves it alone.
	if _, err := f.r.Update(func(s *Settings) { s.Rate, s.Pacing.Mode = 42, PacingFixed }); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if got := f.r.Settings().Rate; got != 42 {
		t.Fatalf("rate %v after the operator set 42 (fixed)", got)
	}
}

// The gate measures what it lets through and, while the room's pacing is
// auto, answers 503 backend_busy when no place in flight comes in time.
func TestGateMeasuresAndBounds(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 10, Rate: 1000}, nil)
	pass := f.status(f.joinN(1)[0]).Pass
	gate := &Gate{Verifier: f.r, Health: f.r.Health}
	h := gate.Guard(func(w http.ResponseWriter, r *http.Request, _ Pass) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}, nil)
	for _, path := range []string{"/ok", "/fail"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set(PassHeader, pass)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if r := f.r.Health().Read(); r.Requests != 2 || r.ErrorRate != 0.5 {
		t.Fatalf("after one good and one failed answer: %+v", r)
	}
	// Limiting on, every place taken: refused at once with no hold left.
	hl := f.r.Health()
	hl.SetLimiting(true)
	for range initialLimit {
		hl.limit.acquire(context.Background(), 0)
	}
	req := httptest.NewRequest("GET", "/ok", nil)
	req.Header.Set(PassHeader, pass)
	ctx, cancel := context.WithCancel(req.Context())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"backend_busy"`) || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("no place in flight: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if r := hl.Read(); r.Busy != 1 {
		t.Fatalf("busy %d, want 1", r.Busy)
	}
}

// StatusWait answers at once for people far back, and holds a person near
// the front until their turn comes.
func TestStatusWaitWakesAtTurn(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 1, Rate: 1000}, nil)
	first := f.joinN(1)[0]
	p := f.pass(f.status(first))
	next := f.joinN(1)[0]
	got := make(chan Status, 1)
	go func() {
		st, err := f.r.StatusWait(context.Background(), next, 5*time.Second, 0)
		if err != nil {
			t.Error(err)
		}
		got <- st
	}()
	for {
		f.r.handover.mu.Lock()
		n := f.r.handover.waiting.Len()
		f.r.handover.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := f.r.Leave(p); err != nil {
		t.Fatal(err)
	}
	if st := <-got; st.State != StateAdmitted || st.Pass == "" {
		t.Fatalf("held status after the place ahead was given back: %+v, want admitted", st)
	}
	// Far back (expected well after the wait): answered at once.
	f.joinN(5000)
	far := f.joinN(1)[0]
	st, err := f.r.StatusWait(context.Background(), far, time.Second, 0)
	if err != nil || st.State != StateWaiting || st.PollAfter == 0 {
		t.Fatalf("far back: %+v %v", st, err)
	}
}

// The pacer's own changes of rate are no operator's: the estimates of the
// people in line never rise while the line flows, however often it cuts.
func TestPacedEstimatesNeverRise(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 100_000, Rate: 50, Pacing: Pacing{Mode: PacingAuto}}, nil)
	f.r.SetLog(slog.New(slog.DiscardHandler))
	tickets := f.joinN(3000)
	last := make(map[int]time.Duration)
	h := f.r.Health()
	for step := range 1200 {
		// A backend that turns slow half way: the pacer cuts the rate.
		lat := 100 * time.Millisecond
		if step > 400 {
			lat = 3 * time.Second
		}
		for range 20 {
			h.Observe(lat, false)
		}
		f.advance(50 * time.Millisecond)
		for _, i := range []int{2000, 2500, 2999} {
			st := f.status(tickets[i])
			if st.State != StateWaiting {
				continue
			}
			if prev, ok := last[i]; ok && st.ETA > prev {
				t.Fatalf("step %d: person %d told %v after %v (rate %v)", step, i, st.ETA, prev, f.r.Settings().Rate)
			}
			last[i] = st.ETA
		}
	}
	if f.r.PaceChanges() == 0 || f.r.Settings().Rate >= 50 {
		t.Fatalf("the pacer did not cut (rate %v, %d changes): the test shows nothing", f.r.Settings().Rate, f.r.PaceChanges())
	}
}
