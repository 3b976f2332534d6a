package room

import (
	"context"
	"time"
)

// PaceBoard is a Shared on which the nodes of a room pool their backend
// health, so that one rate holds for the room and is chosen from what all
// nodes see (docs/PACING.md, "Several nodes"). MemShared and room/redis
// implement it; with a Shared that does not, each node paces from its own
// gate's window (the conditional write still keeps the pacers from
// undoing each other's change).
type PaceBoard interface {
	// PaceSignals records node's health summary h, valid until now+ttl,
	// and returns the summaries of every node of the room still valid at
	// now (h included). lead reports whether node leads the room's
	// pacing: a node takes the lead when nobody holds it or its holder
	// let it lapse, and holds it for ttl from now; only the leader runs
	// the pacer. Times are the calling node's clock.
	PaceSignals(ctx context.Context, room, node string, h HealthSummary, now time.Time, ttl time.Duration) (all []HealthSummary, lead bool, err error)
}

// PaceTTL is how long a node's published health and its lead of the
// room's pacing last: three pacing steps, so that one late tick does not
// lose them, and a node that stopped drops out of the room's signal (and
// hands the lead over) within two seconds.
const PaceTTL = 3 * PaceEvery

// paceBoard is the signal the room's pacer decides from, and whether this
// node decides: with a PaceBoard, the node publishes its window and reads
// the room's; without one, its own window, and it decides. Called once
// per pacing step (r.pacing.mu is not held).
func (r *Room) paceBoard(own HealthSummary, now time.Time) (HealthReading, bool, error) {
	b, ok := r.shared.(PaceBoard)
	if !ok {
		r.pacing.mu.Lock()
		r.pacing.nodes, r.pacing.lead = 1, true
		r.pacing.mu.Unlock()
		return own.Reading(), true, nil
	}
	r.pacing.idOnce.Do(func() { r.pacing.id = newEpoch() })
	all, lead, err := b.PaceSignals(bg, r.name, r.pacing.id, own, now, PaceTTL)
	if err != nil {
		return HealthReading{}, false, err
	}
	m := MergeHealth(all)
	r.pacing.mu.Lock()
	// The room's in-flight limit is the sum of its nodes': when nodes come
	// or go it changes without the backend having lost capacity.
	if n := limiting(all); n != r.pacing.limiting {
		r.pacing.limiting = n
		r.pacing.pacer.limitRef = 0
	}
	r.pacing.nodes, r.pacing.lead = len(all), lead
	r.pacing.mu.Unlock()
	return m.Reading(), lead, nil
}

// limiting counts the nodes whose in-flight limit measures the backend
// (limiting, with answers in the window).
func limiting(all []HealthSummary) int {
	n := 0
	for _, s := range all {
		if s.Limit > 0 && s.Requests > 0 {
			n++
		}
	}
	return n
}

// PaceNodes reports how many nodes' health the room's pacing last
// decided from (1 without a PaceBoard; 0 before the first step and while
// the room does not pace).
func (r *Room) PaceNodes() int {
	if !r.pacesAt(r.settings.Load(), r.clock.Now()) {
		return 0
	}
	r.pacing.mu.Lock()
	defer r.pacing.mu.Unlock()
	return r.pacing.nodes
}

// PaceLead reports whether this node led the room's pacing at its last
// step (always, without a PaceBoard, once the room paces); false while
// the room does not pace (fixed, paused, closed, its line lost).
func (r *Room) PaceLead() bool {
	if !r.pacesAt(r.settings.Load(), r.clock.Now()) {
		return false
	}
	r.pacing.mu.Lock()
	defer r.pacing.mu.Unlock()
	return r.pacing.lead
}

// PaceEndRate reports the rate, per second, at which the line's places
// ended (left or expired) over the last paceEndWindow as this node's last
// pacing step measured it: the signal of the pacer's sessions rule
// (sessions.go), measured on every node whether it leads or not. 0 while
// the room does not pace and until paceEndMinSpan has been covered.
func (r *Room) PaceEndRate() float64 {
	if !r.pacesAt(r.settings.Load(), r.clock.Now()) {
		return 0
	}
	r.pacing.mu.Lock()
	defer r.pacing.mu.Unlock()
	return r.pacing.pacer.endRate
}
