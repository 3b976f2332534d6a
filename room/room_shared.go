package room

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// NewShared creates a room whose counters and sessions live in sh, shared
// with every other node that serves a room of this name from the same sh
// and signs with the same keys. The room's times, pass lifetime, claim
// timeout and poll settings come from s on each node (configure the nodes
// alike); pause, close, capacity and rate are shared: the first node to
// start sets them from its settings, and an operator's change on any node
// holds for all.
func NewShared(s Settings, keys *Keyring, clk clock.Clock, sh Shared) (*Room, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.System{}
	}
	now := clk.Now()
	configured := controlsOf(&s)
	r := &Room{keys: keys, clock: clk, shared: sh, slots: map[uint64]slot{}, configured: &configured}
	r.lastTick, r.lastRateAt = now, now
	r.settings.Store(&s)
	r.etaRate.Store(math.Float64bits(s.Rate))
	ctx, cancel := sharedCtx()
	defer cancel()
	v, err := sh.Init(ctx, s.Name, configured, now)
	if err != nil {
		return nil, fmt.Errorf("room %q: shared queue state: %w", s.Name, err)
	}
	if err := r.applyView(v); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Room) admitParams(s *Settings) AdmitParams {
	return AdmitParams{OpensAt: s.OpensAt, ClosesAt: s.ClosesAt, ClaimTimeout: s.ClaimTimeout, LotteryKey: r.keys.CurrentKeyID()}
}

// applyView caches a view of the shared state. The serving number only
// ever grows here, so a slow reply cannot move anyone back in line.
func (r *Room) applyView(v View) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.settings.Load()
	if v.Frozen && !r.frozen.Load() {
		secret, ok := r.keys.deriveSecretWith(v.LotteryKey, "lottery/"+s.Name)
		if !ok {
			return fmt.Errorf("room %q: the pre-queue lottery was drawn with signing key %q, which this node does not have: give every node the same keys", s.Name, v.LotteryKey)
		}
		r.lotteryKey = v.LotteryKey
		r.n.Store(v.N)
		r.lottery.Store(NewLottery(secret, v.N))
		r.frozen.Store(true) // after the lottery: readers do not lock
	}
	if !r.frozen.Load() {
		r.preSeq = v.PreSeq
	} else {
		r.preSeq = v.N
	}
	if v.PostSeq > r.postSeq.Load() {
		r.postSeq.Store(v.PostSeq)
	}
	if v.Serving > r.serving.Load() {
		r.serving.Store(v.Serving)
	}
	r.sharedActive.Store(int64(v.Active))
	r.joins.Store(v.Joins)
	r.admissions.Store(v.Admissions)
	r.leaves.Store(v.Leaves)
	r.expired.Store(v.Expired)
	c := v.Controls
	if c.Paused != s.Paused || c.Closed != s.Closed || (c.Capacity > 0 && c.Capacity != s.Capacity) || (c.Rate > 0 && c.Rate != s.Rate) {
		ns := *s
		ns.Paused, ns.Closed = c.Paused, c.Closed
		if c.Capacity > 0 {
			ns.Capacity = c.Capacity
		}
		if c.Rate > 0 {
			ns.Rate = c.Rate
		}
		r.settings.Store(&ns)
	}
	return nil
}

func (r *Room) refreshShared() error {
	ctx, cancel := sharedCtx()
	defer cancel()
	v, err := r.shared.View(ctx, r.Name())
	if err != nil {
		return sharedErr(err)
	}
	return r.applyView(v)
}

func (r *Room) joinShared(s *Settings, now time.Time) (string, Status, error) {
	ctx, cancel := sharedCtx()
	defer cancel()
	phase, seq, v, err := r.shared.Join(ctx, s.Name, now, r.admitParams(s))
	if err != nil {
		return "", Status{}, sharedErr(err)
	}
	if err := r.applyView(v); err != nil {
		return "", Status{}, err
	}
	t := Ticket{Room: s.Name, Issued: now, Phase: phase, Seq: seq}
	tok := r.keys.IssueTicket(t)
	st, err := r.status(t, r.settings.Load(), now)
	return tok, st, err
}

// tickShared runs one admission step on the shared state and measures the
// admission rate from how far the serving number moved since this node last
// looked (every node measures the whole room's rate).
func (r *Room) tickShared(s *Settings, now time.Time) error {
	ctx, cancel := sharedCtx()
	defer cancel()
	v, err := r.shared.Tick(ctx, s.Name, now, r.admitParams(s))
	if err != nil {
		return sharedErr(err)
	}
	before := r.serving.Load()
	if err := r.applyView(v); err != nil {
		return err
	}
	r.mu.Lock()
	var admitted uint32
	if v.Serving > before {
		admitted = uint32(min(v.Serving-before, math.MaxUint32))
	}
	r.recordLocked(now, admitted, before < v.N+v.PostSeq)
	rate := r.smoothRateLocked(r.settings.Load(), now)
	r.mu.Unlock()
	r.etaRate.Store(math.Float64bits(rate))
	return nil
}

func (r *Room) claimShared(p uint64, s *Settings, now time.Time) (Status, error) {
	ctx, cancel := sharedCtx()
	defer cancel()
	expires, ok, err := r.shared.Claim(ctx, s.Name, p, now, s.PassTTL)
	if err != nil {
		return Status{}, sharedErr(err)
	}
	if !ok {
		return Status{}, ErrTurnOver
	}
	pass := r.keys.IssuePass(Pass{Room: s.Name, Position: p, Issued: now, Expires: expires})
	return Status{State: StateAdmitted, Pass: pass, PassUntil: expires, PollAfter: s.PassTTL / 2, OpensAt: s.OpensAt}, nil
}

func (r *Room) leaveShared(p Pass, now time.Time) error {
	ctx, cancel := sharedCtx()
	defer cancel()
	s := r.settings.Load()
	if _, err := r.shared.Leave(ctx, s.Name, p.Position, now, r.admitParams(s)); err != nil {
		return sharedErr(err)
	}
	return nil
}

// activeShared checks that a verified pass's session is still active. It
// fails closed: a pass whose session cannot be checked lets nobody in.
func (r *Room) activeShared(p Pass, now time.Time) error {
	ctx, cancel := sharedCtx()
	defer cancel()
	active, err := r.shared.Active(ctx, p.Room, p.Position, now)
	if err != nil {
		return sharedErr(err)
	}
	if !active {
		return ErrRevoked
	}
	return nil
}

func (r *Room) setControlsShared(name string, c Controls) error {
	ctx, cancel := sharedCtx()
	defer cancel()
	if err := r.shared.SetControls(ctx, name, c); err != nil {
		return sharedErr(err)
	}
	return nil
}

// sharedCtx bounds one call to the shared state.
func sharedCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), SharedTimeout)
}

// sharedErr is what a failed call to the shared state returns: ErrPersist
// (503 to people, fail closed at the gate) wrapping the cause.
func sharedErr(err error) error { return fmt.Errorf("%w: %w", ErrPersist, err) }
