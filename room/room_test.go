package room

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// fixture is a room on a manual clock.
type fixture struct {
	t    testing.TB
	clk  *clock.Manual
	keys *Keyring
	r    *Room
}

func newFixture(t testing.TB, s Settings, store Persister) *fixture {
	t.Helper()
	if s.Name == "" {
		s.Name = "vaccine"
	}
	f := &fixture{t: t, clk: clock.NewManual(t0), keys: testKeyring(t, "k1", 1)}
	r, err := New(s, f.keys, f.clk, store)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.r = r
	return f
}

// join joins the room and returns the token, the verified ticket and the
// status that came with it.
func (f *fixture) join() (string, Ticket, Status) {
	f.t.Helper()
	tok, st, err := f.r.Join()
	if err != nil {
		f.t.Fatalf("Join: %v", err)
	}
	tk, err := f.r.VerifyTicket(tok)
	if err != nil {
		f.t.Fatalf("VerifyTicket of a fresh ticket: %v", err)
	}
	return tok, tk, st
}

// joinN joins n people and returns their tickets.
func (f *fixture) joinN(n int) []Ticket {
	f.t.Helper()
	return joinTickets(f.t, f.r, n)
}

// joinTickets joins n people to r and returns their tickets.
func joinTickets(t testing.TB, r *Room, n int) []Ticket {
	t.Helper()
	tickets := make([]Ticket, n)
	for i := range tickets {
		tok, _, err := r.Join()
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		if tickets[i], err = r.VerifyTicket(tok); err != nil {
			t.Fatalf("VerifyTicket of a fresh ticket: %v", err)
		}
	}
	return tickets
}

func (f *fixture) status(tk Ticket) Status {
	f.t.Helper()
	st, err := f.r.Status(tk)
	if err != nil {
		f.t.Fatalf("Status(%+v): %v", tk, err)
	}
	return st
}

func (f *fixture) tick() {
	f.t.Helper()
	if err := f.r.Tick(); err != nil {
		f.t.Fatalf("Tick: %v", err)
	}
}

// advance moves the clock by d and ticks.
func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.clk.Advance(d)
	f.tick()
}

func (f *fixture) pass(st Status) Pass {
	f.t.Helper()
	if st.State != StateAdmitted || st.Pass == "" {
		f.t.Fatalf("status %+v: want admitted with a pass", st)
	}
	p, err := f.r.VerifyPass(st.Pass)
	if err != nil {
		f.t.Fatalf("VerifyPass of a fresh pass: %v", err)
	}
	return p
}

// lineOf is the line of a single node's room.
func lineOf(r *Room) *lockedLine {
	l, err := r.shared.(*MemShared).line(r.name)
	if err != nil {
		panic(err)
	}
	return l
}

// change changes the room's line as change says and applies the result to
// the room's view, as a step on the line would.
func change(r *Room, change func(l *line)) {
	l := lineOf(r)
	l.mu.Lock()
	change(&l.line)
	v := l.view()
	l.mu.Unlock()
	if err := r.apply(v); err != nil {
		panic(err)
	}
}

// addWaiting puts n more people in the open line without signing tickets
// (what n Joins do to the line); used to build long lines cheaply.
func addWaiting(r *Room, n uint64) {
	change(r, func(l *line) {
		l.freeze(r.clock.Now(), r.admitParams(r.settings.Load()))
		l.v.PostSeq += n
		l.v.Joins += n
		l.v.ResvPost = max(l.v.ResvPost, l.v.PostSeq)
	})
}

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []Settings{
		{Name: ""},
		{Name: "Vaccine"},
		{Name: "a b"},
		{Name: "r", Capacity: -1},
		{Name: "r", Rate: -1},
		{Name: "r", Rate: math.NaN()},
		{Name: "r", PassTTL: time.Second},
		{Name: "r", ClaimTimeout: time.Second},
		{Name: "r", PollBudget: 0.5},
		{Name: "r", MinPoll: time.Millisecond},
		{Name: "r", PrequeueAt: t0.Add(time.Hour), OpensAt: t0},
		{Name: "r", OpensAt: t0, ClosesAt: t0},
	}
	for i, s := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if _, err := New(s, testKeyring(t, "k", 1), clock.NewManual(t0), nil); err == nil {
				t.Errorf("New(%+v) accepted bad settings", s)
			}
		})
	}
}

// TestRoomAdmitsUpToCapacity: in an open room the first C people are
// admitted at once, the rest wait at positions 1, 2, 3...
func TestRoomAdmitsUpToCapacity(t *testing.T) {
	for _, c := range []int{1, 3, 10} {
		for _, tickFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("C=%d/tickFirst=%v", c, tickFirst), func(t *testing.T) {
				f := newFixture(t, Settings{Capacity: c, Rate: 1000}, nil)
				if tickFirst {
					// The manager ticks all the time; with tokens available
					// a join is admitted in the Join call itself.
					f.tick()
					f.clk.Advance(time.Second)
				}
				var tickets []Ticket
				var joinStates []State
				for i := 0; i < c+3; i++ {
					_, tk, st := f.join()
					tickets = append(tickets, tk)
					joinStates = append(joinStates, st.State)
				}
				if !tickFirst {
					f.advance(time.Second)
				}
				seen := map[uint64]bool{}
				for i, tk := range tickets {
					st := f.status(tk)
					if i < c {
						p := f.pass(st)
						if seen[p.Position] {
							t.Errorf("pass position %d given twice", p.Position)
						}
						seen[p.Position] = true
						if st.PassUntil.IsZero() || !st.PassUntil.After(f.clk.Now()) {
							t.Errorf("PassUntil %v not in the future", st.PassUntil)
						}
						if tickFirst && joinStates[i] != StateAdmitted {
							t.Errorf("join %d: state %q at join, want admitted at once", i, joinStates[i])
						}
						continue
					}
					if st.State != StateWaiting || st.Position != uint64(i-c+1) || st.Ahead != st.Position-1 {
						t.Errorf("join %d: %+v, want waiting at position %d", i, st, i-c+1)
					}
				}
				if got := f.r.Counters().Active; got != c {
					t.Errorf("Active = %d, want %d", got, c)
				}
			})
		}
	}
}

