package room

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// Status is what a ticket holder is told.
type Status struct {
	State    State
	Position uint64 // 1 = next; 0 when not known yet (pre-queue) or admitted
	Ahead    uint64
	// ETA is the expected wait; negative when it cannot be estimated
	// (paused, closed).
	ETA       time.Duration
	PollAfter time.Duration
	Pass      string
	PassUntil time.Time
	OpensAt   time.Time
	// Message and ResumeAt are the operator's word to the line (Settings),
	// for everybody not admitted.
	Message  string
	ResumeAt time.Time
	// Ticket is the ticket the status is of (its QueueID).
	Ticket Ticket
	// reached: the line has reached the ticket's place and its holder
	// waits as a claimant (next) for capacity and the rate. Nothing the
	// line does next is theirs alone to be woken for, so their status is
	// not held (WithinReach): held, it would answer at once, again and
	// again.
	reached bool
}

const (
	closedPollAfter   = time.Minute
	pausedMinPoll     = 5 * time.Second
	maxPrequeueSpread = time.Minute
	// MaxETA is the longest wait a status reports: an estimate beyond a
	// month means nothing, and computed in time.Duration a tiny rate
	// overflowed into a wait of a second.
	MaxETA = 30 * 24 * time.Hour
	// MaxPollAfter is the longest a client is told to wait before asking
	// again. Beyond it the poll budget no longer spaces the polls of the
	// farthest people (about a million behind at the default budget);
	// they ask once an hour, which a server answers without effort, and
	// a browser's timer never overflows.
	MaxPollAfter = time.Hour
)

// capped converts seconds to a duration of at most limit; it also takes
// an infinite or NaN number of seconds (a rate of zero) to limit.
func capped(secs float64, limit time.Duration) time.Duration {
	if !(secs < limit.Seconds()) {
		return limit
	}
	return time.Duration(secs * float64(time.Second))
}

// instant is the time a status is computed at, read from the clock when
// the computation first needs it: the status of a ticket waiting in an
// open room without a closing time does not, and reading the clock was a
// tenth of the cost of a status check.
type instant struct {
	clock clock.Clock
	t     time.Time
	read  bool
}

// readAt is an instant already read: t.
func readAt(t time.Time) *instant { return &instant{t: t, read: true} }

func (i *instant) now() time.Time {
	if !i.read {
		i.t, i.read = i.clock.Now(), true
	}
	return i.t
}

// closed is closedAt(s, i.now()), reading the clock only for a room with
// a closing time: without one, closedAt does not look at the time.
func (i *instant) closed(s *Settings) bool {
	if s.ClosesAt.IsZero() {
		return closedAt(s, time.Time{})
	}
	return closedAt(s, i.now())
}

// status computes a ticket's status from the node's view of the line. For
// a ticket still waiting it reads only atomics; it takes a step on the line
// only to draw the pre-queue at opening and to collect a pass. Every answer
// carries the ticket, and every answer to somebody not admitted the
// operator's message.
func (r *Room) status(t Ticket, s *Settings, at *instant) (st Status, err error) {
	if t.Phase == PhasePrequeue && !r.frozen.Load() {
		now := at.now()
		if now.Before(s.OpensAt) && !closedAt(s, now) {
			return r.prequeueStatus(t, s, now), nil
		}
		// The first status after opening draws the lottery.
		before := r.marks()
		v, err := r.shared.Freeze(bg, r.name, now, r.admitParams(s))
		if err != nil {
			return Status{}, r.fail(err)
		}
		if err := r.accept(&v, before); err != nil {
			return Status{}, err
		}
		// The draw is recorded before any place is shown.
		if err := r.record(now, false); err != nil {
			return Status{}, err
		}
		if !r.frozen.Load() {
			return Status{}, fmt.Errorf("%w: the pre-queue is not drawn yet", ErrPersist)
		}
	}
	p := r.position(t)
	serving := r.serving.Load()
	if p <= serving {
		st, err = r.claim(p, s, at.now())
		st.Ticket = t
		return st, err
	}
	if at.closed(s) {
		return Status{State: StateClosed, ETA: -1, PollAfter: closedPollAfter, Ticket: t, Message: s.Message, ResumeAt: s.ResumeAt}, nil
	}
	ahead := p - serving - 1
	st = Status{State: StateWaiting, Position: ahead + 1, Ahead: ahead, OpensAt: s.OpensAt, Ticket: t, Message: s.Message, ResumeAt: s.ResumeAt}
	waiting := r.n.Load() + r.postSeq.Load() - serving
	st.PollAfter = pollInterval(s, ahead+1, waiting)
	if s.Paused {
		st.State, st.ETA = StatePaused, -1
		st.PollAfter = max(st.PollAfter, pausedMinPoll)
		return st, nil
	}
	e := r.eta.Load()
	wait := turnAt(p, e.serving, e.rate)
	// Someone still waiting is never told "0 seconds", however fast the line.
	st.ETA = max(wait.Round(time.Second), time.Second)
	// Nobody is asked back later than their expected turn at the pace the
	// line moves now (etaBase.pace): when the line moves faster than the
	// poll budget spaces polls (rate*H(waiting) > PollBudget), d*H/budget
	// is longer than d/rate, and someone who obeyed would come back after
	// their turn and its claim timeout. A person told so is at or near the
	// front when they return. Should the rate rise before they ask again (a
	// pacer in auto), their turn may come and go before; the room then
	// keeps their place for them when they come back as told (late.go).
	turn := wait
	if e.pace != e.rate {
		turn = turnAt(p, e.serving, e.pace)
	}
	st.PollAfter = cappedAtTurn(s, st.PollAfter, turn)
	return st, nil
}

