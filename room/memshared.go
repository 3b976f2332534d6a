package room

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// MemShared is Shared in one process's memory: the line a single node
// serves (New, NewManager), the reference the contract suite checks Redis
// against, and a way to run several Room "nodes" in one test. With a
// Persister (a single node's state_dir) it saves each line: every
// reservation, the pre-queue draw, every leave, claim and change of the
// controls before the step returns (steps waiting at the same time share
// one write), and joins and admissions on the next Tick.
type MemShared struct {
	store Persister // nil: nothing is saved

	// lines is replaced, never changed, under mu (rooms come and go
	// rarely), so that a step finds its line without a lock.
	mu    sync.Mutex
	lines atomic.Pointer[map[string]*lockedLine]

	// boards are the rooms' pooled backend health (PaceSignals).
	boards memBoards
}

type lockedLine struct {
	mu sync.Mutex
	line
}

// NewMemShared returns an empty in-memory Shared that saves nothing.
func NewMemShared() *MemShared { return newMemShared(nil) }

// newMemShared returns an empty in-memory Shared that saves its lines in
// store (nil: nothing is saved).
func newMemShared(store Persister) *MemShared {
	m := &MemShared{store: store}
	m.lines.Store(&map[string]*lockedLine{})
	return m
}

// line returns the room's line if Init made it.
func (m *MemShared) line(name string) (*lockedLine, error) {
	if l := (*m.lines.Load())[name]; l != nil {
		return l, nil
	}
	return nil, ErrNoSharedState
}

// setLine replaces the room's line (nil: removes it). m.mu is held.
func (m *MemShared) setLine(name string, l *lockedLine) {
	lines := maps.Clone(*m.lines.Load())
	if l == nil {
		delete(lines, name)
	} else {
		lines[name] = l
	}
	m.lines.Store(&lines)
}

// Forget drops a room's line, as a Redis restart without persistence
// would (for tests of that failure).
func (m *MemShared) Forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLine(name, nil)
}

func (m *MemShared) Init(_ context.Context, name string, c Controls, epoch string, now time.Time) (View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, _ := m.line(name); l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.view(), nil
	}
	l := &lockedLine{}
	if m.store != nil {
		snap, err := m.store.Load(name)
		if err != nil {
			return View{}, fmt.Errorf("room %q: %w", name, err)
		}
		if snap != nil {
			l.line = *restoreLine(snap, c, now)
			if l.v.Epoch == "" { // saved before lines had one
				l.v.Epoch = epoch
			}
		}
	}
	if l.slots == nil {
		l.line = *newLine(c, epoch, now)
	}
	if m.store != nil {
		l.saved = newSaving(m.store, name, c)
	}
	m.setLine(name, l)
	return l.view(), nil
}

func (m *MemShared) View(_ context.Context, name string) (View, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.view(), nil
}

func (m *MemShared) Reserve(_ context.Context, name string, phase Phase, n uint64, now time.Time) (View, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.reserve(phase, n, now); err != nil {
		return View{}, err
	}
	return l.view(), nil
}

func (m *MemShared) Join(_ context.Context, name string, now time.Time, a AdmitParams) (Phase, uint64, View, error) {
	l, err := m.line(name)
	if err != nil {
		return 0, 0, View{}, err
	}
	l.mu.Lock()
	phase, seq, err := l.join(now, a)
	v := l.view()
	l.mu.Unlock()
	return phase, seq, v, err
}

func (m *MemShared) Freeze(_ context.Context, name string, now time.Time, a AdmitParams) (View, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.freezeAt(now, a)
	return l.view(), nil
}

func (m *MemShared) Tick(_ context.Context, name string, now time.Time, a AdmitParams) (View, error) {
	return m.savedStep(name, now, func(l *lockedLine) { l.tick(now, a) })
}

// savedStep makes step on the room's line under the line's lock and
// returns the line's view once the step is saved (unlockSaved).
func (m *MemShared) savedStep(name string, now time.Time, step func(l *lockedLine)) (View, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, err
	}
	l.mu.Lock()
	step(l)
	return l.unlockSaved(now)
}