func TestRoomLeaveFreesPlaceAtOnce(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 2, Rate: 1000}, nil)
	f.tick()
	f.clk.Advance(time.Second)
	_, a, sa := f.join()
	_, _, _ = f.join()
	_, c, sc := f.join()
	_, d, _ := f.join()
	pa := f.pass(sa)
	if sc.State != StateWaiting || sc.Position != 1 {
		t.Fatalf("third joiner: %+v, want waiting at 1", sc)
	}
	f.r.Leave(pa) // no Tick: the place is given at once
	if got := f.status(c); got.State != StateAdmitted {
		t.Errorf("after a leave, next in line: %+v, want admitted at once", got)
	}
	if got := f.status(d); got.State != StateWaiting || got.Position != 1 {
		t.Errorf("fourth joiner: %+v, want waiting at 1", got)
	}
	if _, err := f.r.VerifyPass(sa.Pass); !errors.Is(err, ErrRevoked) {
		t.Errorf("pass after Leave: got %v, want ErrRevoked", err)
	}
	if _, err := f.r.Status(a); !errors.Is(err, ErrTurnOver) {
		t.Errorf("ticket after Leave: got %v, want ErrTurnOver", err)
	}
	f.r.Leave(pa) // twice is harmless
	if c := f.r.Counters(); c.Leaves != 1 || c.Active != 2 {
		t.Errorf("counters after double leave: leaves %d active %d, want 1 and 2", c.Leaves, c.Active)
	}
}

func TestRoomExpiredPassFreesPlace(t *testing.T) {
	ttl := 5 * time.Minute
	f := newFixture(t, Settings{Capacity: 1, Rate: 1000, PassTTL: ttl}, nil)
	f.tick()
	f.clk.Advance(time.Second)
	_, a, sa := f.join() // admitted at once: the pass lives PassTTL from now
	if want := f.clk.Now().Add(ttl); sa.State != StateAdmitted || !sa.PassUntil.Equal(want) {
		t.Fatalf("first joiner: %+v, want admitted until %v", sa, want)
	}
	_, b, _ := f.join()
	f.advance(10 * time.Second)
	// Asking again does not extend the pass.
	if again := f.status(a); again.Pass == "" || !again.PassUntil.Equal(sa.PassUntil) {
		t.Fatalf("status again: %+v, want the same expiry %v", again, sa.PassUntil)
	}
	f.advance(-10 * time.Second)
	f.advance(ttl - time.Second)
	if st := f.status(b); st.State != StateWaiting {
		t.Fatalf("1s before the pass expires: %+v, want still waiting", st)
	}
	if _, err := f.r.VerifyPass(sa.Pass); err != nil {
		t.Fatalf("pass 1s before expiry: %v", err)
	}
	f.advance(time.Second)
	if _, err := f.r.VerifyPass(sa.Pass); !errors.Is(err, ErrExpired) {
		t.Errorf("pass at expiry: got %v, want ErrExpired", err)
	}
	if st := f.status(b); st.State != StateAdmitted {
		t.Errorf("after the pass expired: %+v, want admitted", st)
	}
	if c := f.r.Counters(); c.Expired != 1 || c.Active != 1 {
		t.Errorf("Expired %d Active %d, want 1 and 1", c.Expired, c.Active)
	}
}

func TestRoomUnclaimedAdmissionTimesOut(t *testing.T) {
	claim := 30 * time.Second
	f := newFixture(t, Settings{Capacity: 1, Rate: 1000, ClaimTimeout: claim}, nil)
	_, _, sx := f.join() // admitted (and claimed) at once
	_, a, _ := f.join()
	_, b, _ := f.join()
	f.r.Leave(f.pass(sx)) // a is admitted now but does not come for the pass
	f.tick()
	if c := f.r.Counters(); c.Serving != 2 || c.Active != 1 {
		t.Fatalf("serving %d active %d, want 2 and 1", c.Serving, c.Active)
	}
	f.advance(claim - time.Second)
	if st := f.status(b); st.State != StateWaiting || st.Position != 1 {
		t.Fatalf("before the claim timeout: %+v", st)
	}
	f.advance(time.Second)
	if st := f.status(b); st.State != StateAdmitted {
		t.Errorf("after the claim timeout, next in line: %+v, want admitted", st)
	}
	if _, err := f.r.Status(a); !errors.Is(err, ErrTurnOver) {
		t.Errorf("late holder: got %v, want ErrTurnOver", err)
	}
	if c := f.r.Counters(); c.Expired != 1 {
		t.Errorf("Expired = %d, want 1", c.Expired)
	}
}

