package room

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Shared keeps rooms' queue counters outside the process, so that several
// sluice nodes serve one line: a ticket joined on one node has the same
// place, the same position and the same turn on every other. It holds
// counters and at most `capacity` sessions per room, never anything per
// waiting person (room/redis keeps them in Redis; MemShared in memory, for
// tests and as the reference the contract suite in room/sharedtest checks
// every implementation against).
//
// Every method is one atomic step on the shared state. Every method but Init
// and Active fails with ErrNoSharedState for a room whose state is not there
// (never initialised, or lost: Redis restarted without persistence) rather
// than start the line again from zero, which would give places that tickets
// in people's hands already hold. Times are the
// calling node's clock; admission never moves the room's clock backwards,
// so nodes whose clocks differ slightly cannot admit twice for one interval.
type Shared interface {
	// Init creates the room's state with controls c if there is none (the
	// first node to start wins; later nodes adopt what is there) and
	// returns the current view.
	Init(ctx context.Context, room string, c Controls, now time.Time) (View, error)
	// View returns the room's current counters.
	View(ctx context.Context, room string) (View, error)
	// Join takes the next sequence number: of the pre-queue while it is not
	// frozen and now is before a.OpensAt, else of the open phase, freezing
	// the pre-queue first if needed (recording a.LotteryKey). An open-phase
	// join then runs one admission step, so that someone joining an empty
	// line with free capacity goes straight in.
	Join(ctx context.Context, room string, now time.Time, a AdmitParams) (Phase, uint64, View, error)
	// Tick freezes the pre-queue once now reaches a.OpensAt, ends sessions
	// whose time is up and admits as capacity and rate allow.
	Tick(ctx context.Context, room string, now time.Time, a AdmitParams) (View, error)
	// Claim marks the admitted place pos as collected, its session lasting
	// passTTL from now, and returns when the session ends. ok is false when
	// pos holds no session (not admitted yet, returned or expired).
	Claim(ctx context.Context, room string, pos uint64, now time.Time, passTTL time.Duration) (expires time.Time, ok bool, err error)
	// Active reports whether pos holds a collected, unexpired session.
	Active(ctx context.Context, room string, pos uint64, now time.Time) (bool, error)
	// Leave ends pos's session at once and runs an admission step; it
	// reports whether there was a session.
	Leave(ctx context.Context, room string, pos uint64, now time.Time, a AdmitParams) (bool, error)
	// SetControls changes pause, close, capacity and rate for every node.
	SetControls(ctx context.Context, room string, c Controls) error
}

// ErrNoSharedState: the room has no shared state (see Shared).
var ErrNoSharedState = errors.New("the room's shared queue state is missing (never created, or lost: was Redis restarted without persistence?); refusing to start the line again from zero, which would hand out places that tickets already hold")

// Controls are the settings an operator changes while a room runs; with
// Shared they are shared by every node.
type Controls struct {
	Paused   bool    `json:"paused"`
	Closed   bool    `json:"closed"`
	Capacity int     `json:"capacity"`
	Rate     float64 `json:"rate"`
}

// controlsOf returns the controls part of s.
func controlsOf(s *Settings) Controls {
	return Controls{Paused: s.Paused, Closed: s.Closed, Capacity: s.Capacity, Rate: s.Rate}
}

// AdmitParams are the room's settings an admission step needs.
type AdmitParams struct {
	OpensAt      time.Time // zero: open from the start
	ClosesAt     time.Time // zero: never closes by itself
	ClaimTimeout time.Duration
	// LotteryKey is recorded if this call freezes the pre-queue: the id of
	// the signing key every node derives the lottery from.
	LotteryKey string
}

// View is a room's shared state as of one atomic step.
type View struct {
	Frozen     bool
	N          uint64 // pre-queue size once frozen
	PreSeq     uint64 // pre-queue joins so far
	PostSeq    uint64 // open-phase joins so far
	Serving    uint64 // places 1..Serving have been admitted
	Active     int    // sessions (admitted places not yet ended)
	Controls   Controls
	LotteryKey string
	Joins      uint64
	Admissions uint64
	Leaves     uint64
	Expired    uint64
}

// SharedTimeout bounds each call a room makes to its Shared state; a call
// that does not finish in time fails closed (the person is told to wait).
const SharedTimeout = 2 * time.Second

// MemShared is Shared in one process's memory: what the contract suite
// checks Redis against, and a way to run several Room "nodes" in one test.
type MemShared struct {
	mu    sync.Mutex
	rooms map[string]*memRoom
}

type memRoom struct {
	inited   bool // by Init: a room read or written before is not "there"
	v        View
	tokens   float64
	lastTick time.Time
	slots    map[uint64]slot
}

