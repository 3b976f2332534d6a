package room

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
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

// requireOnePlaceEach fails the test unless no two of the tickets hold the
// same place in r's line: a place is never given twice (after a crash, a
// restart, a lost shared line).
func requireOnePlaceEach(t testing.TB, r *Room, tickets []Ticket) {
	t.Helper()
	seen := map[uint64]int{}
	for i, tk := range tickets {
		p := r.position(tk)
		if j, dup := seen[p]; dup {
			t.Fatalf("place %d given to ticket %d and ticket %d", p, j, i)
		}
		seen[p] = i
	}
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
	if err := r.apply(&v); err != nil {
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
	// a was asked back within a second of joining; a claim timeout after
	// that (and the ticks' slack, late.go) their turn is over.
	f.advance(claim + 5*time.Second)
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
	// Zero is a value, not "the default": an operator writing capacity 0
	// or rate 0 to stop admissions is refused, not given 100 and 10.
	for field, change := range map[string]func(*Settings){
		"capacity": func(s *Settings) { s.Capacity = 0 },
		"rate":     func(s *Settings) { s.Rate = 0 },
		"pass_ttl": func(s *Settings) { s.PassTTL = 0 },
	} {
		var se *SettingError
		if s, err := f.r.Update(change); !errors.As(err, &se) || se.Field != field || s != f.r.Settings() || f.r.Settings().Capacity != DefaultCapacity || f.r.Settings().Rate != DefaultRate {
			t.Errorf("Update setting %s to 0: %+v %v, want refused naming %s, nothing changed", field, s, err, field)
		}
	}
	if s, err := f.r.Update(func(s *Settings) { s.Name = "other"; s.Capacity = 7 }); err != nil || s.Name != "vaccine" || s.Capacity != 7 {
		t.Errorf("Update renamed the room: %+v %v", s, err)
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
// TestRoomSameTicketKeepsPlace: a ticket sent again (refresh, another
// node with the same keys and state) keeps exactly its place.
// TestStatusPollAndETA checks a real room's replies along a long line.
// TestPollAdviceNeverMissesTurn: people who come back exactly when told
// (poll_after) must find their turn, not ErrTurnOver, even when the line
// moves faster than the poll budget alone would space their polls.
// TestPrequeue: pre-queue tickets get no position before opening, then
// distinct places 1..N, all ahead of those who came after opening (who are
// first come, first served).
// TestPrequeueSpreadsFirstPolls: pre-queue tickets are told to come back
// spread over a short interval after opening, not all at once.
// TestPrequeueLotteryFairness: over 2000 rooms (different keys), the first
// of 4 pre-queue joiners lands in each of the 4 places about equally often.
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

// The operator's message: trimmed, one line of at most MaxMessageLen
// characters; the expected resume in one form (UTC, milliseconds), so that
// controls compare equal however the time was written.
func TestSettingsMessage(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	s := Settings{Name: "r", Message: "  점검 중입니다  ", ResumeAt: time.Date(2021, 7, 19, 22, 0, 0, 123456789, seoul)}.WithDefaults()
	if err := s.Validate(); err != nil || s.Message != "점검 중입니다" || s.ResumeAt != time.UnixMilli(s.ResumeAt.UnixMilli()).UTC() {
		t.Fatalf("%+v: %v", s, err)
	}
	for _, bad := range []string{strings.Repeat("가", MaxMessageLen+1), "two\nlines", "bell\a", "\xff"} {
		if err := (Settings{Name: "r", Message: bad}).WithDefaults().Validate(); err == nil {
			t.Errorf("message %q accepted", bad)
		}
	}
	if err := (Settings{Name: "r", Message: strings.Repeat("가", MaxMessageLen)}).WithDefaults().Validate(); err != nil {
		t.Errorf("a message of the longest length: %v", err)
	}
	f := newFixture(t, Settings{Capacity: 1, Rate: 100}, nil)
	_, tk, _ := f.join() // admitted
	_, waiting, _ := f.join()
	resume := time.Date(2021, 7, 19, 22, 0, 0, 123456789, seoul)
	if got, err := f.r.Update(func(s *Settings) { s.Message, s.ResumeAt = " 곧 재개합니다\t", resume }); err != nil ||
		got.Message != "곧 재개합니다" || got.ResumeAt != time.UnixMilli(resume.UnixMilli()).UTC() {
		t.Fatalf("Update wrote the words as %q %v (%v), want them trimmed and in UTC milliseconds", got.Message, got.ResumeAt, err)
	}
	if st := f.status(waiting); st.Message != "곧 재개합니다" || st.Ticket != waiting {
		t.Errorf("waiting: %+v", st)
	}
	if st := f.status(tk); st.State != StateAdmitted || st.Message != "" {
		t.Errorf("admitted: %+v, want no message", st)
	}
}
