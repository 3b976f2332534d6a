package room

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// isUncertain reports whether place p is uncertain and not reached yet.
func isUncertain(l *lockedLine, p uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.uncertain {
		if p >= r.From && p < r.To {
			return true
		}
	}
	return false
}

// sessionsOnlyForCertainPlaces fails the test if a passed-over place holds
// a session nobody claimed.
func sessionsOnlyForCertainPlaces(t *testing.T, r *Room) {
	t.Helper()
	l := lineOf(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, sl := range l.slots {
		for _, po := range l.passedOver {
			if p >= po.From && p < po.To {
				t.Errorf("place %d was passed over but holds a session %+v", p, sl)
			}
		}
	}
}

// TestRestartDoesNotStallTheLine: after a crash, the places reserved but
// perhaps never handed out are passed over at once, so a new joiner in an
// otherwise empty line goes in within a few seconds (not after a queue of
// phantom places each holding capacity for a claim timeout); the measured
// admission rate, which ETAs use, does not count the places passed over.
func TestRestartDoesNotStallTheLine(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 5, Rate: 5}
	f := newFixture(t, s, store)
	f.tick()
	f.join() // one real person, admitted
	// kill -9 and a new process on the same state.
	clk := clock.NewManual(f.clk.Now())
	r2 := restart(t, s, f.keys, clk, store)
	tick := func() {
		t.Helper()
		clk.Advance(50 * time.Millisecond)
		if err := r2.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	tok, st, err := r2.Join()
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := r2.VerifyTicket(tok)
	start := clk.Now()
	for st.State != StateAdmitted {
		if waited := clk.Now().Sub(start); waited > 3*time.Second {
			t.Fatalf("a new joiner after the restart still waits after %v: %+v; counters %+v", waited, st, r2.Counters())
		}
		tick()
		if st, err = r2.Status(tk); err != nil {
			t.Fatal(err)
		}
	}
	if c := r2.Counters(); c.Active > 2 {
		t.Errorf("%d sessions after the restart, want the one from before and the new joiner's at most: places passed over hold none", c.Active)
	}
	for range 100 {
		tick()
	}
	if rate := r2.Counters().AdmitRate; rate > s.Rate {
		t.Errorf("measured admission rate %v after the restart, above the room's rate %v: places passed over counted as admissions", rate, s.Rate)
	}
	sessionsOnlyForCertainPlaces(t, r2)
}

// TestUncertainHolderGetsIn: people whose tickets were handed out after
// the last save before a crash (their numbers uncertain, their places
// passed over) still get in when they ask, first when a place frees,
// never told that their turn is over, and the capacity holds.
func TestUncertainHolderGetsIn(t *testing.T) {
	for _, phase := range []string{"open", "prequeue"} {
		t.Run(phase, func(t *testing.T) {
			store := newMemStore()
			s := Settings{Capacity: 2, Rate: 1000, ClaimTimeout: time.Minute, PassTTL: time.Hour}
			if phase == "prequeue" {
				s.PrequeueAt, s.OpensAt = t0, t0.Add(time.Hour)
			}
			f := newFixture(t, s, store)
			f.tick()
			everyone := f.joinN(3)
			f.tick()
			everyone = append(everyone, f.joinN(2)...) // handed out, never saved before the crash
			clk := clock.NewManual(f.clk.Now())
			r2 := restart(t, s, f.keys, clk, store)
			if phase == "prequeue" {
				clk.Set(s.OpensAt)
			}
			passes := map[int]Pass{}
			var active []Pass
			for round := 0; len(passes) < len(everyone) && round < 20; round++ {
				if err := r2.Tick(); err != nil {
					t.Fatal(err)
				}
				for i, tk := range everyone {
					if _, ok := passes[i]; ok {
						continue
					}
					st, err := r2.Status(tk)
					if err != nil {
						t.Fatalf("round %d, ticket %d: %v", round, i, err)
					}
					if st.State == StateAdmitted {
						p, err := r2.VerifyPass(st.Pass)
						if err != nil {
							t.Fatal(err)
						}
						passes[i] = p
						active = append(active, p)
					} else if i >= 3 && st.Position == 0 {
						t.Errorf("round %d, unsaved ticket %d: %+v", round, i, st)
					}
				}
				if c := r2.Counters(); c.Active > s.Capacity {
					t.Fatalf("round %d: %d sessions, capacity %d", round, c.Active, s.Capacity)
				}
				if len(active) > 0 {
					if err := r2.Leave(active[0]); err != nil {
						t.Fatal(err)
					}
					active = active[1:]
				}
				clk.Advance(time.Second)
			}
			if len(passes) != len(everyone) {
				t.Errorf("%d of %d people got in", len(passes), len(everyone))
			}
			if c := r2.Counters(); c.Skipped == 0 {
				t.Errorf("no place was passed over: %+v", c)
			}
		})
	}
}
