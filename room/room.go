// Package room is the waiting-room core: signed tickets that carry their own
// place in line, the pre-queue lottery, paced admission, signed passes and
// the gate that checks them. It is plain Go with an injected clock; HTTP and
// storage are adapters elsewhere.
package room

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// State of a room or of a ticket in it.
type State string

const (
	StateScheduled State = "scheduled" // room: the pre-queue has not started
	StatePrequeue  State = "prequeue"  // room and ticket: before opening; places drawn at opening
	StateOpen      State = "open"      // room: admitting
	StateWaiting   State = "waiting"   // ticket: in line
	StateAdmitted  State = "admitted"  // ticket: has a pass
	StatePaused    State = "paused"    // room and ticket: operator paused admission
	StateClosed    State = "closed"    // room and ticket: no more joins or admissions
)

// Errors for the HTTP layer to map to statuses.
var (
	ErrNotYetOpen = errors.New("the room has not started taking people yet")
	ErrRoomClosed = errors.New("the room is closed")
	ErrTurnOver   = errors.New("this ticket's turn has passed: its pass was returned or expired")
	ErrPersist    = errors.New("cannot record the queue state")
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
}

type slot struct {
	expires time.Time
	claimed bool
}

// Room is one waiting room. All methods are safe for concurrent use.
type Room struct {
	keys  *Keyring
	clock clock.Clock
	store Persister
	// shared, when set, holds the counters and sessions for every node
	// serving this room (see shared.go); the fields below then cache its
	// last view, and the status of a waiting ticket reads it afresh.
	shared       Shared
	sharedActive atomic.Int64

	settings atomic.Pointer[Settings]

	// Read without locks on the status path.
	frozen  atomic.Bool   // pre-queue closed, lottery drawn
	n       atomic.Uint64 // pre-queue size once frozen
	lottery atomic.Pointer[Lottery]
	postSeq atomic.Uint64 // open-phase tickets issued
	serving atomic.Uint64 // positions 1..serving have been admitted
	etaRate atomic.Uint64 // float64 bits: admissions per second used for ETAs

	mu       sync.RWMutex
	preSeq   uint64
	resvPre  uint64 // sequence numbers reserved durably (see Persister)
	resvPost uint64
	// Sequence ranges that may or may not have been issued before a crash:
	// their places are admitted with a short claim timeout so that phantom
	// places do not hold capacity for long.
	uncertain  []SeqRange
	slots      map[uint64]slot
	tokens     float64
	lastTick   time.Time
	lastRateAt time.Time
	history    [64]second
	dirty      bool
	// configured is what the configuration said of the operator's
	// controls when the room was created (see Snapshot.Configured).
	configured *Controls
	// lotteryKey names the signing key the lottery secret was derived from,
	// so that a restart with a rotated keyring draws the same places.
	lotteryKey string
	// Snapshots are numbered (snapGen, under mu) and written under saveMu
	// only if newer than the last one written (savedGen): see saveSnapshot.
	snapGen  uint64
	saveMu   sync.Mutex
	savedGen uint64

	joins, admissions, leaves, expired atomic.Uint64
}

type second struct {
	unix       int64
	admitted   uint32
	backlogged bool
}

