package room

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// lateFixture is an auto-paced room whose rate is about to rise 25x: its
// first 2,000 places waiting at rate 10, the room ticking every 500 ms.
func lateFixture(t *testing.T) (*fixture, []Ticket) {
	t.Helper()
	s := Settings{Capacity: 100_000, Rate: 10, ClaimTimeout: 30 * time.Second, PollBudget: 50,
		Pacing: Pacing{Mode: PacingAuto, MinRate: 1, MaxRate: 1000}}
	f := newFixture(t, s, nil)
	f.r.SetLog(slog.New(slog.DiscardHandler))
	tickets := f.joinN(2000)
	f.advance(500 * time.Millisecond)
	return f, tickets
}

// raiseRate raises the room's rate as the pacer does (into the line's
// controls), pacing left auto.
func raiseRate(t *testing.T, f *fixture, rate float64) {
	t.Helper()
	if _, err := f.r.Update(func(s *Settings) { s.Rate = rate }); err != nil {
		t.Fatal(err)
	}
}

// runUntil ticks every 500 ms up to at.
func runUntil(f *fixture, at time.Time) {
	for f.clk.Now().Add(500 * time.Millisecond).Before(at) {
		f.advance(500 * time.Millisecond)
	}
	f.clk.Set(at)
}

// Someone asked back at the pace of the rate then, whose turn came and
// whose claim timeout passed meanwhile because the rate rose 25x, keeps
// their place when they come back exactly when told: they are admitted
// before anyone else.
func TestLateClaimKeepsWhatStatusSaid(t *testing.T) {
	f, tickets := lateFixture(t)
	x := tickets[499] // place 500
	st := f.status(x)
	if st.State != StateWaiting || st.PollAfter > st.ETA+time.Second {
		t.Fatalf("place 500 at rate 10: %+v, want waiting, asked back no later than their expected turn", st)
	}
	poll := st.PollAfter
	told := f.clk.Now().Add(poll)
	raiseRate(t, f, 250)
	runUntil(f, told)
	c := f.r.Counters()
	if c.Serving < 500 || c.Expired == 0 {
		t.Fatalf("at the time told, serving %d expired %d: the test wants place 500 admitted and expired", c.Serving, c.Expired)
	}
	before := c.Admissions
	st, err := f.r.Status(x)
	if err != nil {
		t.Fatalf("back as told (after %v), their place admitted meanwhile at 25x the rate: %v, want their place kept", poll, err)
	}
	if st.State != StateAdmitted {
		t.Fatalf("back as told: %+v, want admitted at once (capacity and tokens free)", st)
	}
	if c := f.r.Counters(); c.Admissions != before+1 || c.Serving < 500 {
		t.Errorf("admissions %d -> %d: want the late claimant admitted as one more session", before, c.Admissions)
	}
	p := f.pass(st)
	if p.Position != 500 {
		t.Errorf("pass for place %d, want 500", p.Position)
	}
	// One session per place: once collected and returned, the place is
	// not claimed late again, however generous the bound still is.
	f.r.Leave(p)
	if _, err := f.r.Status(x); !errors.Is(err, ErrTurnOver) {
		t.Errorf("late claim after the late session ended: %v, want ErrTurnOver", err)
	}
}

// A late claim is refused to someone who comes back later than any answer
// could have asked them, plus the claim timeout; and to someone who
// collected their session at their turn.
func TestLateClaimRefused(t *testing.T) {
	f, tickets := lateFixture(t)
	late, collected := tickets[599], tickets[1]
	st := f.status(late)
	told := f.clk.Now().Add(st.PollAfter)
	if st := f.status(collected); st.State != StateAdmitted {
		t.Fatalf("place 2: %+v, want admitted", st)
	}
	raiseRate(t, f, 250)
	// Place 2's holder collected, returned the pass, and asks again.
	f.r.Leave(f.pass(f.status(collected)))
	if _, err := f.r.Status(collected); !errors.Is(err, ErrTurnOver) {
		t.Errorf("a collected place asked again: %v, want ErrTurnOver", err)
	}
	// Told back at `told`; the marks allow a quarter more, ViewFresh and a
	// tick, then the claim timeout.
	runUntil(f, told.Add(st.PollAfter/2+f.r.Settings().ClaimTimeout+5*time.Second))
	if _, err := f.r.Status(late); !errors.Is(err, ErrTurnOver) {
		t.Errorf("back far later than told plus the claim timeout: %v, want ErrTurnOver", err)
	}
}