// TestRoomRateLimit: over T seconds of ticks at most R*T + burst people are
// admitted, at every moment; with frequent ticks the room also reaches R.
func TestRoomRateLimit(t *testing.T) {
	tests := []struct {
		rate float64
		step time.Duration
		full bool // ticks frequent enough to reach the full rate
	}{
		{0.5, 100 * time.Millisecond, true},
		{3, 10 * time.Millisecond, true},
		{50, 10 * time.Millisecond, true},
		{50, 100 * time.Millisecond, true},
		{50, 333 * time.Millisecond, false},
		{1000, 20 * time.Millisecond, true},
		{1000, 7 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("R=%v/step=%v", tc.rate, tc.step), func(t *testing.T) {
			f := newFixture(t, Settings{Capacity: 10_000_000, Rate: tc.rate}, nil)
			addWaiting(f.r, 1_000_000)
			f.tick()
			burst := max(1, tc.rate/10)
			const T = 20 * time.Second
			for el := time.Duration(0); el < T; {
				el += tc.step
				f.advance(tc.step)
				got := float64(f.r.Counters().Admissions)
				if limit := tc.rate*el.Seconds() + burst; got > limit+1e-6 {
					t.Fatalf("after %v: %v admitted, more than R*T+burst = %v", el, got, limit)
				}
			}
			got := float64(f.r.Counters().Admissions)
			if tc.full && got < tc.rate*T.Seconds()-burst-1 {
				t.Errorf("%v admitted in %v, want about %v", got, T, tc.rate*T.Seconds())
			}
			t.Logf("%v admitted in %v", got, T)
		})
	}
	// After an idle spell the bucket holds at most a burst (Rate/10).
	for _, rate := range []float64{5, 50, 1000} {
		t.Run(fmt.Sprintf("burst after idle R=%v", rate), func(t *testing.T) {
			f := newFixture(t, Settings{Capacity: 10_000_000, Rate: rate}, nil)
			for i := 0; i < 100; i++ {
				f.advance(100 * time.Millisecond) // nobody waiting
			}
			addWaiting(f.r, 1_000_000)
			f.advance(time.Millisecond)
			burst := max(1, rate/10)
			if got := float64(f.r.Counters().Admissions); got > burst+rate*0.001+1e-6 || got < burst {
				t.Errorf("%v admitted at once after idling, want the burst %v", got, burst)
			}
		})
	}
}

func TestRoomPauseResume(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 100, Rate: 10}, nil)
	f.tick()
	tickets := f.joinN(50)
	f.advance(time.Second)
	before := f.r.Counters().Serving
	if before == 0 {
		t.Fatal("nobody admitted before pausing")
	}
	if _, err := f.r.Update(func(s *Settings) { s.Paused = true }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		f.advance(100 * time.Millisecond)
	}
	c := f.r.Counters()
	if c.Serving != before {
		t.Errorf("admitted while paused: serving %d -> %d", before, c.Serving)
	}
	if c.State != StatePaused || f.r.State() != StatePaused {
		t.Errorf("room state %q, want paused", c.State)
	}
	last := tickets[len(tickets)-1]
	st := f.status(last)
	if st.State != StatePaused || st.Position == 0 || st.ETA >= 0 || st.PollAfter < pausedMinPoll {
		t.Errorf("waiting ticket while paused: %+v, want paused with a position, no ETA, slow polling", st)
	}
	// A join while paused is fine: it waits.
	if _, _, st := f.join(); st.State != StatePaused {
		t.Errorf("join while paused: %+v", st)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Paused = false }); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Second)
	if c := f.r.Counters(); c.Serving <= before || c.State != StateOpen {
		t.Errorf("after resume: serving %d (was %d), state %q", c.Serving, before, c.State)
	}
	if st := f.status(last); st.State != StateWaiting || st.ETA <= 0 {
		t.Errorf("after resume: %+v", st)
	}
}

func TestRoomClose(t *testing.T) {
	tests := []struct {
		name  string
		s     Settings
		close func(f *fixture)
	}{
		{"by operator", Settings{Capacity: 1, Rate: 100, PassTTL: 2 * time.Hour}, func(f *fixture) {
			if _, err := f.r.Update(func(s *Settings) { s.Closed = true }); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"at closes_at", Settings{Capacity: 1, Rate: 100, PassTTL: 2 * time.Hour, OpensAt: t0, ClosesAt: t0.Add(time.Hour)}, func(f *fixture) {
			f.clk.Set(t0.Add(time.Hour))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.s, nil)
			f.tick()
			f.clk.Advance(time.Second)
			_, a, sa := f.join()
			_, b, _ := f.join()
			tc.close(f)
			f.tick()
			if _, _, err := f.r.Join(); !errors.Is(err, ErrRoomClosed) {
				t.Errorf("join after close: got %v, want ErrRoomClosed", err)
			}
			if st := f.status(b); st.State != StateClosed || st.ETA >= 0 || st.PollAfter < time.Minute {
				t.Errorf("waiting ticket after close: %+v", st)
			}
			// Someone already in keeps their session.
			if st := f.status(a); st.State != StateAdmitted || st.Pass == "" {
				t.Errorf("admitted ticket after close: %+v", st)
			}
			if _, err := f.r.VerifyPass(sa.Pass); err != nil {
				t.Errorf("pass after close: %v", err)
			}
			f.r.Leave(f.pass(sa))
			f.advance(time.Second)
			if st := f.status(b); st.State != StateClosed {
				t.Errorf("closed room admitted someone: %+v", st)
			}
			if f.r.State() != StateClosed {
				t.Errorf("room state %q", f.r.State())
			}
		})
	}
}