// SeqRange is a half-open range [From, To) of join sequence numbers.
type SeqRange struct {
	Phase Phase  `json:"phase"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
}

const (
	reserveBlock      = 256
	uncertainClaim    = 15 * time.Second
	rateWindow        = 60 // seconds of history for the measured admission rate
	minRateSamples    = 5  // backlogged seconds needed before trusting the measurement
	closedPollAfter   = time.Minute
	pausedMinPoll     = 5 * time.Second
	maxPrequeueSpread = time.Minute
	etaSmoothing      = 20 * time.Second
)

// New creates a room. store may be nil (no persistence: a restart forgets
// the line). If store holds a snapshot for this room, the room resumes from
// it, keeping every issued ticket's place.
func New(s Settings, keys *Keyring, clk clock.Clock, store Persister) (*Room, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.System{}
	}
	configured := controlsOf(&s)
	r := &Room{keys: keys, clock: clk, store: store, slots: map[uint64]slot{}, configured: &configured}
	r.lastTick = clk.Now()
	r.tokens = max(1, s.Rate/10) // a new room starts with a full bucket
	r.lastRateAt = r.lastTick
	if store != nil {
		snap, err := store.Load(s.Name)
		if err != nil {
			return nil, err
		}
		if snap != nil {
			if err := r.restore(&s, snap); err != nil {
				return nil, err
			}
		}
	}
	r.settings.Store(&s)
	// Until there is a measurement, ETAs assume the configured rate.
	r.etaRate.Store(math.Float64bits(s.Rate))
	return r, nil
}

// Name of the room.
func (r *Room) Name() string { return r.settings.Load().Name }

// Settings returns a copy of the current settings.
func (r *Room) Settings() Settings { return *r.settings.Load() }

func closedAt(s *Settings, now time.Time) bool {
	return s.Closed || (!s.ClosesAt.IsZero() && !now.Before(s.ClosesAt))
}

// State returns the room's state now.
func (r *Room) State() State { return r.stateAt(r.settings.Load(), r.clock.Now()) }

func (r *Room) stateAt(s *Settings, now time.Time) State {
	switch {
	case closedAt(s, now):
		return StateClosed
	case !r.frozen.Load() && !s.PrequeueAt.IsZero() && now.Before(s.PrequeueAt):
		return StateScheduled
	case !r.frozen.Load() && now.Before(s.OpensAt):
		return StatePrequeue
	case s.Paused:
		return StatePaused
	}
	return StateOpen
}

// Join issues a new ticket.
func (r *Room) Join() (string, Status, error) {
	now := r.clock.Now()
	s := r.settings.Load()
	switch r.stateAt(s, now) {
	case StateScheduled:
		return "", Status{OpensAt: s.OpensAt}, ErrNotYetOpen
	case StateClosed:
		return "", Status{}, ErrRoomClosed
	}
	if r.shared != nil {
		return r.joinShared(s, now)
	}
	t := Ticket{Room: s.Name, Issued: now}
	r.mu.Lock()
	if !r.frozen.Load() && now.Before(s.OpensAt) {
		if r.preSeq >= r.resvPre {
			if err := r.reserveLocked(s, PhasePrequeue); err != nil {
				r.mu.Unlock()
				return "", Status{}, err
			}
		}
		t.Phase, t.Seq = PhasePrequeue, r.preSeq
		r.preSeq++
	} else {
		r.freezeLocked(s, now)
		seq := r.postSeq.Load()
		if seq >= r.resvPost {
			if err := r.reserveLocked(s, PhaseOpen); err != nil {
				r.mu.Unlock()
				return "", Status{}, err
			}
		}
		t.Phase, t.Seq = PhaseOpen, seq
		r.postSeq.Store(seq + 1)
		// Someone joining an empty line with free capacity goes straight in.
		// Fix: admit with the settings as they are now, under the lock (s
		// was loaded before it; an Update that paused the room or lowered
		// its capacity in between must be obeyed).
		r.admitLocked(r.settings.Load(), now)
	}
	r.dirty = true
	r.mu.Unlock()
	r.joins.Add(1)
	tok := r.keys.IssueTicket(t)
	st, err := r.status(t, s, now)
	return tok, st, err
}

// VerifyTicket checks that tok is a ticket of this room.
func (r *Room) VerifyTicket(tok string) (Ticket, error) {
	return r.keys.VerifyTicket(tok, r.Name())
}

// Status tells a ticket holder where they stand; when their turn has come
// it carries a pass.
func (r *Room) Status(t Ticket) (Status, error) {
	if r.shared != nil {
		// The line may have moved on another node: read the counters
		// afresh, so that a position never goes up from one node to the
		// next and an admitted place is seen at once.
		if err := r.refreshShared(); err != nil {
			return Status{}, err
		}
	}
	return r.status(t, r.settings.Load(), r.clock.Now())
}

func (r *Room) status(t Ticket, s *Settings, now time.Time) (Status, error) {
	if t.Phase == PhasePrequeue && !r.frozen.Load() {
		if now.Before(s.OpensAt) && !closedAt(s, now) {
			return r.prequeueStatus(t, s, now), nil
		}
		if r.shared != nil {
			if err := r.tickShared(s, now); err != nil {
				return Status{}, err
			}
			if !r.frozen.Load() {
				return Status{}, fmt.Errorf("%w: the pre-queue is not drawn yet", ErrPersist)
			}
		} else {
			r.mu.Lock()
			r.freezeLocked(s, now)
			r.mu.Unlock()
		}
	}
	p := r.position(t)
	serving := r.serving.Load()
	if p <= serving {
		return r.claim(p, s, now)
	}
	if closedAt(s, now) {
		return Status{State: StateClosed, ETA: -1, PollAfter: closedPollAfter}, nil
	}
	ahead := p - serving - 1
	st := Status{State: StateWaiting, Position: ahead + 1, Ahead: ahead, OpensAt: s.OpensAt}
	waiting := r.n.Load() + r.postSeq.Load() - serving
	st.PollAfter = pollInterval(s, ahead+1, waiting)
	if s.Paused {
		st.State, st.ETA = StatePaused, -1
		st.PollAfter = max(st.PollAfter, pausedMinPoll)
		return st, nil
	}
	rate := math.Float64frombits(r.etaRate.Load())
	wait := time.Duration(float64(ahead+1) / rate * float64(time.Second))
	// Fix: a waiting person's ETA was rounded to 0 near the front of a fast
	// line; "0 seconds" while still waiting is wrong, so it is at least 1s.
	st.ETA = max(wait.Round(time.Second), time.Second)
	// Fix: when the line moves faster than the poll budget spaces polls
	// (rate*H(waiting) > PollBudget) the advised interval d*H/budget was
	// longer than the time to reach the front (d/rate), so people who
	// obeyed poll_after came back after their turn and its claim timeout
	// and got ErrTurnOver. Ask them back no later than their expected turn;
	// someone told so is at (or near) the front when they return, so this
	// adds about one poll per admission rather than breaking the budget.
	if wait < st.PollAfter {
		st.PollAfter = max(wait, s.MinPoll).Round(time.Millisecond)
	}
	return st, nil
}

func (r *Room) prequeueStatus(t Ticket, s *Settings, now time.Time) Status {
	untilOpen := s.OpensAt.Sub(now)
	r.mu.RLock()
	count := r.preSeq
	r.mu.RUnlock()
	// Poll within the budget while the pre-queue fills; at opening, spread
	// the first polls of the whole pre-queue over a short interval (by join
	// sequence, which is unrelated to the drawn place) instead of letting
	// everyone arrive in the same millisecond.
	poll := pollInterval(s, t.Seq+1, count)
	if poll >= untilOpen {
		spread := min(time.Duration(float64(count)/s.PollBudget*float64(time.Second)), maxPrequeueSpread, s.ClaimTimeout/2)
		poll = untilOpen + time.Duration(float64(spread)*float64(t.Seq)/float64(max(count, 1)))
	}
	return Status{State: StatePrequeue, ETA: untilOpen.Round(time.Second), PollAfter: poll, OpensAt: s.OpensAt}
}

// pollInterval spaces polls so that a line of `waiting` people, each polling
// at interval d*H(waiting)/budget at distance d from the front, sends at most
// sum 1/(d*H/budget) = budget requests per second in total (H is the
// harmonic number), however long the line is.
func pollInterval(s *Settings, distance, waiting uint64) time.Duration {
	h := harmonic(waiting)
	secs := float64(distance) * h / s.PollBudget
	d := time.Duration(secs * float64(time.Second))
	if d < s.MinPoll {
		d = s.MinPoll
	}
	// Fix: round up, never to nearest: the unrounded intervals already add
	// up to the whole budget, so rounding some of them down made the line
	// exceed it (e.g. 1.0000016 polls/s for a budget of 1).
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

func harmonic(n uint64) float64 {
	if n < 1 {
		return 1
	}
	if n < uint64(len(smallHarmonic)) {
		return smallHarmonic[n]
	}
	x := float64(n)
	return math.Log(x) + 0.5772156649015329 + 1/(2*x) // γ to full precision: truncated, H(n) came out below the true value for n > ~2e5
}

// smallHarmonic[n] is H(n) for short lines, summed once rather than on
// every status check (the sum was a tenth of the status handler's time).
var smallHarmonic = func() (t [64]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] + 1/float64(i)
	}
	return t
}()

// position is the ticket's place in line, counting from 1.
func (r *Room) position(t Ticket) uint64 {
	if t.Phase == PhasePrequeue {
		return r.lottery.Load().Permute(t.Seq) + 1
	}
	return r.n.Load() + t.Seq + 1
}

func (r *Room) claim(p uint64, s *Settings, now time.Time) (Status, error) {
	if r.shared != nil {
		return r.claimShared(p, s, now)
	}
	r.mu.Lock()
	sl, ok := r.slots[p]
	if ok && !now.Before(sl.expires) {
		delete(r.slots, p)
		r.expired.Add(1)
		ok = false
	}
	if !ok {
		r.mu.Unlock()
		return Status{}, ErrTurnOver
	}
	if !sl.claimed {
		sl.claimed = true
		sl.expires = now.Add(s.PassTTL)
		r.slots[p] = sl
		r.dirty = true
	}
	r.mu.Unlock()
	pass := r.keys.IssuePass(Pass{Room: s.Name, Position: p, Issued: now, Expires: sl.expires})
	return Status{State: StateAdmitted, Pass: pass, PassUntil: sl.expires, PollAfter: s.PassTTL / 2, OpensAt: s.OpensAt}, nil
}

// VerifyPass checks a pass for this room at the current time, including that
// its session is still active here (not returned through Leave).
func (r *Room) VerifyPass(tok string) (Pass, error) {
	now := r.clock.Now()
	p, err := r.keys.VerifyPass(tok, r.Name(), now)
	if err != nil {
		return p, err
	}
	if r.shared != nil {
		return p, r.activeShared(p, now)
	}
	r.mu.RLock()
	sl, ok := r.slots[p.Position]
	r.mu.RUnlock()
	if !ok || !sl.claimed || !now.Before(sl.expires) {
		return p, ErrRevoked
	}
	return p, nil
}

// ErrRevoked means the pass is well formed and signed but its session has
// ended (returned or expired here).
var ErrRevoked = errors.New("pass no longer active")

// Leave ends the session of a pass at once, freeing its place for the next
// person. Leaving twice is harmless. It fails only when shared state cannot
// be reached; the session then ends when its pass expires.
func (r *Room) Leave(p Pass) error {
	now := r.clock.Now()
	if r.shared != nil {
		return r.leaveShared(p, now)
	}
	r.mu.Lock()
	s := r.settings.Load() // under the lock: see Tick
	if _, ok := r.slots[p.Position]; ok {
		delete(r.slots, p.Position)
		r.leaves.Add(1)
		r.dirty = true
		r.admitLocked(s, now)
	}
	r.mu.Unlock()
	return nil
}

// Tick expires sessions, admits people as capacity and rate allow, updates
// the measured rate and saves the state if it changed. The manager calls it
// every few tens of milliseconds.
func (r *Room) Tick() error {
	now := r.clock.Now()
	if r.shared != nil {
		return r.tickShared(r.settings.Load(), now)
	}
	r.mu.Lock()
	// Fix: settings are loaded under the lock. Loaded before it, a Tick
	// racing with Update (pause, lower capacity) admitted with the old
	// settings after Update had returned.
	s := r.settings.Load()
	if !r.frozen.Load() && !now.Before(s.OpensAt) {
		r.freezeLocked(s, now)
	}
	for p, sl := range r.slots {
		if !now.Before(sl.expires) {
			delete(r.slots, p)
			r.expired.Add(1)
			r.dirty = true
		}
	}
	r.admitLocked(s, now)
	rate := r.smoothRateLocked(s, now)
	var snap *Snapshot
	var gen uint64
	if r.dirty && r.store != nil {
		snap, gen = r.snapshotLocked(s), r.snapGen
		r.dirty = false
	}
	r.mu.Unlock()
	r.etaRate.Store(math.Float64bits(rate))
	if snap != nil {
		if err := r.saveSnapshot(s.Name, snap, gen); err != nil {
			r.mu.Lock()
			r.dirty = true
			r.mu.Unlock()
			return err
		}
	}
	return nil
}

// smoothRateLocked returns the rate ETAs should use now. It glides towards
// the measured rate (time constant etaSmoothing) so that estimates do not
// jump when one second is unusual; a stateless ticket cannot smooth its own
// ETA. The caller stores it in etaRate after unlocking.
func (r *Room) smoothRateLocked(s *Settings, now time.Time) float64 {
	rate := math.Float64frombits(r.etaRate.Load())
	if m, ok := r.measuredRateLocked(s, now); ok {
		dt := now.Sub(r.lastRateAt).Seconds()
		if dt > 0 {
			alpha := 1 - math.Exp(-dt/etaSmoothing.Seconds())
			rate += alpha * (m - rate)
		}
	} else if !r.frozen.Load() {
		rate = s.Rate
	}
	r.lastRateAt = now
	return rate
}

func (r *Room) freezeLocked(s *Settings, now time.Time) {
	if r.frozen.Load() {
		return
	}
	n := r.preSeq
	if r.store != nil && r.resvPre > n {
		// Fix: n used to be the reservation high-water mark, so sequence
		// numbers reserved but never issued (up to 255) became phantom
		// places in the lottery (4 pre-queue joiners were spread over 256
		// places), each holding a capacity slot for the full ClaimTimeout.
		// Now the exact count is saved before any place is revealed. Only if
		// that save fails do we fall back to the reservation (what a restart
		// would use), marking the unissued numbers uncertain so that their
		// places are released quickly.
		// (frozen must not be set before the lottery: readers do not lock.)
		snap := r.snapshotLocked(s)
		snap.Frozen, snap.N, snap.PreSeq, snap.ResvPre = true, n, n, n
		snap.LotteryKey = r.keys.CurrentKeyID()
		if err := r.saveSnapshot(s.Name, snap, r.snapGen); err != nil {
			r.uncertain = append(r.uncertain, SeqRange{PhasePrequeue, n, r.resvPre})
			n = r.resvPre
		}
	}
	r.preSeq, r.resvPre = n, n
	r.n.Store(n)
	// Fix: remember which key the lottery was derived from (see restore).
	r.lotteryKey = r.keys.CurrentKeyID()
	r.lottery.Store(NewLottery(r.keys.deriveSecret("lottery/"+s.Name), n))
	r.frozen.Store(true)
	r.lastTick = now
	r.dirty = true
}

func (r *Room) admitLocked(s *Settings, now time.Time) {
	dt := now.Sub(r.lastTick).Seconds()
	r.lastTick = now
	if !r.frozen.Load() || s.Paused || closedAt(s, now) {
		return
	}
	burst := max(1, s.Rate/10)
	if dt > 0 {
		r.tokens = min(burst, r.tokens+s.Rate*dt)
	}
	total := r.n.Load() + r.postSeq.Load()
	serving := r.serving.Load()
	backlogged := serving < total
	var admitted uint32
	for serving < total && len(r.slots) < s.Capacity && r.tokens >= 1 {
		serving++
		claim := s.ClaimTimeout
		if r.isUncertain(serving) {
			claim = min(claim, uncertainClaim)
		}
		r.slots[serving] = slot{expires: now.Add(claim)}
		r.tokens--
		admitted++
	}
	if admitted > 0 {
		r.serving.Store(serving)
		r.admissions.Add(uint64(admitted))
		r.dirty = true
	}
	r.recordLocked(now, admitted, backlogged)
}

// recordLocked adds admissions to the second of now in the history the
// measured rate is taken from.
func (r *Room) recordLocked(now time.Time, admitted uint32, backlogged bool) {
	sec := now.Unix()
	h := &r.history[sec%int64(len(r.history))]
	if h.unix != sec {
		*h = second{unix: sec}
	}
	h.admitted += admitted
	h.backlogged = h.backlogged || backlogged
}

// isUncertain reports whether the place p belongs to a sequence number in a
// range that may not have been issued before a crash.
func (r *Room) isUncertain(p uint64) bool {
	if len(r.uncertain) == 0 {
		return false
	}
	n := r.n.Load()
	phase, seq := PhaseOpen, p-1-n
	if p <= n {
		phase, seq = PhasePrequeue, r.lottery.Load().Inverse(p-1)
	}
	for _, u := range r.uncertain {
		if u.Phase == phase && seq >= u.From && seq < u.To {
			return true
		}
	}
	return false
}

// measuredRateLocked is the admission rate over the last minute's seconds in
// which people were waiting (idle seconds say nothing about throughput).
// Until there are enough such seconds it reports no measurement.
func (r *Room) measuredRateLocked(s *Settings, now time.Time) (float64, bool) {
	sec := now.Unix()
	var sum float64
	var n int
	for _, h := range r.history {
		if h.backlogged && h.unix < sec && h.unix >= sec-rateWindow {
			sum += float64(h.admitted)
			n++
		}
	}
	if n < minRateSamples || sum == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// Counters is the room's state for operators and metrics.
type Counters struct {
	Room       string   `json:"room"`
	State      State    `json:"state"`
	Joined     uint64   `json:"joined"`
	Prequeued  uint64   `json:"prequeued"`
	Serving    uint64   `json:"serving"`
	Waiting    uint64   `json:"waiting"`
	Active     int      `json:"active"`
	Admissions uint64   `json:"admissions"`
	Leaves     uint64   `json:"leaves"`
	Expired    uint64   `json:"expired"`
	AdmitRate  float64  `json:"admission_rate"`
	Settings   Settings `json:"settings"`
	JoinsTotal uint64   `json:"joins_total"`
}

// Counters returns a consistent snapshot of the room's counters.
func (r *Room) Counters() Counters {
	now := r.clock.Now()
	s := r.settings.Load()
	r.mu.RLock()
	c := Counters{
		Room:      s.Name,
		State:     r.stateAt(s, now),
		Prequeued: r.preSeq,
		Active:    len(r.slots),
	}
	if r.shared != nil {
		c.Active = int(r.sharedActive.Load())
	}
	if r.frozen.Load() {
		c.Prequeued = r.n.Load()
	}
	r.mu.RUnlock()
	c.Serving = r.serving.Load()
	c.Joined = c.Prequeued + r.postSeq.Load()
	if r.frozen.Load() && c.Joined > c.Serving {
		c.Waiting = c.Joined - c.Serving
	} else if !r.frozen.Load() {
		c.Waiting = c.Prequeued
	}
	c.Admissions = r.admissions.Load()
	c.Leaves = r.leaves.Load()
	c.Expired = r.expired.Load()
	c.JoinsTotal = r.joins.Load()
	c.AdmitRate = math.Float64frombits(r.etaRate.Load())
	c.Settings = *s
	return c
}

// Update changes settings while the room runs (pause, resume, close,
// capacity, rate...). Lowering capacity below the number of active sessions
// admits nobody new until enough sessions end; it does not cut sessions off.
func (r *Room) Update(change func(*Settings)) (Settings, error) {
	if r.shared != nil {
		// Start from the shared controls as they are now, so that a pause
		// here does not undo a capacity another node set a moment ago.
		if err := r.refreshShared(); err != nil {
			return r.Settings(), err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.settings.Load()
	s := *old
	change(&s)
	s.Name = old.Name
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return *old, err
	}
	if r.frozen.Load() && !s.OpensAt.Equal(old.OpensAt) {
		return *old, errors.New("opens_at cannot change after the room has opened")
	}
	if c := controlsOf(&s); r.shared != nil && c != controlsOf(old) {
		if err := r.setControlsShared(s.Name, c); err != nil {
			return *old, err
		}
	}
	r.settings.Store(&s)
	r.dirty = true
	return s, nil
}