// unlockSaved ends a step made under the line's lock: it takes the line's
// view and the count of its changes, unlocks the line and returns once
// those changes are saved (fsync is slow: written outside the line's lock,
// see saving). now is the time the snapshot is taken at.
func (l *lockedLine) unlockSaved(now time.Time) (View, error) {
	v := l.view()
	upTo := l.changesMade()
	l.mu.Unlock()
	return v, unsaved(l.durable(upTo, now))
}

// unsaved wraps the error of a step made but not saved (nil: saved).
func unsaved(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnsaved, err)
}

func (m *MemShared) Claim(_ context.Context, name string, pos uint64, now time.Time, passTTL time.Duration, a AdmitParams) (time.Time, bool, View, error) {
	l, err := m.line(name)
	if err != nil {
		return time.Time{}, false, View{}, err
	}
	l.mu.Lock()
	expires, ok, waitErr := l.claim(pos, now, passTTL, a)
	// A pass handed out stays claimed after a crash: the claim is saved
	// before the pass is returned (at once if it was saved already). An
	// answer that the turn is over waits for everything before it.
	upTo := l.changesMade()
	if ok {
		upTo = l.slots[pos].change
	}
	v := l.view()
	l.mu.Unlock()
	if err := l.durable(upTo, now); err != nil {
		return time.Time{}, false, v, unsaved(err)
	}
	return expires, ok, v, waitErr
}

func (m *MemShared) Active(_ context.Context, name string, pos uint64, now time.Time) (bool, error) {
	l, err := m.line(name)
	if err != nil {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active(pos, now), nil
}

func (m *MemShared) Leave(_ context.Context, name string, pos uint64, now time.Time, a AdmitParams) (bool, View, error) {
	// A returned pass must not come back after a crash: saved before the
	// leave is acknowledged (leaving twice waits for the first leave too).
	var ok bool
	v, err := m.savedStep(name, now, func(l *lockedLine) { ok = l.leave(pos, now, a) })
	return ok, v, err
}

func (m *MemShared) SetControls(_ context.Context, name string, c Controls) (View, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, err
	}
	l.mu.Lock()
	l.setControls(c)
	// An operator's change holds after a crash once acknowledged.
	return l.unlockSaved(l.lastTick)
}

func (m *MemShared) Uncertain(_ context.Context, name string, r SeqRange, now time.Time, a AdmitParams) (View, error) {
	return m.savedStep(name, now, func(l *lockedLine) { l.addUncertain(r, a) })
}

func (m *MemShared) Restore(_ context.Context, name string, seen View, sessionsFrom uint64, now time.Time, a AdmitParams) (View, error) {
	m.mu.Lock()
	l, _ := m.line(name)
	if l != nil {
		l.mu.Lock()
		if l.v.Epoch != seen.Epoch && !l.replaceable() {
			l.mu.Unlock()
			m.mu.Unlock()
			return View{}, ErrLineReset
		}
		if l.v.Epoch != seen.Epoch {
			l.mu.Unlock()
			l = nil
		}
	}
	if l == nil {
		l = &lockedLine{line: *newLine(seen.Controls, seen.Epoch, now)}
		l.v.ControlsSet = seen.ControlsSet
		if m.store != nil {
			l.saved = newSaving(m.store, name, seen.Controls)
		}
		l.mu.Lock()
		m.setLine(name, l)
	}
	m.mu.Unlock()
	l.restore(&seen, sessionsFrom, now, a)
	return l.unlockSaved(now)
}

func (m *MemShared) Lease(_ context.Context, name string, node, n uint64, now time.Time, a AdmitParams) (SeqRange, View, error) {
	l, err := m.line(name)
	if err != nil {
		return SeqRange{}, View{}, err
	}
	l.mu.Lock()
	r, err := l.lease(node, n, now, a)
	v := l.view()
	l.mu.Unlock()
	return r, v, err
}
