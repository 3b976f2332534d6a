package room

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// view is the line as a node last saw it: atomics that the status of a
// waiting ticket reads without locks. Views are applied in any order (one
// from a join may arrive after a newer one from a tick), so every counter
// only ever goes up here and a slow reply cannot move anyone back in line;
// the controls come from the view that set them last (ControlsSet).
type view struct {
	frozen  atomic.Bool   // pre-queue closed, lottery drawn
	n       atomic.Uint64 // pre-queue size once frozen
	lottery atomic.Pointer[Lottery]
	preSeq  atomic.Uint64 // pre-queue joins so far
	postSeq atomic.Uint64 // open-phase tickets issued
	// The reservation marks and the lottery's key, for a restore
	// (lost.go).
	resvPre, resvPost atomic.Uint64
	lotteryKey        atomic.Pointer[string]
	serving           atomic.Uint64 // positions 1..serving have been admitted
	etaRate           atomic.Uint64 // float64 bits: admissions per second used for ETAs

	joins, admissions, leaves, expired, skipped atomic.Uint64
	controlsSet                                 atomic.Uint64
}

// raise sets a to x if x is larger.
func raise(a *atomic.Uint64, x uint64) {
	for {
		old := a.Load()
		if x <= old || a.CompareAndSwap(old, x) {
			return
		}
	}
}

// apply merges a view of the line into the node's view.
func (r *Room) apply(v *View) error {
	if v.Frozen && !r.frozen.Load() {
		if err := r.drawPrequeue(v); err != nil {
			return err
		}
	}
	if !v.Frozen {
		raise(&r.preSeq, v.PreSeq)
	}
	raise(&r.postSeq, v.PostSeq)
	raise(&r.resvPre, v.ResvPre)
	raise(&r.resvPost, v.ResvPost)
	raise(&r.serving, v.Serving)
	// Ends before admissions: activeCount reads admissions first, so the
	// active count it derives never exceeds what one view said.
	raise(&r.leaves, v.Leaves)
	raise(&r.expired, v.Expired)
	raise(&r.admissions, v.Admissions)
	raise(&r.joins, v.Joins)
	raise(&r.skipped, v.Skipped)
	if v.ControlsSet > r.controlsSet.Load() {
		r.adoptControls(v)
	}
	return nil
}

// drawPrequeue draws the lottery of a frozen pre-queue from the key the
// line recorded, which every node must hold.
func (r *Room) drawPrequeue(v *View) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen.Load() {
		return nil
	}
	lot, ok := r.drawLottery(v.LotteryKey, v.N)
	if !ok {
		return fmt.Errorf("room %q: the pre-queue lottery was drawn with signing key %q, which this node does not have: keep that key (as an older key) on every node until the room is over", r.name, v.LotteryKey)
	}
	r.n.Store(v.N)
	r.preSeq.Store(v.N)
	key := v.LotteryKey // a copy: v stays on its caller's stack
	r.lotteryKey.Store(&key)
	r.lottery.Store(lot)
	r.frozen.Store(true) // after the lottery: readers do not lock
	return nil
}

// adoptControls makes the line's controls the room's settings.
func (r *Room) adoptControls(v *View) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v.ControlsSet <= r.controlsSet.Load() {
		return
	}
	r.controlsSet.Store(v.ControlsSet)
	c := v.Controls
	s := *r.settings.Load()
	s.Paused, s.Closed = c.Paused, c.Closed
	if c.Capacity > 0 {
		s.Capacity = c.Capacity
	}
	if c.Rate > 0 {
		s.Rate = c.Rate
	}
	r.settings.Store(&s)
}

// activeCount is the number of sessions: admitted places not yet ended.
func (r *Room) activeCount() int {
	adm := r.admissions.Load()
	ended := r.leaves.Load() + r.expired.Load()
	return int(adm - min(adm, ended))
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
	// Skipped counts the places passed over after a crash because they may
	// have been empty (their holders may still claim them for a while).
	Skipped uint64 `json:"skipped"`
}

