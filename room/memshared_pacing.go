package room

import (
	"context"
	"sync"
	"time"
)

// SetControlsIf changes the controls as SetControls does if they were last
// set by change number set (View.ControlsSet); otherwise it changes
// nothing and ok is false (the pacer, pacer.go).
func (m *MemShared) SetControlsIf(_ context.Context, name string, c Controls, set uint64) (View, bool, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, false, err
	}
	l.mu.Lock()
	if l.v.ControlsSet != set {
		v := l.view()
		l.mu.Unlock()
		return v, false, nil
	}
	l.setControls(c)
	v, err := l.unlockSaved(l.lastTick)
	return v, true, err
}

var _ PaceBoard = (*MemShared)(nil)

// memBoards are MemShared's PaceBoards: per room, each node's health
// summary and when it lapses, and the node leading the pacing.
type memBoards struct {
	mu    sync.Mutex
	rooms map[string]*memBoard
}

type memBoard struct {
	nodes     map[string]memSignal
	lead      string
	leadUntil time.Time
}

type memSignal struct {
	h     HealthSummary
	until time.Time
}

// PaceSignals implements PaceBoard: room/redis does the same in Redis.
func (m *MemShared) PaceSignals(_ context.Context, name, node string, h HealthSummary, now time.Time, ttl time.Duration) ([]HealthSummary, bool, error) {
	b := &m.boards
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rooms == nil {
		b.rooms = map[string]*memBoard{}
	}
	rb := b.rooms[name]
	if rb == nil {
		rb = &memBoard{nodes: map[string]memSignal{}}
		b.rooms[name] = rb
	}
	rb.nodes[node] = memSignal{h: h, until: now.Add(ttl)}
	var all []HealthSummary
	for n, s := range rb.nodes {
		if !now.Before(s.until) {
			delete(rb.nodes, n)
			continue
		}
		all = append(all, s.h)
	}
	lead := rb.lead == node || !now.Before(rb.leadUntil)
	if lead {
		rb.lead, rb.leadUntil = node, now.Add(ttl)
	}
	return all, lead, nil
}