// NewMemShared returns an empty in-memory Shared.
func NewMemShared() *MemShared { return &MemShared{rooms: map[string]*memRoom{}} }

// inited returns the room if Init made it.
func (m *MemShared) inited(name string) (*memRoom, error) {
	if r, ok := m.rooms[name]; ok && r.inited {
		return r, nil
	}
	return nil, ErrNoSharedState
}

// Forget drops a room's state, as a Redis restart without persistence
// would (for tests of that failure).
func (m *MemShared) Forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rooms, name)
}

func (m *MemShared) room(name string) *memRoom {
	r := m.rooms[name]
	if r == nil {
		r = &memRoom{slots: map[uint64]slot{}}
		m.rooms[name] = r
	}
	return r
}

func (r *memRoom) view() View {
	v := r.v
	v.Active = len(r.slots)
	return v
}

func (m *MemShared) Init(_ context.Context, name string, c Controls, now time.Time) (View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(name)
	if r.inited {
		return r.view(), nil
	}
	r.inited = true
	r.v.Controls = c
	r.tokens = max(1, c.Rate/10)
	r.lastTick = now
	return r.view(), nil
}

func (m *MemShared) View(_ context.Context, name string) (View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return View{}, err
	}
	return r.view(), nil
}

func (r *memRoom) freeze(a AdmitParams) {
	if r.v.Frozen {
		return
	}
	r.v.Frozen, r.v.N = true, r.v.PreSeq
	if r.v.LotteryKey == "" {
		r.v.LotteryKey = a.LotteryKey
	}
}

// admit is one admission step: the same arithmetic as Room.admitLocked.
func (r *memRoom) admit(now time.Time, a AdmitParams) {
	dt := now.Sub(r.lastTick).Seconds()
	if now.After(r.lastTick) {
		r.lastTick = now
	}
	c := r.v.Controls
	if !r.v.Frozen || c.Paused || c.Closed || (!a.ClosesAt.IsZero() && !now.Before(a.ClosesAt)) {
		return
	}
	if dt > 0 {
		r.tokens = min(max(1, c.Rate/10), r.tokens+float64(c.Rate*dt)) // no fused multiply-add: Redis (Lua) rounds twice
	}
	total := r.v.N + r.v.PostSeq
	for r.v.Serving < total && len(r.slots) < c.Capacity && r.tokens >= 1 {
		r.v.Serving++
		r.slots[r.v.Serving] = slot{expires: now.Add(a.ClaimTimeout)}
		r.tokens--
		r.v.Admissions++
	}
}

func (m *MemShared) Join(_ context.Context, name string, now time.Time, a AdmitParams) (Phase, uint64, View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return 0, 0, View{}, err
	}
	r.v.Joins++
	if !r.v.Frozen && now.Before(a.OpensAt) {
		r.v.PreSeq++
		return PhasePrequeue, r.v.PreSeq - 1, r.view(), nil
	}
	r.freeze(a)
	r.v.PostSeq++
	seq := r.v.PostSeq - 1
	r.admit(now, a)
	return PhaseOpen, seq, r.view(), nil
}

func (m *MemShared) Tick(_ context.Context, name string, now time.Time, a AdmitParams) (View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return View{}, err
	}
	if !now.Before(a.OpensAt) {
		r.freeze(a)
	}
	for p, sl := range r.slots {
		if !now.Before(sl.expires) {
			delete(r.slots, p)
			r.v.Expired++
		}
	}
	r.admit(now, a)
	return r.view(), nil
}

func (m *MemShared) Claim(_ context.Context, name string, pos uint64, now time.Time, passTTL time.Duration) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return time.Time{}, false, err
	}
	sl, ok := r.slots[pos]
	if !ok {
		return time.Time{}, false, nil
	}
	if !now.Before(sl.expires) {
		delete(r.slots, pos)
		r.v.Expired++
		return time.Time{}, false, nil
	}
	if !sl.claimed {
		sl = slot{claimed: true, expires: now.Add(passTTL)}
		r.slots[pos] = sl
	}
	return sl.expires, true, nil
}

func (m *MemShared) Active(_ context.Context, name string, pos uint64, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[name]
	if !ok {
		return false, nil
	}
	sl, ok := r.slots[pos]
	return ok && sl.claimed && now.Before(sl.expires), nil
}

func (m *MemShared) Leave(_ context.Context, name string, pos uint64, now time.Time, a AdmitParams) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return false, err
	}
	if _, ok := r.slots[pos]; !ok {
		return false, nil
	}
	delete(r.slots, pos)
	r.v.Leaves++
	r.admit(now, a)
	return true, nil
}

func (m *MemShared) SetControls(_ context.Context, name string, c Controls) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.inited(name)
	if err != nil {
		return err
	}
	r.v.Controls = c
	return nil
}
