package room

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"testing"
	"time"
)

// simBackend is a backend like the one issue 11 describes: it serves C
// requests in flight at a base latency and slows down past C, faster
// than linearly (it tips into collapse: throughput falls as the load
// rises); while failing it answers 503 at once.
type simBackend struct {
	c       int
	base    time.Duration
	failing bool
}

func (b *simBackend) latency(inFlight int) (time.Duration, bool) {
	if b.failing {
		return 5 * time.Millisecond, true
	}
	over := max(1, float64(inFlight)/float64(b.c))
	return time.Duration(float64(b.base) * over * over), false
}

type simPerson struct {
	ticket  Ticket
	pass    string
	p       Pass
	nextAt  time.Time // when they send their next request
	left    int       // requests still to make
	waiting bool      // a request of theirs is queued or in flight
}

type simRequest struct {
	person *simPerson
	queued time.Time
	done   func(failed bool)
	endAt  time.Time
	failed bool
}

// phase of a pacing scenario: from At, the backend has capacity C (0:
// failing).
type simPhase struct {
	At time.Duration
	C  int
}

type secondStats struct {
	ok, failed, busy int
	latencies        []time.Duration
	c                int
	rate, limit      float64
}

// runPacingScenario runs people through a room with auto pacing in front
// of a simBackend on a manual clock, changing the backend's capacity at
// the phases, and returns per-second statistics.
func runPacingScenario(t *testing.T, phases []simPhase, total time.Duration, people int) []secondStats {
	const (
		dt       = 10 * time.Millisecond
		tick     = 50 * time.Millisecond
		notice   = time.Second            // an admitted person notices their turn, then acts
		think    = 500 * time.Millisecond // between one person's requests
		requests = 4                      // each person makes 4 requests, then leaves
	)
	s := Settings{Capacity: 100_000, Rate: 20, ClaimTimeout: time.Minute, PassTTL: 10 * time.Minute,
		Pacing: Pacing{Mode: PacingAuto, TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}}
	f := newFixture(t, s, nil)
	r := f.r
	if os.Getenv("PACE_LOG") == "" {
		r.SetLog(slog.New(slog.DiscardHandler))
	}
	h := r.Health()
	tickets := f.joinN(people)
	persons := make([]*simPerson, len(tickets))
	for i, tk := range tickets {
		persons[i] = &simPerson{ticket: tk}
	}
	be := &simBackend{base: 100 * time.Millisecond}
	var (
		active   []*simPerson
		queue    []*simRequest // held at the gate
		inFlight []*simRequest
		next     int // the next person to learn of their turn
		stats    = make([]secondStats, int(total/time.Second)+1)
		start    = f.clk.Now()
	)
	phase := 0
	for el := time.Duration(0); el < total; el += dt {
		for phase < len(phases) && phases[phase].At <= el {
			be.c, be.failing = phases[phase].C, phases[phase].C == 0
			if be.failing {
				be.c = max(1, phases[phase-1].C)
			}
			phase++
		}
		f.clk.Advance(dt)
		now := f.clk.Now()
		sec := &stats[int(now.Sub(start)/time.Second)]
		if el%tick == 0 {
			f.tick()
		}
		sec.c, sec.rate = be.c, r.Settings().Rate
		sec.limit, _ = h.limit.current()
		if be.failing {
			sec.c = 0
		}
		// People whose turn has come collect their pass and act a moment
		// later; nobody's turn is skipped.
		for serving := r.serving.Load(); next < len(persons) && r.position(persons[next].ticket) <= serving; next++ {
			p := persons[next]
			st := f.status(p.ticket)
			p.pass, p.p = st.Pass, f.pass(st)
			p.nextAt, p.left = now.Add(notice), requests
			active = append(active, p)
		}
		// Their requests go through the gate: a pass, then a place in flight.
		for _, p := range active {
			if p.waiting || p.left == 0 || now.Before(p.nextAt) {
				continue
			}
			if _, err := r.VerifyPass(p.pass); err != nil {
				t.Fatalf("a person with a pass was refused at the gate: %v", err)
			}
			p.waiting = true
			queue = append(queue, &simRequest{person: p, queued: now})
		}
		limited := h.limiting.Load()
		for len(queue) > 0 {
			q := queue[0]
			if limited && !h.limit.tryAcquire() {
				break
			}
			queue = queue[1:]
			q.done = h.begin(q.queued, limited)
			lat, failed := be.latency(len(inFlight) + 1)
			q.endAt, q.failed = now.Add(lat), failed
			inFlight = append(inFlight, q)
		}
		// Held too long: refused (503 backend_busy); the person tries again
		// a second later.
		for len(queue) > 0 && now.Sub(queue[0].queued) >= MaxHold {
			q := queue[0]
			queue = queue[1:]
			h.refuse()
			sec.busy++
			q.person.waiting, q.person.nextAt = false, now.Add(time.Second)
		}
		h.held.Store(int64(len(queue)))
		inFlight = slices.DeleteFunc(inFlight, func(q *simRequest) bool {
			if now.Before(q.endAt) {
				return false
			}
			q.done(q.failed)
			p := q.person
			p.waiting = false
			if q.failed {
				sec.failed++
				p.nextAt = now.Add(time.Second)
				return true
			}
			sec.ok++
			sec.latencies = append(sec.latencies, now.Sub(q.queued))
			p.left--
			p.nextAt = now.Add(think)
			if p.left == 0 {
				if err := r.Leave(p.p); err != nil {
					t.Fatal(err)
				}
			}
			return true
		})
		active = slices.DeleteFunc(active, func(p *simPerson) bool { return p.left == 0 })
	}
	if next == len(persons) {
		t.Fatalf("the line ran out: join more than %d people", people)
	}
	return stats
}