// turnAt is the expected wait of place p, counted from serving (the line
// as it was when rate was set) at rate.
func turnAt(p, serving uint64, rate float64) time.Duration {
	return capped(float64(p-min(serving, p-1))/rate, MaxETA)
}

// cappedAtTurn is the poll interval a waiting person is given: the poll
// budget's spacing, but never later than their turn (nor sooner than
// min_poll). Status gives it, and a late claim's bound (late.go) replays
// it from what each answer was computed from.
func cappedAtTurn(s *Settings, spacing, turn time.Duration) time.Duration {
	if turn < spacing {
		return max(turn, s.MinPoll).Round(time.Millisecond)
	}
	return spacing
}

func (r *Room) prequeueStatus(t Ticket, s *Settings, now time.Time) Status {
	untilOpen := s.OpensAt.Sub(now)
	count := r.preSeq.Load()
	// Poll within the budget while the pre-queue fills; at opening, spread
	// the first polls of the whole pre-queue over a short interval instead
	// of letting everyone arrive in the same millisecond. The offset is a
	// stable hash of the join number (unrelated to the drawn place),
	// uniform over the interval whenever the ticket asks: spreading by
	// Seq/count with the count at the time of asking sent everyone whose
	// only pre-queue poll was their join (Seq≈count) to the very end.
	poll := pollInterval(s, t.Seq+1, count)
	if poll >= untilOpen {
		spread := min(time.Duration(float64(count)/s.PollBudget*float64(time.Second)), maxPrequeueSpread, s.ClaimTimeout/2)
		poll = min(untilOpen+time.Duration(float64(spread)*spreadFraction(t.Seq)), MaxPollAfter)
	}
	return Status{State: StatePrequeue, ETA: untilOpen.Round(time.Second), PollAfter: poll, OpensAt: s.OpensAt,
		Ticket: t, Message: s.Message, ResumeAt: s.ResumeAt}
}

// spreadFraction is a stable fraction in [0, 1) of a join number: the top
// 53 bits of its splitmix64 mix.
func spreadFraction(seq uint64) float64 {
	return float64(mix64(seq+0x9e3779b97f4a7c15)>>11) / (1 << 53)
}