func TestRoomCapacityChange(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 2, Rate: 1000}, nil)
	f.tick()
	tickets := f.joinN(10)
	f.advance(time.Second)
	active := func() int { return f.r.Counters().Active }
	if active() != 2 {
		t.Fatalf("active %d, want 2", active())
	}
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = 5 }); err != nil {
		t.Fatal(err)
	}
	f.advance(100 * time.Millisecond)
	if active() != 5 {
		t.Fatalf("after raising capacity to 5: active %d", active())
	}
	// Lowering does not cut sessions off but admits nobody until below.
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = 2 }); err != nil {
		t.Fatal(err)
	}
	var passes []Pass
	for _, tk := range tickets[:5] {
		passes = append(passes, f.pass(f.status(tk)))
	}
	f.advance(time.Second)
	if active() != 5 {
		t.Fatalf("after lowering capacity: active %d, want the 5 sessions kept", active())
	}
	for i, p := range passes[:3] {
		f.r.Leave(p)
		f.advance(100 * time.Millisecond)
		if want := 4 - i; active() != want {
			t.Fatalf("after %d leaves at capacity 2: active %d, want %d", i+1, active(), want)
		}
	}
	f.r.Leave(passes[3])
	f.advance(100 * time.Millisecond)
	if active() != 2 {
		t.Fatalf("below the new capacity: active %d, want 2", active())
	}
	if s := f.r.Settings(); s.Capacity != 2 {
		t.Errorf("Settings().Capacity = %d", s.Capacity)
	}
}

func TestRoomUpdate(t *testing.T) {
	f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: t0.Add(time.Hour)}, nil)
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = 0; s.Rate = -1 }); err == nil {
		t.Error("Update accepted a negative rate")
	}
	if s, err := f.r.Update(func(s *Settings) { s.Name = "other"; s.Capacity = 0 }); err != nil || s.Name != "vaccine" || s.Capacity != DefaultCapacity {
		t.Errorf("Update renamed the room or skipped defaults: %+v %v", s, err)
	}
	if _, err := f.r.Update(func(s *Settings) { s.OpensAt = t0.Add(2 * time.Hour) }); err != nil {
		t.Errorf("moving opens_at before opening: %v", err)
	}
	f.clk.Set(t0.Add(3 * time.Hour))
	f.tick()
	if _, err := f.r.Update(func(s *Settings) { s.OpensAt = t0.Add(4 * time.Hour) }); err == nil {
		t.Error("opens_at changed after the room opened")
	}
}

func TestRoomScheduled(t *testing.T) {
	pre, open := t0.Add(time.Hour), t0.Add(2*time.Hour)
	f := newFixture(t, Settings{PrequeueAt: pre, OpensAt: open}, nil)
	_, st, err := f.r.Join()
	if !errors.Is(err, ErrNotYetOpen) || !st.OpensAt.Equal(open) {
		t.Errorf("join before prequeue_at: %+v %v, want ErrNotYetOpen with OpensAt", st, err)
	}
	if f.r.State() != StateScheduled || f.r.Counters().State != StateScheduled {
		t.Errorf("state %q, want scheduled", f.r.State())
	}
	f.clk.Set(pre)
	if _, _, st := f.join(); st.State != StatePrequeue {
		t.Errorf("join at prequeue_at: %+v", st)
	}
	// Without PrequeueAt there is no pre-queue: before opening is scheduled.
	g := newFixture(t, Settings{OpensAt: open}, nil)
	if _, _, err := g.r.Join(); !errors.Is(err, ErrNotYetOpen) {
		t.Errorf("join before opens_at without a pre-queue: %v", err)
	}
}

// TestRoomPositionsNeverIncrease follows every ticket through a long run
// with joins, leaves, expiries and capacity changes: a waiting ticket's
// position never goes up, the waiting positions are exactly 1..W at every
// moment, and nobody who was admitted is ever waiting again.
func TestRoomPositionsNeverIncrease(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 5, Rate: 2, PrequeueAt: t0, OpensAt: t0.Add(time.Minute),
		ClaimTimeout: 10 * time.Second, PassTTL: 30 * time.Second}, nil)
	rng := rand.New(rand.NewPCG(42, 42))
	type tracked struct {
		t       Ticket
		last    uint64 // last waiting position, 0 before known
		done    bool
		pass    Pass
		holding bool
		leaveAt int
	}
	var all []*tracked
	for i := 0; i < 30; i++ {
		_, tk, st := f.join()
		if st.State != StatePrequeue || st.Position != 0 {
			t.Fatalf("pre-queue join: %+v", st)
		}
		all = append(all, &tracked{t: tk})
	}
	f.clk.Set(t0.Add(time.Minute))
	for step := 0; step < 800; step++ {
		for range rng.IntN(3) {
			_, tk, _ := f.join()
			all = append(all, &tracked{t: tk})
		}
		if step == 200 {
			f.r.Update(func(s *Settings) { s.Capacity = 8 })
		}
		if step == 400 {
			f.r.Update(func(s *Settings) { s.Capacity = 3 })
		}
		for _, x := range all {
			if x.holding && step >= x.leaveAt {
				f.r.Leave(x.pass)
				x.holding = false
			}
		}
		f.advance(250 * time.Millisecond)
		// Nothing changes the line while all statuses are read, so the
		// waiting positions must be exactly 1..W.
		waitingPositions := map[uint64]bool{}
		for i, x := range all {
			st, err := f.r.Status(x.t)
			if x.done {
				if err == nil && st.State == StateWaiting {
					t.Fatalf("step %d: ticket %d admitted earlier is waiting again: %+v", step, i, st)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d: ticket %d: %v", step, i, err)
			}
			switch st.State {
			case StateWaiting:
				if x.last != 0 && st.Position > x.last {
					t.Fatalf("step %d: ticket %d moved back from %d to %d", step, i, x.last, st.Position)
				}
				if st.Position == 0 || st.Ahead != st.Position-1 {
					t.Fatalf("step %d: bad status %+v", step, st)
				}
				if waitingPositions[st.Position] {
					t.Fatalf("step %d: position %d given to two tickets", step, st.Position)
				}
				waitingPositions[st.Position] = true
				x.last = st.Position
			case StateAdmitted:
				x.done = true
				x.pass = f.pass(st)
				// Some leave soon, some keep the pass until it expires.
				if rng.IntN(3) > 0 {
					x.holding, x.leaveAt = true, step+rng.IntN(40)
				}
			default:
				t.Fatalf("step %d: unexpected status %+v", step, st)
			}
		}
		c := f.r.Counters()
		if uint64(len(waitingPositions)) != c.Waiting {
			t.Fatalf("step %d: %d waiting tickets, counters say %d", step, len(waitingPositions), c.Waiting)
		}
		for p := uint64(1); p <= c.Waiting; p++ {
			if !waitingPositions[p] {
				t.Fatalf("step %d: no ticket at position %d of %d", step, p, c.Waiting)
			}
		}
		if step < 400 && c.Active > c.Settings.Capacity {
			t.Fatalf("step %d: active %d > capacity %d", step, c.Active, c.Settings.Capacity)
		}
	}
	admitted := 0
	for _, x := range all {
		if x.done {
			admitted++
		}
	}
	if admitted < 50 || admitted == len(all) {
		t.Errorf("%d of %d admitted: the run should admit many but not all", admitted, len(all))
	}
}

