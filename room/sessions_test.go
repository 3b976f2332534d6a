package room

import (
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// sessionNight drives the pacer alone against a backend whose load is
// sessions of minutes: every admitted person collects their pass after
// notice, books for one to four minutes and leaves; the backend's p95 is
// base while at most c people book and grows by 2x per 100% over, as in
// the rehearsal's model (sim/rehearsal/backend.go). Demand is unlimited.
// It returns the most people booking at once, the worst p95 and the mean
// share of c used over the last third.
func sessionNight(t *testing.T, c int, maxRate float64, total time.Duration) (peak int, worst time.Duration, used float64) {
	t.Helper()
	const (
		base   = 500 * time.Millisecond
		notice = 5 * time.Second
	)
	cfg := Pacing{Mode: PacingAuto, TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: maxRate}
	var (
		p        Pacer
		rate     = maxRate / 10
		carry    float64
		admitted int
		collects = map[int]int{} // step: people who collect their pass then
		ends     = map[int]int{} // step: people who leave then
		ended    uint64
		n        int // booking now
		sum      float64
		count    int
	)
	stepOf := func(d time.Duration) int { return int(d / PaceEvery) }
	for st := 0; st < stepOf(total); st++ {
		el := time.Duration(st) * PaceEvery
		now := t0.Add(el)
		carry += rate * PaceEvery.Seconds()
		for ; carry >= 1; carry-- {
			admitted++
			length := time.Minute + time.Duration(admitted%31)*6*time.Second // 1 to 4 min
			collects[st+stepOf(notice)]++
			ends[st+stepOf(notice+length)]++
		}
		n += collects[st] - ends[st]
		ended += uint64(ends[st])
		delete(collects, st)
		delete(ends, st)
		p95 := base
		if x := float64(n) / float64(c); x > 1 {
			p95 = time.Duration(float64(base) * (1 + 2*(x-1)))
		}
		peak, worst = max(peak, n), max(worst, p95)
		if el >= total*2/3 {
			sum += float64(n) / float64(c)
			count++
		}
		in := PaceInput{Pacing: cfg, Rate: rate, Demand: true, Active: admitted - int(ended), Ended: ended,
			Health: HealthReading{P95: p95, Requests: 100}}
		if r, _, ok := p.Step(now, in); ok {
			rate = r
		}
	}
	return peak, worst, sum / float64(count)
}

// A backend whose load is sessions of minutes shows a rate in its latency
// only minutes after it was set: the pacer must hold the sessions, not the
// rate, once the p95 nears the objective (the sessions lead the latency),
// and still fill the backend. The backend takes c sessions, about c/150 s
// admissions per second; max_rate is a multiple of that.
func TestPacerSessionsLeadLatency(t *testing.T) {
	for _, tc := range []struct {
		c    int
		over float64 // max_rate over the backend's pace
	}{{20_000, 2}, {40_000, 3.75}, {100_000, 3.5}} {
		t.Run(fmt.Sprint(tc.c, "x", tc.over), func(t *testing.T) {
			maxRate := tc.over * float64(tc.c) / 150
			peak, worst, used := sessionNight(t, tc.c, maxRate, 30*time.Minute)
			t.Logf("%d sessions, max_rate %.0f: peak %d booking (%.2fx), worst p95 %v, %.0f%% of c booking over the last third", tc.c, maxRate, peak, float64(peak)/float64(tc.c), worst, 100*used)
			if worst > time.Second {
				t.Errorf("worst p95 %v: the pacer overshot the backend (peak %d sessions against %d)", worst, peak, tc.c)
			}
			if used < 0.9 {
				t.Errorf("%.0f%% of the backend used in steady state, want at least 90%%", 100*used)
			}
		})
	}
}

// The sessions rule as a table: near the objective a rate above the rate
// places end is cut to it; within the headroom, or with admissions and
// ends within the slack, nothing changes.
func TestPacerHoldsSessions(t *testing.T) {
	cfg := Pacing{Mode: PacingAuto, TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}
	for _, tc := range []struct {
		name  string
		p95   time.Duration
		ended uint64 // in the last 10 s
		want  float64
	}{
		{"near the objective, sessions growing: cut to the ends", 700 * time.Millisecond, 500, 50},
		{"near the objective, ends within the slack: holds", 700 * time.Millisecond, 950, 100},
		{"within the headroom: grows", 300 * time.Millisecond, 500, 104},
	} {
		p := Pacer{ends: []endSample{{at: t0.Add(-paceEndWindow), ended: 1000}}}
		in := PaceInput{Pacing: cfg, Rate: 100, Demand: true, Active: 5000, Ended: 1000 + tc.ended,
			Health: HealthReading{P95: tc.p95, Requests: 100}}
		if rate, reason, _ := p.Step(t0, in); math.Abs(rate-tc.want) > 0.01 {
			t.Errorf("%s: rate %v (%q), want %v", tc.name, rate, reason, tc.want)
		}
	}
}

// Every node of a room measures the rate at which the line's places end,
// whether its pacer leads or not (the figure it exports, and the one a
// node taking the lead starts from); one node leads. Nothing is reported
// while the room does not pace.
func TestEndRateOnEveryNode(t *testing.T) {
	clk := clock.NewManual(t0)
	sh := NewMemShared()
	keys := testKeyring(t, "k1", 1)
	s := Settings{Name: "ends", Capacity: 10, Rate: 1000, Pacing: Pacing{Mode: PacingAuto}}
	var ns []*Room
	for range 2 {
		r, err := NewShared(s, keys, clk, sh, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.SetLog(slog.New(slog.DiscardHandler))
		ns = append(ns, r)
	}
	tickAll := func() {
		t.Helper()
		for _, r := range ns {
			if err := r.Tick(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tickAll() // the first pacing step: no place has ended
	// Four people come and go (through node 0) on the stopped clock; two
	// seconds later the next step sees four places ended.
	for _, tk := range joinTickets(t, ns[0], 4) {
		st, err := ns[0].Status(tk)
		if err != nil || st.State != StateAdmitted {
			t.Fatalf("status: %+v %v", st, err)
		}
		p, err := ns[0].VerifyPass(st.Pass)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns[0].Leave(p); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(paceEndMinSpan)
	tickAll()
	leaders := 0
	for i, r := range ns {
		if got := r.PaceEndRate(); got != 2 {
			t.Errorf("node %d: end rate %v, want 2 per second", i, got)
		}
		if r.PaceLead() {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes lead the room's pacing, want 1", leaders)
	}
	if _, err := ns[1].Update(func(s *Settings) { s.Paused = true }); err != nil {
		t.Fatal(err)
	}
	tickAll()
	for i, r := range ns {
		if r.PaceEndRate() != 0 || r.PaceLead() {
			t.Errorf("node %d while paused: end rate %v, lead %v, want neither", i, r.PaceEndRate(), r.PaceLead())
		}
	}
}
