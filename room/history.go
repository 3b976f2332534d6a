package room

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/every"
)

// Keys of the extra figures a History sampler may add to a room's sample
// (see History.Sample). Other keys are ignored.
const (
	// ExtraGateRejections is the total of the room's gate rejections.
	ExtraGateRejections = "gate_rejections"
	// ExtraBookings is the number of bookings behind the room (booking on).
	ExtraBookings = "bookings"
)

// Default history shape: one sample every 10 seconds for an hour.
const (
	DefaultHistoryInterval = 10 * time.Second
	DefaultHistorySize     = 360
)

// Sample is one room's counters at one instant, with rates derived from the
// previous sample.
type Sample struct {
	// At is the room clock's time of the sample (the demo clock in a demo).
	At time.Time `json:"at"`
	// Elapsed is real (monotonic) time since the History started. Rates and
	// chart positions use it, so moving a demo clock bends neither.
	Elapsed time.Duration `json:"-"`

	State      State   `json:"state"`
	Waiting    uint64  `json:"waiting"`
	Active     int     `json:"active"`
	Capacity   int     `json:"capacity"`
	Admissions uint64  `json:"admissions_total"`
	Joins      uint64  `json:"joins_total"`
	Rejections uint64  `json:"gate_rejections_total"`
	Bookings   uint64  `json:"bookings_total"`
	HasBooking bool    `json:"has_bookings"`
	AdmitRate  float64 `json:"admissions_per_second"`
	JoinRate   float64 `json:"joins_per_second"`
	// BookingRate is net bookings per minute (new minus cancelled, never
	// below zero).
	BookingRate float64 `json:"bookings_per_minute"`
	// Pacing (docs/PACING.md): the chosen rate, whether the pacer chose
	// it, the objective and the measured p95 of the backend, and the rate
	// at which the line's places end (the sessions rule's signal,
	// Room.PaceEndRate).
	Rate        float64 `json:"rate"`
	PacingAuto  bool    `json:"pacing_auto"`
	TargetP95Ms float64 `json:"target_p95_ms"`
	P95Ms       float64 `json:"p95_ms"`
	EndRate     float64 `json:"end_rate"`
}

// History keeps a bounded ring of samples per room: size samples, one per
// interval (default 360 × 10 s: the last hour). It reads rooms only through
// Counters, so it costs the rooms nothing but one read per interval.
type History struct {
	m        *Manager
	interval time.Duration
	size     int
	start    time.Time // real, monotonic
	since    func() time.Duration

	mu    sync.RWMutex
	rings map[string]*ring
}

type ring struct {
	buf  []Sample
	next int
	n    int
}