// TestRoomSameTicketKeepsPlace: a ticket sent again (refresh, another
// node with the same keys and state) keeps exactly its place.
func TestRoomSameTicketKeepsPlace(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 3, Rate: 5, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}
	f := newFixture(t, s, store)
	var toks []string
	join := func(n int) {
		for range n {
			tok, _, _ := f.join()
			toks = append(toks, tok)
		}
	}
	join(20)
	f.clk.Set(t0.Add(time.Minute))
	join(20)
	f.advance(time.Second)
	f.advance(time.Second)
	// The places of the tickets sent again as text to r.
	placesIn := func(r *Room) []placeOf {
		var tickets []Ticket
		for _, tok := range toks {
			tk, err := r.VerifyTicket(tok)
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}
		return placesOf(t, r, tickets)
	}
	first := placesIn(f.r)
	if again := placesIn(f.r); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("same tickets again:\n%v\nfirst:\n%v", again, first)
	}
	// A second process with the same keys and the same state.
	keys2, err := NewKeyring(Key{ID: "k1", Secret: testSecret(1)})
	if err != nil {
		t.Fatal(err)
	}
	s.Name = "vaccine"
	r2, err := New(s, keys2, f.clk, store)
	if err != nil {
		t.Fatal(err)
	}
	if second := placesIn(r2); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("second room from the same state:\n%v\nfirst:\n%v", second, first)
	}
	m := NewManager(keys2, f.clk, store, nil)
	r3, err := m.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	if third := placesIn(r3); fmt.Sprint(third) != fmt.Sprint(first) {
		t.Errorf("manager room from the same state:\n%v\nfirst:\n%v", third, first)
	}
	waiting := 0
	for _, p := range first {
		if p.State == StateWaiting {
			waiting++
		}
	}
	if waiting < 20 {
		t.Errorf("only %d waiting: the test should compare real positions", waiting)
	}
}

func TestPollInterval(t *testing.T) {
	t.Run("grows with distance", func(t *testing.T) {
		s := Settings{PollBudget: 5000, MinPoll: time.Second}
		prev := time.Duration(0)
		for d := uint64(1); d <= 1_000_000; d = d*3/2 + 1 {
			p := pollInterval(&s, d, 1_000_000)
			if p < prev {
				t.Fatalf("poll interval at %d (%v) < at a smaller distance (%v)", d, p, prev)
			}
			if p < s.MinPoll {
				t.Fatalf("poll interval %v below MinPoll", p)
			}
			prev = p
		}
		if far := pollInterval(&s, 1_000_000, 1_000_000); far < time.Minute {
			t.Errorf("the back of a line of 1e6 polls every %v: too often for the budget", far)
		}
	})
	// The total rate of a line of W people, each at distance d polling
	// every pollInterval(d, W), must stay within the budget.
	budgets := []struct {
		budget float64
		min    time.Duration
	}{{5000, time.Second}, {5000, 100 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Second}, {1e6, 100 * time.Millisecond}}
	for _, b := range budgets {
		s := Settings{PollBudget: b.budget, MinPoll: b.min}
		for _, W := range []uint64{1000, 100_000, 1_000_000} {
			t.Run(fmt.Sprintf("exact W=%d budget=%v min=%v", W, b.budget, b.min), func(t *testing.T) {
				var sum float64
				for d := uint64(1); d <= W; d++ {
					sum += 1 / pollInterval(&s, d, W).Seconds()
				}
				if sum > b.budget {
					t.Errorf("line of %d polls %.9f/s, budget %v", W, sum, b.budget)
				}
			})
		}
		for _, W := range []uint64{6_000_000, 100_000_000} {
			t.Run(fmt.Sprintf("sampled W=%d budget=%v min=%v", W, b.budget, b.min), func(t *testing.T) {
				// Sample d on a log scale: every interval is at least the
				// budget's share d*H(W)/budget (or MinPoll), and the
				// integral of 1/interval over the line (trapezoids over
				// the log-spaced samples) stays within the budget.
				hw := harmonic(W)
				var sum float64
				prevD, prevRate, first := 0.0, 0.0, 0.0
				for d := uint64(1); ; d = max(d+1, uint64(float64(d)*1.001)) {
					d = min(d, W)
					iv := pollInterval(&s, d, W)
					share := time.Duration(float64(d) * hw / b.budget * float64(time.Second))
					if iv < max(share, b.min) {
						t.Fatalf("d=%d: interval %v shorter than the budget share %v", d, iv, share)
					}
					rate := 1 / iv.Seconds()
					if prevD == 0 {
						first = rate
					} else {
						sum += (float64(d) - prevD) * (rate + prevRate) / 2
					}
					prevD, prevRate = float64(d), rate
					if d == W {
						break
					}
				}
				// Euler-Maclaurin: sum = integral + (f(1) + f(W)) / 2.
				sum += (first + prevRate) / 2
				if sum > b.budget*1.001 {
					t.Errorf("line of %d polls about %.3f/s, budget %v", W, sum, b.budget)
				}
			})
		}
	}
	t.Run("harmonic", func(t *testing.T) {
		// The budget holds only if harmonic(n) is never below the true H(n).
		var h, c float64 // Kahan sum
		for n := uint64(1); n <= 2_000_000; n++ {
			y := 1/float64(n) - c
			sum := h + y
			c = (sum - h) - y
			h = sum
			got := harmonic(n)
			if got < h-1e-13 || got > h+1/(12*float64(n)*float64(n))+1e-13 {
				t.Fatalf("harmonic(%d) = %.17g, want %.17g (never below)", n, got, h)
			}
		}
	})
}