// Counters returns the room's counters as this node sees them.
func (r *Room) Counters() Counters {
	s := r.settings.Load()
	frozen := r.frozen.Load()
	c := Counters{Room: s.Name, State: r.stateAt(s, r.clock.Now()), Prequeued: r.preSeq.Load(), Active: r.activeCount()}
	if frozen {
		c.Prequeued = r.n.Load()
	}
	c.Serving = r.serving.Load()
	c.Joined = c.Prequeued + r.postSeq.Load()
	if frozen && c.Joined > c.Serving {
		c.Waiting = c.Joined - c.Serving
	} else if !frozen {
		c.Waiting = c.Prequeued
	}
	c.Admissions = r.admissions.Load()
	c.Leaves = r.leaves.Load()
	c.Expired = r.expired.Load()
	c.JoinsTotal = r.joins.Load()
	c.Skipped = r.skipped.Load()
	c.AdmitRate = math.Float64frombits(r.etaRate.Load())
	c.Settings = *s
	return c
}

// rateMeter measures the admission rate ETAs are computed from. Guarded by
// Room.mu.
type rateMeter struct {
	history [64]second
	// admissions as of the last tick: admissions are counted from how far
	// they moved since (every node measures the whole room's rate). Places
	// passed over as uncertain are not admissions: the line jumps past
	// them, and counting them would make every ETA too short.
	admissions uint64
	serving    uint64    // as of the last tick
	at         time.Time // of the last smoothing step
}

type second struct {
	unix       int64
	admitted   uint32
	backlogged bool
}

const (
	rateWindow     = 60 // seconds of history for the measured admission rate
	minRateSamples = 5  // backlogged seconds needed before trusting the measurement
	etaSmoothing   = 20 * time.Second
)

func (m *rateMeter) start(v *View, now time.Time) {
	m.admissions, m.serving, m.at = v.Admissions, v.Serving, now
}

// measure records a tick's admissions and updates the rate ETAs use.
func (r *Room) measure(v View, now time.Time) {
	r.mu.Lock()
	m := &r.rate
	var admitted uint32
	if v.Admissions > m.admissions {
		admitted = uint32(min(v.Admissions-m.admissions, math.MaxUint32))
	}
	backlogged := m.serving < v.N+v.PostSeq
	m.admissions = max(m.admissions, v.Admissions)
	m.serving = max(m.serving, v.Serving)
	m.record(now, admitted, backlogged)
	rate := m.smooth(math.Float64frombits(r.etaRate.Load()), r.settings.Load().Rate, r.frozen.Load(), now)
	r.mu.Unlock()
	r.etaRate.Store(math.Float64bits(rate))
}

// record adds admissions to the second of now.
func (m *rateMeter) record(now time.Time, admitted uint32, backlogged bool) {
	sec := now.Unix()
	h := &m.history[sec%int64(len(m.history))]
	if h.unix != sec {
		*h = second{unix: sec}
	}
	h.admitted += admitted
	h.backlogged = h.backlogged || backlogged
}

// smooth returns the rate ETAs should use now. It glides towards the
// measured rate (time constant etaSmoothing) so that estimates do not jump
// when one second is unusual; a stateless ticket cannot smooth its own
// ETA. Before opening it is the configured rate.
func (m *rateMeter) smooth(rate, configured float64, frozen bool, now time.Time) float64 {
	if measured, ok := m.measured(now); ok {
		if dt := now.Sub(m.at).Seconds(); dt > 0 {
			rate += (1 - math.Exp(-dt/etaSmoothing.Seconds())) * (measured - rate)
		}
	} else if !frozen {
		rate = configured
	}
	m.at = now
	return rate
}

// measured is the admission rate over the last minute's seconds in which
// people were waiting (idle seconds say nothing about throughput). Until
// there are enough such seconds there is no measurement.
func (m *rateMeter) measured(now time.Time) (float64, bool) {
	sec := now.Unix()
	var sum float64
	var n int
	for _, h := range m.history {
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