// pollInterval spaces polls so that a line of `waiting` people, each polling
// at interval d*H(waiting)/budget at distance d from the front, sends at most
// sum 1/(d*H/budget) = budget requests per second in total (H is the
// harmonic number), however long the line is.
func pollInterval(s *Settings, distance, waiting uint64) time.Duration {
	h := harmonic(waiting)
	d := capped(float64(distance)*h/s.PollBudget, MaxPollAfter)
	if d < s.MinPoll {
		d = s.MinPoll
	}
	// Rounded up, never to nearest: the unrounded intervals already add up
	// to the whole budget, so rounding any of them down would exceed it.
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// harmonic is H(n), never below the true value (the poll budget holds only
// then): summed for short lines, Euler-Maclaurin with γ to full precision
// for long ones.
func harmonic(n uint64) float64 {
	if n < 1 {
		return 1
	}
	if n < uint64(len(smallHarmonic)) {
		return smallHarmonic[n]
	}
	x := float64(n)
	return math.Log(x) + 0.5772156649015329 + 1/(2*x)
}

// smallHarmonic[n] is H(n) for short lines, summed once rather than on
// every status check (the sum was a tenth of the status handler's time).
var smallHarmonic = func() (t [64]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] + 1/float64(i)
	}
	return t
}()

// next is the status of the holder of a place passed over as uncertain who
// has asked for it: they go in before anyone else once capacity and the
// rate allow, and keep their claim by asking again within the claim
// timeout.
func (r *Room) next(s *Settings, now time.Time) Status {
	st := Status{State: StateWaiting, Position: 1, PollAfter: claimantPoll(s, r.claimants.Load()), OpensAt: s.OpensAt, Message: s.Message, ResumeAt: s.ResumeAt, reached: true}
	switch {
	case closedAt(s, now):
		st.State, st.Position, st.ETA, st.PollAfter = StateClosed, 0, -1, closedPollAfter
	case s.Paused:
		st.State, st.ETA, st.PollAfter = StatePaused, -1, max(s.MinPoll, pausedMinPoll)
	default:
		wait := time.Duration(float64(time.Second) / r.eta.Load().rate)
		st.ETA = max(wait.Round(time.Second), time.Second)
	}
	return st
}

// claimantPoll spaces the polls of the claimants (next): however many
// they are, they ask at most half the poll budget a second in all (n/d <=
// budget/2), never more often than min_poll, and always within half the
// claim timeout, which keeps their claim (each asks again in time, once
// admitted too: their session waits a claim timeout for them). Asked back
// every min_poll, the tens of thousands who come back late after the
// pacer raised the rate (late.go) asked several times the whole budget.
func claimantPoll(s *Settings, claimants int64) time.Duration {
	d := time.Duration(2 * float64(claimants) / s.PollBudget * float64(time.Second))
	return min(max(d, s.MinPoll), max(s.ClaimTimeout/2, s.MinPoll)).Round(time.Millisecond)
}

// position is the ticket's place in line, counting from 1.
func (r *Room) position(t Ticket) uint64 {
	if t.Phase == PhasePrequeue {
		return r.lottery.Load().Permute(t.Seq) + 1
	}
	return r.n.Load() + t.Seq + 1
}

// claim collects the admitted place p for its holder. A place whose
// session ended uncollected is claimed late if this node could have asked
// its holder back so late (late.go): asked only then, so that the marks
// are read on this rare path alone.
func (r *Room) claim(p uint64, s *Settings, now time.Time) (Status, error) {
	a := r.admitParams(s)
	expires, ok, err := r.claimStep(p, s, now, a)
	if err == nil && !ok {
		if a.LateUntil = r.lateUntil(p, s, now); a.LateUntil.After(now) {
			expires, ok, err = r.claimStep(p, s, now, a)
		}
	}
	if errors.Is(err, ErrClaimWait) {
		return r.next(s, now), nil
	}
	if err != nil {
		return Status{}, err
	}
	if !ok {
		return Status{}, ErrTurnOver
	}
	pass := r.keys.IssuePass(Pass{Room: s.Name, Position: p, Issued: now, Expires: expires})
	return Status{State: StateAdmitted, Pass: pass, PassUntil: expires, PollAfter: s.PassTTL / 2, OpensAt: s.OpensAt}, nil
}

// claimStep is one Claim on the line, its view applied.
func (r *Room) claimStep(p uint64, s *Settings, now time.Time, a AdmitParams) (time.Time, bool, error) {
	before := r.marks()
	expires, ok, v, err := r.shared.Claim(bg, r.name, p, now, s.PassTTL, a)
	if err != nil && !errors.Is(err, ErrClaimWait) {
		return time.Time{}, false, r.fail(err)
	}
	if err := r.accept(&v, before); err != nil {
		return time.Time{}, false, err
	}
	return expires, ok, err
}