// TestStatusPollAndETA checks a real room's replies along a long line.
func TestStatusPollAndETA(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 100, Rate: 50, PollBudget: 2000}, nil)
	addWaiting(f.r, 1_000_000)
	f.advance(time.Second)
	var prevPoll, prevETA time.Duration
	serving := f.r.Counters().Serving
	for d := uint64(1); d < 1_000_000-serving; d = d*2 + 1 {
		st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: serving + d - 1})
		if st.State != StateWaiting || st.Position != d {
			t.Fatalf("distance %d: %+v", d, st)
		}
		if st.ETA <= 0 || st.ETA > 365*24*time.Hour {
			t.Fatalf("distance %d: ETA %v, want positive and finite", d, st.ETA)
		}
		if st.PollAfter < prevPoll || st.ETA < prevETA {
			t.Fatalf("distance %d: poll %v ETA %v smaller than nearer the front (%v, %v)", d, st.PollAfter, st.ETA, prevPoll, prevETA)
		}
		if st.PollAfter < time.Second {
			t.Fatalf("distance %d: poll %v below MinPoll", d, st.PollAfter)
		}
		prevPoll, prevETA = st.PollAfter, st.ETA
	}
	if prevPoll < time.Minute {
		t.Errorf("the back of a line of a million polls every %v", prevPoll)
	}
	t.Run("fast line", func(t *testing.T) {
		// Near the front of a fast line the ETA is still at least a second.
		g := newFixture(t, Settings{Capacity: 10_000_000, Rate: 100_000}, nil)
		addWaiting(g.r, 10)
		st := g.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 0})
		if st.State != StateWaiting || st.ETA < time.Second {
			t.Errorf("first in a fast line: %+v, want a positive ETA", st)
		}
	})
}

// TestPollAdviceNeverMissesTurn: people who come back exactly when told
// (poll_after) must find their turn, not ErrTurnOver, even when the line
// moves faster than the poll budget alone would space their polls.
func TestPollAdviceNeverMissesTurn(t *testing.T) {
	const W = 20_000
	tests := []struct {
		name string
		s    Settings
	}{
		{"line faster than the budget", Settings{Capacity: 10_000_000, Rate: 100, PollBudget: 500, ClaimTimeout: 30 * time.Second}},
		{"budget ample", Settings{Capacity: 10_000_000, Rate: 100, PollBudget: 100_000, ClaimTimeout: 30 * time.Second}},
		{"capacity bound", Settings{Capacity: 500, Rate: 1000, PassTTL: 10 * time.Second, PollBudget: 500, ClaimTimeout: 30 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.s, nil)
			addWaiting(f.r, W)
			type follower struct {
				t    Ticket
				next time.Time
				done bool
			}
			var fs []*follower
			for _, d := range []uint64{1, 10, 100, 1000, 3000, 5000, 10_000, 15_000, W - 1} {
				fs = append(fs, &follower{t: Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: d - 1}, next: t0})
			}
			polls := 0
			for step := 0; ; step++ {
				left := 0
				for i, x := range fs {
					if x.done {
						continue
					}
					left++
					if f.clk.Now().Before(x.next) {
						continue
					}
					polls++
					st, err := f.r.Status(x.t)
					if err != nil {
						t.Fatalf("at %v, follower %d (seq %d): %v", f.clk.Now().Sub(t0), i, x.t.Seq, err)
					}
					if st.State == StateAdmitted {
						x.done = true
						// Leave at once so a capacity-bound line moves.
						f.r.Leave(f.pass(st))
						continue
					}
					if st.PollAfter <= 0 {
						t.Fatalf("poll_after %v", st.PollAfter)
					}
					x.next = f.clk.Now().Add(st.PollAfter)
				}
				if left == 0 {
					break
				}
				if step > 100_000 {
					t.Fatal("the line did not move")
				}
				f.advance(100 * time.Millisecond)
			}
			t.Logf("all followers admitted after %v with %d polls", f.clk.Now().Sub(t0), polls)
		})
	}
}

