package room

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Pacer is the closed loop of a room whose pacing is auto: every
// PaceEvery it reads the backend's health (Health) and moves the
// admission rate within the bounds, TCP-like:
//
//   - the backend fails (no answer for a window, or at least half its
//     answers fail): the rate drops to min_rate at once;
//   - errors above max_error_rate, p95 above target_p95, or requests
//     refused for want of a place in flight: the rate is cut to
//     paceCut of itself, at most once per paceCutEvery (admissions act
//     with a delay: people notice their turn, then act; cutting again
//     before the last cut could show would overshoot);
//   - p95 under paceHeadroom of the objective, errors within it, nothing
//     held at the gate, and people waiting whom the rate holds back: the
//     rate grows by paceFast per step up to the rate of the last trouble
//     (a "slow start" that finds it again quickly after a failure), by
//     paceGrow above it, probing gently for more;
//   - otherwise it holds.
//
// The constants are justified by TestPacingScenario (docs/PACING.md). Not
// safe for concurrent use; the room calls it from its tick.
type Pacer struct {
	next    time.Time
	lastCut time.Time
	// threshold is the rate at the last trouble (0: none yet; then the
	// pacer starts in slow start up to max_rate).
	threshold float64
}

// Constants of the pacer (docs/PACING.md).
const (
	PaceEvery      = 500 * time.Millisecond
	paceCut        = 0.75
	paceCutEvery   = 1500 * time.Millisecond
	paceHeadroom   = 0.8
	paceFast       = 0.25
	paceGrow       = 0.05
	paceMinSamples = 10
	paceFailing    = 0.5 // share of failed answers that means "failing"
)

// PaceInput is what the pacer decides from.
type PaceInput struct {
	Pacing Pacing
	Rate   float64 // the rate now
	Health HealthReading
	// Demand: people are waiting and the rate, not the capacity, holds
	// them back.
	Demand bool
}

// Step returns the rate the room should admit at from now on and why; ok
// is false when the rate stays as it is.
func (p *Pacer) Step(now time.Time, in PaceInput) (rate float64, reason string, ok bool) {
	if now.Before(p.next) {
		return in.Rate, "", false
	}
	p.next = now.Add(PaceEvery)
	c, h := in.Pacing, in.Health
	rate = min(max(in.Rate, c.MinRate), c.MaxRate)
	enough := h.Requests >= paceMinSamples
	cut := func(why string) (float64, string, bool) {
		if now.Sub(p.lastCut) < paceCutEvery {
			return rate, "", rate != in.Rate
		}
		p.lastCut, p.threshold = now, rate*paceCut
		return max(c.MinRate, rate*paceCut), why, true
	}
	switch {
	case h.Stalled:
		p.lastCut, p.threshold = now, max(p.threshold*paceCut, c.MinRate)
		return c.MinRate, fmt.Sprintf("backend not answering: %d requests in flight, none answered for %v", h.InFlight, HealthWindow), true
	case enough && h.ErrorRate >= paceFailing:
		p.lastCut, p.threshold = now, max(rate*paceCut, c.MinRate)
		if rate == c.MinRate && in.Rate == rate {
			return rate, "", false
		}
		return c.MinRate, fmt.Sprintf("backend failing: %.0f%% of %d answers failed", 100*h.ErrorRate, h.Requests), true
	case enough && h.ErrorRate > c.MaxErrorRate:
		return cut(fmt.Sprintf("error rate %.1f%% above the objective %.1f%%", 100*h.ErrorRate, 100*c.MaxErrorRate))
	case enough && h.P95 > c.TargetP95:
		return cut(fmt.Sprintf("p95 %v above the objective %v", h.P95, c.TargetP95))
	case h.Busy > 0:
		return cut(fmt.Sprintf("%d requests found no place in flight (limit %.0f): backend saturated", h.Busy, h.Limit))
	case h.Held == 0 && in.Demand && rate < c.MaxRate && (!enough || h.P95 <= time.Duration(paceHeadroom*float64(c.TargetP95))):
		grow := paceGrow
		if p.threshold == 0 || rate < p.threshold {
			grow = paceFast
		}
		next := min(c.MaxRate, rate*(1+grow))
		if p.threshold > rate {
			next = min(next, max(p.threshold, rate*(1+paceGrow)))
		}
		return next, fmt.Sprintf("p95 %v within the objective %v, errors %.1f%%, people waiting", h.P95, c.TargetP95, 100*h.ErrorRate), true
	}
	return rate, "bounds", rate != in.Rate
}