// lateWithCapacityFull is lateFixture at the moment x, asked back at the
// pace of rate 10, comes back as told after the rate rose 25x and their
// place expired, with every place of the room's capacity taken.
func lateWithCapacityFull(t *testing.T) (f *fixture, x Ticket, active int) {
	t.Helper()
	f, tickets := lateFixture(t)
	x = tickets[1499]
	told := f.clk.Now().Add(f.status(x).PollAfter)
	raiseRate(t, f, 250)
	runUntil(f, told)
	f.tick()
	v, err := f.r.shared.View(bg, f.r.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = v.Active }); err != nil {
		t.Fatal(err)
	}
	return f, x, v.Active
}

// Two claims of one late place while capacity is full: the holder waits
// at the head of the line (next) and keeps the claim; a second late claim
// after the session was collected is refused.
func TestLateClaimWaitsForCapacity(t *testing.T) {
	f, x, active := lateWithCapacityFull(t)
	st, err := f.r.Status(x)
	if err != nil || st.State != StateWaiting || st.Position != 1 {
		t.Fatalf("late claim with capacity full: %+v %v, want next (position 1)", st, err)
	}
	if st, err = f.r.Status(x); err != nil || st.Position != 1 {
		t.Fatalf("asked again: %+v %v, want still next", st, err)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = active + 1 }); err != nil {
		t.Fatal(err)
	}
	f.advance(100 * time.Millisecond)
	st = f.status(x)
	if st.State != StateAdmitted {
		t.Fatalf("with a place free: %+v, want admitted first", st)
	}
	f.r.Leave(f.pass(st))
	if _, err := f.r.Status(x); !errors.Is(err, ErrTurnOver) {
		t.Errorf("second late claim: %v, want ErrTurnOver", err)
	}
}

// While the pacer chooses the rate, polls are spaced as in fixed mode: a
// long line sends no more than the poll budget (asking everybody back at
// max_rate sent about twice as much here).
func TestAutoPollsWithinBudget(t *testing.T) {
	const W = 200_000
	s := Settings{Capacity: 10_000_000, Rate: 200, PollBudget: 5000, ClaimTimeout: 30 * time.Second,
		Pacing: Pacing{Mode: PacingAuto, MinRate: 50, MaxRate: 5000}}
	f := newFixture(t, s, nil)
	f.r.SetLog(slog.New(slog.DiscardHandler))
	addWaiting(f.r, W)
	f.advance(500 * time.Millisecond)
	serving := f.r.Counters().Serving
	const every = 10
	var sum float64
	for seq := serving; seq < W; seq += every {
		st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: seq})
		if st.State != StateWaiting {
			t.Fatalf("seq %d: %+v", seq, st)
		}
		sum += every / st.PollAfter.Seconds()
	}
	// Sampling every tenth place overstates the sum near the front by at
	// most every/MinPoll.
	if budget := s.PollBudget + every; sum > budget {
		t.Errorf("a line of %d in auto polls %.0f/s, budget %v", W, sum, s.PollBudget)
	}
}

// When the line slows (capacity full, or a pacer cutting the rate), the
// ETA rate may fall only as fast as the line moves; polls are capped at
// the turn at the pace the line moves now instead, or a line told to come
// back at the old rate would poll several times per place it moves.
func TestPollsCappedAtThePace(t *testing.T) {
	s := Settings{Capacity: 5000, Rate: 1000, PollBudget: 500, ClaimTimeout: 30 * time.Second}
	f := newFixture(t, s, nil)
	addWaiting(f.r, 100_000)
	for range 120 { // a minute: 5,000 in, then a place per 6 ms as places time out
		f.advance(500 * time.Millisecond)
	}
	e := f.r.eta.Load()
	if e.rate < 2*e.pace {
		t.Fatalf("ETA rate %.0f, pace %.0f: the test wants the line slower than its estimate", e.rate, e.pace)
	}
	serving := f.r.Counters().Serving
	st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: serving + 20_000 - 1})
	atRate := time.Duration(float64(20_000) / e.rate * float64(time.Second))
	if st.PollAfter < 2*atRate {
		t.Errorf("20,000 ahead, pace %.0f/s: asked back after %v, the turn at the ETA rate %.0f/s", e.pace, st.PollAfter, e.rate)
	}
}