// TestPrequeue: pre-queue tickets get no position before opening, then
// distinct places 1..N, all ahead of those who came after opening (who are
// first come, first served).
func TestPrequeue(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 300} {
		for _, withStore := range []bool{false, true} {
			t.Run(fmt.Sprintf("N=%d/store=%v", n, withStore), func(t *testing.T) {
				var store Persister
				if withStore {
					store = newMemStore()
				}
				open := t0.Add(10 * time.Minute)
				f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: open, Capacity: 10, Rate: 1}, store)
				f.clk.Set(t0.Add(time.Minute))
				var pre []Ticket
				for i := 0; i < n; i++ {
					_, tk, st := f.join()
					if tk.Phase != PhasePrequeue || tk.Seq != uint64(i) {
						t.Fatalf("pre-queue ticket %d: %+v", i, tk)
					}
					if st.State != StatePrequeue || st.Position != 0 || st.PollAfter <= 0 || st.ETA <= 0 || !st.OpensAt.Equal(open) {
						t.Fatalf("pre-queue status %d: %+v", i, st)
					}
					pre = append(pre, tk)
					f.clk.Advance(time.Second)
				}
				for i, tk := range pre {
					st := f.status(tk)
					if st.State != StatePrequeue || st.Position != 0 {
						t.Fatalf("pre-queue status %d later: %+v", i, st)
					}
					// Everyone is told to come back at or soon after opening.
					back := f.clk.Now().Add(st.PollAfter)
					if back.Before(open) && st.PollAfter < time.Second {
						t.Fatalf("pre-queue ticket %d polls every %v", i, st.PollAfter)
					}
					if back.After(open.Add(maxPrequeueSpread)) && f.clk.Now().Add(st.PollAfter).After(open) {
						t.Fatalf("pre-queue ticket %d comes back at %v, long after opening", i, back)
					}
				}
				f.clk.Set(open.Add(time.Second))
				f.tick()
				var post []Ticket
				for i := 0; i < 5; i++ {
					_, tk, _ := f.join()
					if tk.Phase != PhaseOpen {
						t.Fatalf("join after opening in phase %v", tk.Phase)
					}
					post = append(post, tk)
				}
				// A place in line counted from the first person ever: the
				// pass names it for those admitted (a new room starts with a
				// full bucket), serving+position for those waiting.
				serving := f.r.Counters().Serving
				placeOf := func(tk Ticket) uint64 {
					st := f.status(tk)
					switch st.State {
					case StateAdmitted:
						return f.pass(st).Position
					case StateWaiting:
						return serving + st.Position
					}
					t.Fatalf("after opening: %+v", st)
					return 0
				}
				seen := make([]bool, n)
				for i, tk := range pre {
					p := placeOf(tk)
					if p < 1 || p > uint64(n) {
						t.Fatalf("pre-queue ticket %d after opening: place %d, want one in 1..%d", i, p, n)
					}
					if seen[p-1] {
						t.Fatalf("place %d drawn twice", p)
					}
					seen[p-1] = true
				}
				for i, tk := range post {
					if p := placeOf(tk); p != uint64(n+i+1) {
						t.Fatalf("joiner %d after opening: place %d, want %d", i, p, n+i+1)
					}
				}
				if n >= 2 && serving >= uint64(n) {
					t.Fatalf("serving %d: the test should see waiting pre-queue tickets", serving)
				}
				if c := f.r.Counters(); c.Prequeued != uint64(n) || c.Joined != uint64(n+5) {
					t.Errorf("counters: prequeued %d joined %d, want %d and %d", c.Prequeued, c.Joined, n, n+5)
				}
			})
		}
	}
}

// TestPrequeueSpreadsFirstPolls: pre-queue tickets are told to come back
// spread over a short interval after opening, not all at once.
func TestPrequeueSpreadsFirstPolls(t *testing.T) {
	open := t0.Add(time.Minute)
	f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: open, PollBudget: 100}, nil)
	tickets := f.joinN(1000)
	f.clk.Set(open.Add(-time.Second))
	at := map[time.Time]int{}
	for _, tk := range tickets {
		st := f.status(tk)
		back := f.clk.Now().Add(st.PollAfter)
		if back.Before(open) || back.After(open.Add(maxPrequeueSpread)) {
			t.Fatalf("ticket %d told to come back at %v (opening %v)", tk.Seq, back, open)
		}
		at[back.Truncate(time.Second)]++
	}
	for sec, n := range at {
		if n > 150 {
			t.Errorf("%d of 1000 first polls in the second %v: not spread", n, sec)
		}
	}
}