// pacing is a room's pacing state: the backend's health as the gate sees
// it, the pacer and the last change.
type pacing struct {
	once   sync.Once
	health *Health
	log    *slog.Logger

	mu    sync.Mutex
	pacer Pacer
	last  PaceChange
}

// PaceChange is a change of rate the pacer made.
type PaceChange struct {
	At     time.Time `json:"at"`
	From   float64   `json:"from"`
	To     float64   `json:"to"`
	Reason string    `json:"reason"`
}

// Health returns the room's backend health: the gate in front of the
// protected backend feeds it (Health.Wrap), the pacer reads it.
func (r *Room) Health() *Health {
	r.pacing.once.Do(func() { r.pacing.health = NewHealth(r.clock) })
	return r.pacing.health
}

// SetLog sets where the room logs its pacing changes (default
// slog.Default()).
func (r *Room) SetLog(log *slog.Logger) {
	r.pacing.mu.Lock()
	r.pacing.log = log
	r.pacing.mu.Unlock()
}

// LastPaceChange returns the pacer's last change of rate (zero: none).
func (r *Room) LastPaceChange() PaceChange {
	r.pacing.mu.Lock()
	defer r.pacing.mu.Unlock()
	return r.pacing.last
}

// conditionalControls is a Shared that changes the controls only if
// nobody changed them since a given view (ControlsSet): the pacers of
// several nodes then never undo each other's change or an operator's.
// MemShared and room/redis implement it.
type conditionalControls interface {
	SetControlsIf(ctx context.Context, room string, c Controls, set uint64) (v View, ok bool, err error)
}

// pace runs a pacing step after a tick whose view is v.
func (r *Room) pace(s *Settings, v *View, now time.Time) error {
	h := r.Health()
	h.SetLimiting(s.Pacing.Auto())
	if !s.Pacing.Auto() || s.Paused || closedAt(s, now) || r.Problem() != nil {
		return nil
	}
	waiting := v.N + v.PostSeq - min(v.Serving, v.N+v.PostSeq)
	in := PaceInput{Pacing: s.Pacing, Rate: s.Rate, Health: h.Read(),
		Demand: v.Frozen && waiting > 0 && v.Active < s.Capacity}
	r.pacing.mu.Lock()
	rate, reason, ok := r.pacing.pacer.Step(now, in)
	log := r.pacing.log
	r.pacing.mu.Unlock()
	if !ok || rate == s.Rate {
		return nil
	}
	rate = math.Round(rate*1000) / 1000 // as an operator would write it
	if err := r.setPacedRate(s, v, rate); err != nil {
		return err
	}
	ch := PaceChange{At: now, From: s.Rate, To: rate, Reason: reason}
	r.pacing.mu.Lock()
	r.pacing.last = ch
	r.pacing.mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.Info("pacing: admission rate changed", "room", r.name, "from", ch.From, "to", ch.To, "reason", reason,
		"p95", in.Health.P95, "error_rate", in.Health.ErrorRate, "in_flight", in.Health.InFlight)
	return nil
}

// setPacedRate writes the pacer's rate into the line's controls, on the
// condition that they have not changed since v (another node's pacer or
// an operator: their change stands, and this pacer decides again from it
// on its next step).
func (r *Room) setPacedRate(s *Settings, v *View, rate float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.settings.Load()
	if cur.Rate != s.Rate || !cur.Pacing.Auto() || v.ControlsSet < r.controlsSet.Load() {
		return nil // changed meanwhile
	}
	c := controlsOf(cur)
	c.Rate = rate
	var nv View
	var err error
	if cc, ok := r.shared.(conditionalControls); ok {
		var done bool
		nv, done, err = cc.SetControlsIf(bg, r.name, c, r.controlsSet.Load())
		if err == nil && !done {
			return nil
		}
	} else {
		nv, err = r.shared.SetControls(bg, r.name, c)
	}
	if err != nil {
		return r.fail(err)
	}
	r.controlsSet.Store(max(r.controlsSet.Load(), nv.ControlsSet))
	ns := *cur
	ns.Rate = rate
	r.settings.Store(&ns)
	return nil
}
