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
// admission rate within the bounds, in the manner of TCP's congestion
// control (additive/multiplicative increase, multiplicative decrease):
//
//   - the backend fails (no answer for a window, or at least half its
//     answers fail): the rate drops to min_rate at once, and the rate it
//     had is remembered as good (the failure was not the load's doing);
//   - errors above max_error_rate, p95 above target_p95, requests held
//     at the gate past paceHeld of the in-flight limit, or refused for
//     want of a place in flight: the rate is cut to paceCut
//     of itself (for p95, to target/p95 of itself, at least paceDeepCut), at most once per paceSettle (admissions act with a
//     delay: people notice their turn, then act; cutting again before
//     the last cut could show would overshoot), and the new rate is
//     remembered as good;
//   - the in-flight limit falls below paceLimitFall of what it was
//     lately: the backend lost capacity, and the rate is cut in
//     proportion at once (at most to paceDeepCut of itself);
//   - p95 past paceHeadroom of the objective and admissions above the
//     rate at which the line's places end: the rate is cut to that rate,
//     so that the sessions, which lead the latency, stop growing
//     (sessions.go);
//   - all well (p95 under paceHeadroom of the objective, errors within
//     it, nothing held at the gate) and people waiting whom the rate
//     holds back: below the remembered good rate the rate grows by
//     paceRecover per step, back to it quickly after a failure; above it
//     by paceGrow per step while the backend has less than paceNear of
//     the in-flight limit in flight, by a quarter of that up to paceBusy
//     of it;
//   - otherwise it holds.
//
// The admission rate acts with a delay of seconds, so its growth is
// bounded by how soon the signal can show it: growing faster overshoots,
// and the people admitted too many stay admitted (they cannot be sent
// back), holding the backend over its objective until they are served.
// The constants are justified by TestPacingScenario (docs/PACING.md). Not
// safe for concurrent use; the room calls it from its tick.
type Pacer struct {
	next    time.Time
	lastCut time.Time
	// good is the rate the backend last took well (0: none known yet).
	good float64
	// cutP95 is the p95 at the last cut.
	cutP95 time.Duration
	// limitRef is the in-flight limit lately (a slowly decaying maximum):
	// a limit that falls well below it says the backend lost capacity,
	// before its latency can show through the people already admitted.
	limitRef float64
	// ends are the line's ended places (left or expired) at the last
	// steps, oldest first: the departure rate (sessions.go); endRate is
	// the last rate measured from them.
	ends    []endSample
	endRate float64
}