// TestPrequeueLotteryFairness: over 2000 rooms (different keys), the first
// of 4 pre-queue joiners lands in each of the 4 places about equally often.
func TestPrequeueLotteryFairness(t *testing.T) {
	const rooms, n = 2000, 4
	var counts [n][n]int
	open := t0.Add(time.Minute)
	for i := 0; i < rooms; i++ {
		clk := clock.NewManual(t0)
		keys, err := NewKeyring(Key{ID: "k", Secret: testSecret(uint64(1_000_000 + i))})
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(Settings{Name: "vaccine", PrequeueAt: t0, OpensAt: open}, keys, clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tickets []Ticket
		for k := 0; k < n; k++ {
			tok, _, err := r.Join()
			if err != nil {
				t.Fatal(err)
			}
			tk, _ := r.VerifyTicket(tok)
			tickets = append(tickets, tk)
		}
		clk.Set(open)
		for k, tk := range tickets {
			st, err := r.Status(tk)
			if err != nil || st.Position < 1 || st.Position > n {
				t.Fatalf("room %d: %+v %v", i, st, err)
			}
			counts[k][st.Position-1]++
		}
	}
	for k := 0; k < n; k++ {
		expected := float64(rooms) / n
		var chi float64
		for p := 0; p < n; p++ {
			d := float64(counts[k][p]) - expected
			chi += d * d / expected
		}
		if crit := chiSquareCritical(n - 1); chi > crit {
			t.Errorf("joiner %d: places %v, chi-square %.1f > %.1f: not uniform", k+1, counts[k], chi, crit)
		} else {
			t.Logf("joiner %d: places %v, chi-square %.2f (critical %.1f)", k+1, counts[k], chi, crit)
		}
	}
}

// TestRoomConcurrent: 200 people join at once while the room ticks, they
// poll, claim passes and leave, an operator pauses and resumes, and a
// monitor samples the counters: active sessions never exceed capacity and
// no place is given twice. Run with -race.
func TestRoomConcurrent(t *testing.T) {
	const people, capacity = 200, 7
	f := newFixture(t, Settings{Capacity: capacity, Rate: 500, ClaimTimeout: time.Hour, PassTTL: time.Hour}, nil)
	f.tick()
	var (
		stop       = make(chan struct{})
		bg         sync.WaitGroup
		violations atomic.Int64
		maxActive  atomic.Int64
		errs       = make(chan error, 100)
	)
	report := func(err error) { // never blocks: the first 100 errors are kept
		select {
		case errs <- err:
		default:
		}
	}
	check := func(where string) {
		a := f.r.Counters().Active
		if a > capacity {
			violations.Add(1)
			report(fmt.Errorf("%s: active %d > capacity %d", where, a, capacity))
		}
		for {
			m := maxActive.Load()
			if int64(a) <= m || maxActive.CompareAndSwap(m, int64(a)) {
				break
			}
		}
	}
	// untilStopped runs step over and over in the background until stop.
	untilStopped := func(step func()) {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				step()
			}
		}()
	}
	untilStopped(func() { // the manager's ticker
		f.clk.Advance(10 * time.Millisecond)
		if err := f.r.Tick(); err != nil {
			report(err)
		}
		check("after Tick")
		time.Sleep(50 * time.Microsecond)
	})
	untilStopped(func() { // a monitor
		check("monitor")
		_ = f.r.State()
	})
	bg.Add(1)
	go func() { // an operator
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
			f.r.Update(func(s *Settings) { s.Paused = i%4 == 0 })
		}
	}()

	places := make([]uint64, people)
	passPlaces := make([]uint64, people)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < people; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, st, err := f.r.Join()
			if err != nil {
				report(err)
				return
			}
			tk, err := f.r.VerifyTicket(tok)
			if err != nil {
				report(err)
				return
			}
			places[i] = f.r.position(tk)
			for st.State != StateAdmitted {
				time.Sleep(20 * time.Microsecond)
				if st, err = f.r.Status(tk); err != nil {
					report(fmt.Errorf("person %d: %v", i, err))
					return
				}
			}
			p, err := f.r.VerifyPass(st.Pass)
			if err != nil {
				report(fmt.Errorf("person %d: fresh pass: %v", i, err))
				return
			}
			passPlaces[i] = p.Position
			check("while holding a pass")
			f.r.Leave(p)
			if _, err := f.r.VerifyPass(st.Pass); !errors.Is(err, ErrRevoked) {
				report(fmt.Errorf("person %d: pass after leave: %v", i, err))
			}
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Error("timed out: people still waiting")
	}
	close(stop)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if violations.Load() > 0 {
		t.Fatalf("%d capacity violations", violations.Load())
	}
	sorted := append([]uint64(nil), places...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for i, p := range sorted {
		if p != uint64(i+1) {
			t.Fatalf("places are not 1..%d: %v...", people, sorted[:min(len(sorted), i+3)])
		}
	}
	for i := range places {
		if passPlaces[i] != places[i] {
			t.Errorf("person %d at place %d got a pass for place %d", i, places[i], passPlaces[i])
		}
	}
	c := f.r.Counters()
	if c.Admissions != people || c.Leaves != people || c.Active != 0 || c.JoinsTotal != people {
		t.Errorf("counters at the end: %+v", c)
	}
	t.Logf("max active %d of %d", maxActive.Load(), capacity)
}

func TestCounters(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 2, Rate: 100, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}, nil)
	for i := 0; i < 3; i++ {
		f.join()
	}
	if c := f.r.Counters(); c.State != StatePrequeue || c.Prequeued != 3 || c.Waiting != 3 || c.Joined != 3 || c.Serving != 0 {
		t.Errorf("pre-queue counters: %+v", c)
	}
	f.clk.Set(t0.Add(time.Minute))
	f.tick()
	f.join()
	f.advance(time.Second)
	c := f.r.Counters()
	if c.State != StateOpen || c.Prequeued != 3 || c.Joined != 4 || c.Serving != 2 || c.Waiting != 2 || c.Active != 2 || c.Admissions != 2 || c.JoinsTotal != 4 {
		t.Errorf("open counters: %+v", c)
	}
	if c.AdmitRate <= 0 || math.IsInf(c.AdmitRate, 0) || c.Room != "vaccine" || c.Settings.Capacity != 2 {
		t.Errorf("counters: %+v", c)
	}
}