func (r *ring) push(s Sample) {
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

func (r *ring) last() (Sample, bool) {
	if r.n == 0 {
		return Sample{}, false
	}
	return r.buf[(r.next-1+len(r.buf))%len(r.buf)], true
}

// at returns the i-th newest sample (0 = newest).
func (r *ring) at(i int) Sample {
	return r.buf[(r.next-1-i+2*len(r.buf))%len(r.buf)]
}

// NewHistory returns an empty history of the manager's rooms. interval and
// size default to DefaultHistoryInterval and DefaultHistorySize when <= 0.
func NewHistory(m *Manager, interval time.Duration, size int) *History {
	if interval <= 0 {
		interval = DefaultHistoryInterval
	}
	if size <= 0 {
		size = DefaultHistorySize
	}
	h := &History{m: m, interval: interval, size: size, start: time.Now(), rings: map[string]*ring{}}
	h.since = func() time.Duration { return time.Since(h.start) }
	return h
}

// Interval is the time between samples.
func (h *History) Interval() time.Duration { return h.interval }

// Size is the most samples kept per room.
func (h *History) Size() int { return h.size }

// Window is the span the history covers when full (interval × size).
func (h *History) Window() time.Duration { return h.interval * time.Duration(h.size) }

// Elapsed is the real time since the history started, on the same scale as
// Sample.Elapsed.
func (h *History) Elapsed() time.Duration { return h.since() }

// Sample records one sample of every room. extra, if not nil, is asked for
// each room's extra figures (ExtraGateRejections, ExtraBookings).
func (h *History) Sample(extra func(room string) map[string]float64) {
	el := h.since()
	for _, rm := range h.m.Rooms() {
		s := h.read(rm, el, extra)
		name := rm.Name()
		h.mu.Lock()
		rg := h.rings[name]
		if rg == nil {
			rg = &ring{buf: make([]Sample, h.size)}
			h.rings[name] = rg
		}
		if prev, ok := rg.last(); ok {
			derive(&s, prev)
		}
		rg.push(s)
		h.mu.Unlock()
	}
}

// Current reads the room now without recording it, with rates measured
// against the newest recorded sample at least minGap older (or the newest
// one if none is). ok is false if the room does not exist.
func (h *History) Current(roomName string, minGap time.Duration, extra func(room string) map[string]float64) (Sample, bool) {
	rm, ok := h.m.Get(roomName)
	if !ok {
		return Sample{}, false
	}
	s := h.read(rm, h.since(), extra)
	h.mu.RLock()
	defer h.mu.RUnlock()
	if rg := h.rings[roomName]; rg != nil && rg.n > 0 {
		prev := rg.at(0)
		for i := 0; i < rg.n; i++ {
			if p := rg.at(i); s.Elapsed-p.Elapsed >= minGap {
				prev = p
				break
			}
		}
		derive(&s, prev)
	}
	return s, true
}

func (h *History) read(rm *Room, el time.Duration, extra func(string) map[string]float64) Sample {
	c := rm.Counters()
	s := Sample{
		At: h.m.clock.Now(), Elapsed: el,
		State: c.State, Waiting: c.Waiting, Active: c.Active, Capacity: c.Settings.Capacity,
		Admissions: c.Admissions, Joins: c.JoinsTotal,
		Rate: c.Settings.Rate, PacingAuto: c.Settings.Pacing.Auto(),
		TargetP95Ms: float64(c.Settings.Pacing.TargetP95) / float64(time.Millisecond),
		P95Ms:       float64(rm.Health().Read().P95) / float64(time.Millisecond),
		EndRate:     rm.PaceEndRate(),
	}
	if extra != nil {
		for k, v := range extra(c.Room) {
			switch k {
			case ExtraGateRejections:
				s.Rejections = uint64(max(v, 0))
			case ExtraBookings:
				s.Bookings, s.HasBooking = uint64(max(v, 0)), true
			}
		}
	}
	return s
}

// derive fills s's rates from the earlier sample prev.
func derive(s *Sample, prev Sample) {
	dt := (s.Elapsed - prev.Elapsed).Seconds()
	if dt <= 0 {
		return
	}
	s.AdmitRate = perSecond(s.Admissions, prev.Admissions, dt)
	s.JoinRate = perSecond(s.Joins, prev.Joins, dt)
	if s.HasBooking && prev.HasBooking {
		s.BookingRate = perSecond(s.Bookings, prev.Bookings, dt) * 60
	}
}

func perSecond(now, before uint64, dt float64) float64 {
	if now < before { // a counter went back (cancellations, restart)
		return 0
	}
	return float64(now-before) / dt
}

// Series returns the room's samples, oldest first (nil if none).
func (h *History) Series(roomName string) []Sample {
	h.mu.RLock()
	defer h.mu.RUnlock()
	rg := h.rings[roomName]
	if rg == nil || rg.n == 0 {
		return nil
	}
	out := make([]Sample, rg.n)
	for i := range out {
		out[i] = rg.at(rg.n - 1 - i)
	}
	return out
}

// Last returns the room's newest sample.
func (h *History) Last(roomName string) (Sample, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if rg := h.rings[roomName]; rg != nil {
		return rg.last()
	}
	return Sample{}, false
}

// Run samples at once and then every interval until ctx ends.
func (h *History) Run(ctx context.Context, extra func(room string) map[string]float64) {
	h.Sample(extra)
	every.Interval(ctx, h.interval, func() { h.Sample(extra) })
}