func p95(l []time.Duration) time.Duration {
	if len(l) == 0 {
		return 0
	}
	l = slices.Clone(l)
	slices.Sort(l)
	return l[int(math.Ceil(0.95*float64(len(l))))-1]
}

// TestPacingScenario runs the whole loop (gate, in-flight limit, health,
// pacer, room) on a manual clock against a backend whose capacity halves,
// recovers and then fails for 10 s (issue 11's targets, P9): within 10 s
// of every change the p95 people see is back under the objective, in
// steady state at least 85% of the backend's capacity is used, nobody
// loses their place and nobody gets through without a pass. The short
// form takes 30 s phases (the first one is warm-up); SLUICE_PACING_FULL=1
// runs 60 s phases. Steady state is the last third of a phase.
func TestPacingScenario(t *testing.T) {
	phaseLen := 30 * time.Second
	full := os.Getenv("SLUICE_PACING_FULL") == "1"
	if full {
		phaseLen = time.Minute
	}
	const target = 800 * time.Millisecond
	phases := []simPhase{{0, 40}, {phaseLen, 20}, {2 * phaseLen, 40}, {3 * phaseLen, 0}, {3*phaseLen + 10*time.Second, 40}}
	total := 4*phaseLen + 10*time.Second
	stats := runPacingScenario(t, phases, total, 60_000)
	base := 100 * time.Millisecond
	for i, ph := range phases {
		from := int(ph.At / time.Second)
		to := int(total / time.Second)
		if i+1 < len(phases) {
			to = int(phases[i+1].At / time.Second)
		}
		// Recovery: the last second of the phase whose p95 missed the
		// objective.
		recovered := 0
		for s := from; s < to; s++ {
			if p95(stats[s].latencies) > target {
				recovered = s - from + 1
			}
		}
		var used, cap float64
		steady := to - (to-from)/3
		for s := steady; s < to; s++ {
			used += float64(stats[s].ok)
			cap += float64(stats[s].c) / base.Seconds()
		}
		var lats []time.Duration
		var busy int
		for s := steady; s < to; s++ {
			lats = append(lats, stats[s].latencies...)
			busy += stats[s].busy
		}
		share := used / max(cap, 1)
		t.Logf("phase %d (from %v, capacity %d in flight): p95 back under %v after %ds; steady state: %.0f%% of capacity used, p95 %v, %d refused busy, rate %.1f",
			i, ph.At, ph.C, target, recovered, 100*share, p95(lats), busy, stats[to-1].rate)
		if recovered > 10 {
			t.Errorf("phase %d: p95 over the objective until %d s after the change, want within 10 s", i, recovered)
		}
		// The first phase starts from the configured rate (20, a fifth of
		// the backend's capacity): in the short form its last third is
		// still warming up.
		if ph.C > 0 && share < 0.85 && (i > 0 || full) {
			t.Errorf("phase %d: %.0f%% of the backend's capacity used in steady state, want at least 85%%", i, 100*share)
		}
	}
	if testing.Verbose() {
		for s, st := range stats {
			fmt.Printf("%3ds c=%2d rate=%7.1f ok=%4d failed=%3d busy=%3d p95=%v limit=%.1f\n", s, st.c, st.rate, st.ok, st.failed, st.busy, p95(st.latencies), st.limit)
		}
	}
}