// Constants of the pacer (docs/PACING.md).
const (
	PaceEvery      = 500 * time.Millisecond
	paceSettle     = 1500 * time.Millisecond
	paceRound      = 5 * time.Second
	paceWorse      = 1.2
	paceLimitFall  = 0.75
	paceLimitDecay = 0.97 // per step
	paceHeld       = 1.0
	paceHeldCut    = 0.9
	paceCut        = 0.75
	paceDeepCut    = 0.5
	paceHeadroom   = 0.8
	paceRecover    = 0.5
	paceGrow       = 0.04
	paceNear       = 0.7
	paceBusy       = 0.9
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
	// Active counts the admitted places not ended yet (collected or not)
	// and Ended the places ended so far (left or expired), from the line:
	// the sessions signal (sessions.go).
	Active int
	Ended  uint64
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
	departures := p.departures(now, in.Ended)
	if !h.Stalled && h.ErrorRate < paceFailing && !h.Probing {
		defer func() { p.limitRef = max(h.Limit, p.limitRef*paceLimitDecay) }()
	}
	enough := h.Requests >= paceMinSamples
	nearObjective := enough && h.P95 > time.Duration(paceHeadroom*float64(c.TargetP95))
	bounds := func() (float64, string, bool) { return rate, "bounds", rate != in.Rate }
	cut := func(factor float64, why string) (float64, string, bool) {
		// One cut per settling time, and then another only if things got
		// worse or a whole round of the loop has passed without them
		// getting better: the people admitted before a cut are still
		// being served after it.
		since := now.Sub(p.lastCut)
		if since < paceSettle || since < paceRound && float64(h.P95) < paceWorse*float64(p.cutP95) {
			return bounds()
		}
		p.lastCut, p.cutP95 = now, h.P95
		rate = max(c.MinRate, rate*factor)
		// What was good is remembered a while: a cut lowers it by at
		// most paceCut (after a failure the people who waited through
		// it come back at once; that is no measure of the backend).
		p.good = max(rate, p.good*paceCut)
		return rate, why, true
	}
	switch {
	case h.Stalled || enough && h.ErrorRate >= paceFailing:
		if now.Sub(p.lastCut) >= paceSettle && rate > c.MinRate {
			p.good = max(p.good, rate)
		}
		p.lastCut = now
		if rate == c.MinRate && in.Rate == rate {
			return rate, "", false
		}
		if h.Stalled {
			return c.MinRate, fmt.Sprintf("backend not answering: %d requests in flight, none answered for %v", h.InFlight, HealthWindow), true
		}
		return c.MinRate, fmt.Sprintf("backend failing: %.0f%% of %d answers failed", 100*h.ErrorRate, h.Requests), true
	case h.Limit > 0 && !h.Probing && p.limitRef > 0 && h.Limit < paceLimitFall*p.limitRef:
		from := p.limitRef
		p.limitRef = h.Limit
		p.lastCut, p.cutP95 = now, h.P95
		rate = max(c.MinRate, rate*max(paceDeepCut, h.Limit/from))
		p.good = rate
		return rate, fmt.Sprintf("the backend's in-flight limit fell from %.0f to %.0f: it lost capacity", from, h.Limit), true
	case enough && h.ErrorRate > c.MaxErrorRate:
		return cut(paceCut, fmt.Sprintf("error rate %.1f%% above the objective %.1f%%", 100*h.ErrorRate, 100*c.MaxErrorRate))
	case enough && h.P95 > c.TargetP95:
		// The further over, the deeper the cut (down to half): the people
		// admitted too many stay admitted until served.
		factor := min(paceCut, max(paceDeepCut, float64(c.TargetP95)/float64(h.P95)))
		return cut(factor, fmt.Sprintf("p95 %v above the objective %v", h.P95, c.TargetP95))
	case h.Held > 0 && float64(h.Held) >= paceHeld*h.Limit:
		// The earliest sign, and a mild one: a gentle cut, once a round.
		if now.Sub(p.lastCut) < paceRound {
			return bounds()
		}
		return cut(paceHeldCut, fmt.Sprintf("%d requests held at the gate for a place in flight (limit %.0f): more people admitted than the backend takes", h.Held, h.Limit))
	case h.Busy > 0:
		return cut(paceCut, fmt.Sprintf("%d requests found no place in flight (limit %.0f): backend saturated", h.Busy, h.Limit))
	case nearObjective && departures > 0 && in.Active > 0 && rate > (1+paceHoldSlack)*departures:
		// Near the objective, a rate above the departures still adds
		// sessions, and the latency follows them: hold the sessions, not
		// the rate.
		return cut(departures/rate, fmt.Sprintf("p95 %v near the objective %v and admissions at %.0f/s above the %.0f/s of sessions ending: the sessions (%d) would keep growing", h.P95, c.TargetP95, rate, departures, in.Active))
	case h.Held > 0 || !in.Demand || rate >= c.MaxRate || nearObjective:
		return bounds()
	}
	util := 0.0
	if h.Limit > 0 {
		util = float64(h.InFlight) / h.Limit
	}
	why := fmt.Sprintf("p95 %v within the objective %v, errors %.1f%%, %d of %.0f in flight, people waiting", h.P95, c.TargetP95, 100*h.ErrorRate, h.InFlight, h.Limit)
	switch {
	case rate < p.good*(1-paceGrow):
		rate = min(p.good, rate*(1+paceRecover))
	case util < paceNear:
		rate *= 1 + paceGrow
	case util < paceBusy:
		// Near the knee: creep.
		rate *= 1 + paceGrow/4
	default:
		return bounds()
	}
	return min(rate, c.MaxRate), why, true
}

