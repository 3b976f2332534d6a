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
	preSeq  atomic.Uint64           // pre-queue joins so far
	postSeq atomic.Uint64           // open-phase tickets issued
	serving atomic.Uint64           // positions 1..serving have been admitted
	eta     atomic.Pointer[etaBase] // what ETAs are computed from
	// The reservation marks and the lottery's key, for a restore
	// (lost.go).
	resvPre, resvPost atomic.Uint64
	lotteryKey        atomic.Pointer[string]

	joins, admissions, leaves, expired, skipped atomic.Uint64
	controlsSet                                 atomic.Uint64
	// claimants is the latest view's View.Claimants: a count that falls as
	// well as rises, so the last view applied holds rather than the most.
	claimants atomic.Int64
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
	r.claimants.Store(int64(v.Claimants))
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
	s.Paused, s.Closed, s.Message, s.ResumeAt = c.Paused, c.Closed, c.Message, c.ResumeAt
	if c.Capacity > 0 {
		s.Capacity = c.Capacity
	}
	if c.Rate > 0 {
		s.Rate = c.Rate
	}
	if c.Pacing.Mode != "" {
		s.Pacing = c.Pacing
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
	c.AdmitRate = r.eta.Load().rate
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
	// joined and controls as of the last tick (see floor).
	joined   uint64
	controls uint64
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
	joined := v.N + v.PostSeq
	backlogged := m.serving < joined
	prev := r.eta.Load()
	old := prev.rate
	s := r.settings.Load()
	// The pace glides like the rate, without the floor below, and is
	// never above the rate the room has now: when the pacer cuts the rate
	// 3-5x, the measured pace follows only over a minute, and everybody
	// asked back meanwhile at their turn at the old pace came back early,
	// again and again (several times the poll budget on the auto night).
	// A pace too low after a rise costs nothing but a late return, and
	// the room keeps the place of whoever comes back when told (late.go).
	pace := min(m.smooth(prev.pace, s.Rate, r.frozen.Load(), now), s.Rate)
	// Nobody is told a wait shorter than the line's rate allows, which an
	// operator or the pacer may just have lowered: gliding down from the
	// rate of before (or kept, with nothing to measure), a line whose
	// rate was cut from 10/s to 0.01/s told the person next "1 second"
	// for a minute or more.
	rate := min(m.smooth(old, s.Rate, r.frozen.Load(), now), s.Rate)
	m.at = now
	// While the line flows (and the operator changed nothing), nobody's
	// estimate may rise.
	if r.frozen.Load() && !s.Paused && !closedAt(s, now) && v.ControlsSet == m.controls {
		rate = max(rate, m.floor(old, v.Serving))
	}
	m.admissions = max(m.admissions, v.Admissions)
	m.serving = max(m.serving, v.Serving)
	m.joined, m.controls = max(m.joined, joined), v.ControlsSet
	m.record(now, admitted, backlogged)
	e := etaBase{rate: rate, pace: pace, serving: v.Serving}
	r.promised.note(now, e, v.Serving, joined, s.Paused, closedAt(s, now))
	r.mu.Unlock()
	r.eta.Store(&e)
}

// etaBase is what waiting people's estimates are computed from: the rate
// and how far the line had moved when it was set. An estimate counts the
// people ahead from there, so that it changes only when the rate does,
// together with the line (see floor), never between two measurements.
//
// pace is the measured rate smoothed alike but without the floor: how fast
// the line moves now. Poll intervals are capped at the turn it gives
// (status.go); a rate held up by the floor, long after the line slowed
// (a pacer cutting the rate 5x), would ask the line back several times
// over its poll budget.
type etaBase struct {
	rate    float64
	pace    float64
	serving uint64
}

// floor is the lowest rate ETAs may use after the line has moved from
// m.serving to serving without anybody's estimate rising. A person at
// place p was told (p-s)/rate; now (p-s')/rate'. For everybody who was in
// line (p up to m.joined) that does not rise if rate' >= rate *
// (p-s')/(p-s), hardest at the back of the line: rate * (1 -
// admitted/waiting). So the rate follows a slower line down only as fast as
// the line moves, and an estimate stands still rather than rise: a line far
// slower than the configured rate is told too short a wait until it has
// moved (people then get in later than told, never told later and later).
// The factor above 1 keeps float rounding from turning "the same" into a
// second more.
func (m *rateMeter) floor(rate float64, serving uint64) float64 {
	switch {
	case m.joined <= m.serving:
		return 0 // nobody was waiting
	case serving <= m.serving:
		return rate // nobody went in: the rate may not fall
	}
	waiting := float64(m.joined - m.serving)
	admitted := float64(min(serving, m.joined) - m.serving)
	return rate * (1 - admitted/waiting) * (1 + 1e-9)
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
// ETA. Before opening it is the configured rate. The caller moves m.at
// to now.
func (m *rateMeter) smooth(rate, configured float64, frozen bool, now time.Time) float64 {
	if measured, ok := m.measured(now); ok {
		if dt := now.Sub(m.at).Seconds(); dt > 0 {
			rate += (1 - math.Exp(-dt/etaSmoothing.Seconds())) * (measured - rate)
		}
	} else if !frozen {
		rate = configured
	}
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
