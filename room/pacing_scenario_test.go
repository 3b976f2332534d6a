package room

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/pacereport"
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

// runPacingScenario runs people through a room with auto pacing in front
// of a simBackend on a manual clock, changing the backend's capacity at
// the phases, and returns per-second statistics.
func runPacingScenario(t *testing.T, phases []pacereport.Phase, total time.Duration, people int) []pacereport.Second {
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
		stats    = make([]pacereport.Second, int(total/time.Second)+1)
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
		sec.C, sec.Rate = be.c, r.Settings().Rate
		sec.Limit, _ = h.limit.current()
		if be.failing {
			sec.C = 0
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
			sec.Busy++
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
				sec.Failed++
				p.nextAt = now.Add(time.Second)
				return true
			}
			sec.OK++
			sec.Latencies = append(sec.Latencies, now.Sub(q.queued))
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
	phases := []pacereport.Phase{{At: 0, C: 40}, {At: phaseLen, C: 20}, {At: 2 * phaseLen, C: 40},
		{At: 3 * phaseLen, C: 0}, {At: 3*phaseLen + 10*time.Second, C: 40}}
	total := 4*phaseLen + 10*time.Second
	stats := runPacingScenario(t, phases, total, 60_000)
	for i, res := range pacereport.Judge(phases, total, 100*time.Millisecond, target, stats) {
		t.Logf("phase %d %v", i, res)
		if res.Recovered > 10 {
			t.Errorf("phase %d: p95 over the objective until %d s after the change, want within 10 s", i, res.Recovered)
		}
		// The first phase starts from the configured rate (20, a fifth of
		// the backend's capacity): in the short form its last third is
		// still warming up.
		if res.C > 0 && res.Used < 0.85 && (i > 0 || full) {
			t.Errorf("phase %d: %.0f%% of the backend's capacity used in steady state, want at least 85%%", i, 100*res.Used)
		}
	}
	if testing.Verbose() {
		for s, st := range stats {
			fmt.Printf("%3ds %v\n", s, st)
		}
	}
}