// pacing is a room's pacing state: the backend's health as the gate sees
// it, the pacer and the last change.
type pacing struct {
	once   sync.Once
	health *Health
	log    *slog.Logger

	mu      sync.Mutex
	pacer   Pacer
	last    PaceChange
	changes uint64
	// next is when the node publishes its health next (pacenodes.go);
	// id names it on the room's PaceBoard; nodes and limiting count the
	// nodes of the last step's signal; lead: this node decided.
	lead     bool
	next     time.Time
	idOnce   sync.Once
	id       string
	nodes    int
	limiting int
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

// PaceChanges counts the pacer's changes of rate on this node.
func (r *Room) PaceChanges() uint64 {
	r.pacing.mu.Lock()
	defer r.pacing.mu.Unlock()
	return r.pacing.changes
}

// conditionalControls is a Shared that changes the controls only if
// nobody changed them since a given view (ControlsSet): the pacers of
// several nodes then never undo each other's change or an operator's.
// MemShared and room/redis implement it.
type conditionalControls interface {
	SetControlsIf(ctx context.Context, room string, c Controls, set uint64) (v View, ok bool, err error)
}

// pace runs a pacing step after a tick whose view is v: once per
// PaceEvery the node publishes its backend's health and, if it leads the
// room's pacing, the pacer decides from all nodes' (pacenodes.go).
func (r *Room) pace(s *Settings, v *View, now time.Time) error {
	h := r.Health()
	h.SetLimiting(s.Pacing.Auto())
	if !r.pacesAt(s, now) {
		return nil
	}
	r.pacing.mu.Lock()
	due := !now.Before(r.pacing.next)
	if due {
		r.pacing.next = now.Add(PaceEvery)
	}
	r.pacing.mu.Unlock()
	if !due {
		return nil
	}
	reading, lead, err := r.paceBoard(h.Summary(), now)
	if err != nil {
		return sharedErr(err)
	}
	if !lead {
		// The sessions signal is measured on every node, so that its
		// figure shows wherever it is read and a node taking the lead
		// has it at once (the line's counters are the same on all).
		r.pacing.mu.Lock()
		r.pacing.pacer.departures(now, v.Leaves+v.Expired)
		r.pacing.mu.Unlock()
		return nil
	}
	waiting := v.N + v.PostSeq - min(v.Serving, v.N+v.PostSeq)
	in := PaceInput{Pacing: s.Pacing, Rate: s.Rate, Health: reading,
		Demand: v.Frozen && waiting > 0 && v.Active < s.Capacity,
		Active: v.Active, Ended: v.Leaves + v.Expired}
	r.pacing.mu.Lock()
	rate, reason, ok := r.pacing.pacer.Step(now, in)
	log := r.pacing.log
	r.pacing.mu.Unlock()
	rate = math.Round(rate*1000) / 1000 // as an operator would write it
	if !ok || rate == s.Rate {
		return nil
	}
	if err := r.setPacedRate(s, v, rate); err != nil {
		return err
	}
	ch := PaceChange{At: now, From: s.Rate, To: rate, Reason: reason}
	r.pacing.mu.Lock()
	r.pacing.last = ch
	r.pacing.changes++
	r.pacing.mu.Unlock()
	if log == nil {
		log = slog.Default()
	}
	log.Info("pacing: admission rate changed", "room", r.name, "from", ch.From, "to", ch.To, "reason", reason,
		"p95", in.Health.P95, "error_rate", in.Health.ErrorRate, "in_flight", in.Health.InFlight)
	return nil
}

// pacesAt reports whether the room's pacer runs at now under settings s:
// pacing auto, the room admitting (not paused or closed), its line sound.
func (r *Room) pacesAt(s *Settings, now time.Time) bool {
	return s.Pacing.Auto() && !s.Paused && !closedAt(s, now) && r.Problem() == nil
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
	// This pacer's own change is no operator's: estimates still never rise
	// while the line flows (rateMeter.floor; r.mu is held).
	r.rate.controls = max(r.rate.controls, nv.ControlsSet)
	ns := *cur
	ns.Rate = rate
	r.settings.Store(&ns)
	return nil
}