// A claimant waiting for capacity is not held by a long poll: the line has
// reached their place, so a held request would be woken at once and told
// to ask again at once, a loop as fast as the client can go. They are
// answered at once and asked back after min_poll.
func TestClaimantNotHeld(t *testing.T) {
	f, x, _ := lateWithCapacityFull(t)
	for i := range 3 {
		st, err := f.r.StatusWait(context.Background(), x, MaxStatusWait, 0)
		if err != nil || st.State != StateWaiting || st.Position != 1 {
			t.Fatalf("claim %d with capacity full: %+v %v, want next", i, st, err)
		}
		if st.WithinReach(MaxStatusWait) || st.PollAfter < f.r.Settings().MinPoll {
			t.Fatalf("claim %d: held %v, asked back after %v, want not held and at least min_poll", i, st.WithinReach(MaxStatusWait), st.PollAfter)
		}
	}
	if n := f.r.HeldStatuses(); n != 0 {
		t.Errorf("%d status requests still held", n)
	}
}

// When the rate is cut (the pacer cutting it 3-5x), the pace polls are
// capped at follows at once: the measured pace takes a minute to fall,
// and everybody asked back meanwhile at their turn at the old pace came
// back early, again and again.
func TestPaceFollowsACutAtOnce(t *testing.T) {
	s := Settings{Capacity: 1_000_000, Rate: 1000, PollBudget: 500, ClaimTimeout: 30 * time.Second}
	f := newFixture(t, s, nil)
	addWaiting(f.r, 200_000)
	for range 600 { // a minute at 1,000/s (the bucket holds a tenth of a second's)
		f.advance(100 * time.Millisecond)
	}
	if e := f.r.eta.Load(); e.pace < 900 {
		t.Fatalf("pace %.0f/s after a minute at 1,000/s", e.pace)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Rate = 100 }); err != nil {
		t.Fatal(err)
	}
	f.advance(100 * time.Millisecond)
	serving := f.r.Counters().Serving
	st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: serving + 20_000 - 1})
	// 20,000 ahead: the turn at 100/s is 200 s (at the old pace, 20 s).
	if want := 190 * time.Second; st.PollAfter < want {
		t.Errorf("20,000 ahead just after a cut to 100/s: asked back after %v, want at least %v", st.PollAfter, want)
	}
}

// Claimants (told next, waiting for capacity) ask at most half the poll
// budget a second in all, however many they are, never more often than
// min_poll, and within half the claim timeout, which keeps their claim.
func TestClaimantPoll(t *testing.T) {
	s := &Settings{PollBudget: 5000, MinPoll: 2 * time.Second, ClaimTimeout: 30 * time.Second}
	for _, tc := range []struct {
		claimants int64
		want      time.Duration
	}{
		{0, 2 * time.Second},
		{1, 2 * time.Second},
		{5000, 2 * time.Second},
		{20_000, 8 * time.Second},
		{37_500, 15 * time.Second},
		{1_000_000, 15 * time.Second}, // within the claim timeout before the budget
	} {
		if got := claimantPoll(s, tc.claimants); got != tc.want {
			t.Errorf("%d claimants: asked back after %v, want %v", tc.claimants, got, tc.want)
		}
	}
}

// A claimant's answer is spaced by the claimants of the node's view: 50
// late claims with capacity full ask back later than one.
func TestClaimantAnswerSpacedByClaimants(t *testing.T) {
	f, x, _ := lateWithCapacityFull(t)
	one := f.status(x)
	if one.Position != 1 || f.r.claimants.Load() != 1 {
		t.Fatalf("late claim with capacity full: %+v, %d claimants in the view; want next and 1", one, f.r.claimants.Load())
	}
	var st Status
	for seq := x.Seq - 49; seq < x.Seq; seq++ {
		st = f.status(Ticket{Room: x.Room, Phase: x.Phase, Seq: seq})
		if st.Position != 1 {
			t.Fatalf("late claim of seq %d with capacity full: %+v, want next", seq, st)
		}
	}
	s := f.r.Settings()
	if n := f.r.claimants.Load(); n != 50 {
		t.Fatalf("%d claimants in the view, want 50", n)
	}
	if want := claimantPoll(&s, 50); st.PollAfter != want || want <= one.PollAfter {
		t.Errorf("one of 50 claimants is asked back after %v, want %v (one alone: %v)", st.PollAfter, want, one.PollAfter)
	}
}
