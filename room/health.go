package room

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// Health measures a protected backend as the gate sees it: the latency of
// its answers (from the moment the gate let a request through to the end
// of the answer), the share of them that failed (5xx, or no answer in
// time) and the requests in flight. It keeps a sliding window of
// HealthWindow in slices of healthSliceLen, each with a latency histogram, so
// that a reading costs the same however busy the backend is. `sluice
// proxy` and the Go middleware (Gate.Measure) feed it; the room's pacer
// reads it. Safe for concurrent use.
type Health struct {
	clock clock.Clock

	mu       sync.Mutex
	slices   [healthSlices]healthSlice
	inFlight int
	// lastDone is when a request last finished: a backend with requests
	// in flight and no answer for a whole window is failing.
	lastDone time.Time
	oldest   map[uint64]time.Time // start of each request in flight
	nextID   uint64

	// limit bounds the requests in flight while limiting is on (the
	// room's pacing is auto; inflight.go).
	limit    *inFlightLimit
	limiting atomic.Bool
	held     atomic.Int64 // requests waiting for a place in flight now
}

// HealthWindow is how far back a Health reading looks.
const HealthWindow = 2 * time.Second

const (
	healthSliceLen = 250 * time.Millisecond
	healthSlices   = int(HealthWindow / healthSliceLen)
	// Latency histogram: bucket i holds latencies up to latBase*latGrowth^i
	// (1 ms to about 2 minutes, 10% apart: p95 within 10%).
	latBuckets = 128
	latBase    = float64(time.Millisecond)
	latGrowth  = 1.1
)

type healthSlice struct {
	start    int64 // Unix nanoseconds of the slice's start; 0 unused
	requests uint32
	errors   uint32
	busy     uint32 // refused: no place in flight within MaxHold
	hist     [latBuckets]uint32
}

// HealthReading is a Health's window at one time.
type HealthReading struct {
	// P95 of the latency of the answers in the window (0 without any); in
	// JSON p95_ms.
	P95 time.Duration `json:"-"`
	// ErrorRate is the share of the window's answers that failed.
	ErrorRate float64 `json:"error_rate"`
	// Requests answered (or failed) in the window.
	Requests int `json:"requests"`
	// InFlight is how many requests the backend has now.
	InFlight int `json:"in_flight"`
	// Stalled: requests are in flight and none has finished for a window.
	Stalled bool `json:"stalled"`
	// Limit is the in-flight limit (0 while not limiting), Held how many
	// requests wait for a place now, Busy how many were refused in the
	// window for want of one.
	// Probing: the limit has not met the backend's knee yet (it is no
	// measure of its capacity).
	Limit   float64 `json:"in_flight_limit"`
	Probing bool    `json:"probing"`
	Held    int     `json:"held"`
	Busy    int     `json:"busy"`
}

// MarshalJSON writes the reading with its p95 in milliseconds.
func (r HealthReading) MarshalJSON() ([]byte, error) {
	type plain HealthReading
	return json.Marshal(struct {
		P95 float64 `json:"p95_ms"`
		plain
	}{float64(r.P95) / float64(time.Millisecond), plain(r)})
}

// NewHealth returns an empty Health on clk (nil: the system clock).
func NewHealth(clk clock.Clock) *Health {
	if clk == nil {
		clk = clock.System{}
	}
	return &Health{clock: clk, oldest: map[uint64]time.Time{}, lastDone: clk.Now(), limit: newInFlightLimit()}
}

// SetLimiting turns the adaptive in-flight limit on or off (off, every
// request goes through at once, as without pacing).
func (h *Health) SetLimiting(on bool) { h.limiting.Store(on) }

// Acquire lets a request through to the backend: at once, or while the
// in-flight limit is on, once a place is free (held up to MaxHold). ok is
// false when none came in time: answer 503 backend_busy. Otherwise call
// done when the answer is complete, failed true for a 5xx or no answer.
func (h *Health) Acquire(ctx context.Context) (done func(failed bool), ok bool) {
	queued := h.clock.Now()
	limited := h.limiting.Load()
	if limited {
		h.held.Add(1)
		ok := h.limit.acquire(ctx, MaxHold)
		h.held.Add(-1)
		if !ok {
			h.refuse()
			return nil, false
		}
	}
	return h.begin(queued, limited), true
}

// Wrap measures next as the backend (its latency, its 5xx answers and
// panics as failures, the requests in flight) and, while limiting is on,
// bounds its requests in flight, answering 503 backend_busy (problem+json,
// Retry-After: 1) to a request that found no place within MaxHold.
func (h *Health) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, next.ServeHTTP) })
}

// serve serves r with next as Wrap does.
func (h *Health) serve(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request)) {
	done, ok := h.Acquire(r.Context())
	if !ok {
		WriteBackendBusy(w)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	failed := true // until next returns: a panic is a failure
	defer func() { done(failed) }()
	next(sw, r)
	failed = sw.status >= 500 || r.Context().Err() != nil
}

// WriteBackendBusy answers a request the gate could not let through to a
// saturated backend in time.
func WriteBackendBusy(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", strconv.Itoa(1))
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(`{"type":"https://sluice.dev/problems/backend_busy","title":"The site is busy","status":503,"code":"backend_busy","detail":"The site is answering as many requests as it can take right now; your pass is still valid. Try again in a second."}`))
}

// statusWriter remembers the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush and Unwrap keep streaming answers streaming.
func (w *statusWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// begin records a request let through to the backend, queued at the
// gate since queued; the returned function records its end, failed true
// for a 5xx or no answer. limited: it holds a place of the in-flight
// limit, given back at the end.
func (h *Health) begin(queued time.Time, limited bool) (done func(failed bool)) {
	start := h.clock.Now()
	h.mu.Lock()
	h.inFlight++
	h.nextID++
	id := h.nextID
	h.oldest[id] = start
	h.mu.Unlock()
	return func(failed bool) {
		now := h.clock.Now()
		h.mu.Lock()
		h.inFlight--
		delete(h.oldest, id)
		h.lastDone = now
		// The latency people see: held at the gate, then the backend.
		h.add(now, now.Sub(queued), failed)
		h.mu.Unlock()
		if limited {
			// The limit adapts to the backend's own latency.
			h.limit.release(now, now.Sub(start), failed)
		}
	}
}

// refuse counts a request refused for want of a place in flight.
func (h *Health) refuse() {
	now := h.clock.Now()
	h.mu.Lock()
	h.slice(now).busy++
	h.mu.Unlock()
}

// Observe records one finished request of the given latency (for signals
// measured elsewhere: the booking service's own transactions).
func (h *Health) Observe(latency time.Duration, failed bool) {
	now := h.clock.Now()
	h.mu.Lock()
	h.lastDone = now
	h.add(now, latency, failed)
	h.mu.Unlock()
}

// add counts a finished request in the slice of now. h.mu is held.
func (h *Health) add(now time.Time, latency time.Duration, failed bool) {
	s := h.slice(now)
	s.requests++
	if failed {
		s.errors++
	}
	s.hist[latBucket(latency)]++
}

// slice returns the slice of now, emptied if it held an older one. h.mu
// is held.
func (h *Health) slice(now time.Time) *healthSlice {
	t := now.UnixNano()
	start := t - t%int64(healthSliceLen)
	s := &h.slices[(start/int64(healthSliceLen))%int64(healthSlices)]
	if s.start != start {
		*s = healthSlice{start: start}
	}
	return s
}

// latBucket is the histogram bucket of a latency.
func latBucket(d time.Duration) int {
	if float64(d) <= latBase {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/latBase) / math.Log(latGrowth)))
	return min(i, latBuckets-1)
}

// bucketLatency is the upper bound of bucket i.
func bucketLatency(i int) time.Duration {
	return time.Duration(latBase * math.Pow(latGrowth, float64(i)))
}

// Read returns the window as of now.
func (h *Health) Read() HealthReading { return h.Summary().Reading() }

// HealthSummary is a Health's window in a form that adds up over nodes
// (MergeHealth): counts and the latency histogram rather than a p95, so
// that the room's p95 is that of all its nodes' answers together. The
// nodes of a room exchange them through the Shared (pacenodes.go).
type HealthSummary struct {
	Requests int  `json:"r,omitempty"`
	Errors   int  `json:"e,omitempty"`
	Busy     int  `json:"b,omitempty"`
	InFlight int  `json:"f,omitempty"`
	Stalled  bool `json:"s,omitempty"`
	// Hist is the latency histogram, sparse: bucket index and count
	// (see latBucket).
	Hist    [][2]int `json:"h,omitempty"`
	Limit   float64  `json:"l,omitempty"`
	Probing bool     `json:"p,omitempty"`
	Held    int      `json:"w,omitempty"`
}

// Summary returns the window as of now.
func (h *Health) Summary() HealthSummary {
	now := h.clock.Now()
	from := now.Add(-HealthWindow).UnixNano()
	var hist [latBuckets]uint32
	var r HealthSummary
	h.mu.Lock()
	for i := range h.slices {
		s := &h.slices[i]
		// A slice counts if any of it is inside the window.
		if s.start == 0 || s.start+int64(healthSliceLen) <= from || s.start > now.UnixNano() {
			continue
		}
		r.Requests += int(s.requests)
		r.Busy += int(s.busy)
		r.Errors += int(s.errors)
		for j, n := range s.hist {
			hist[j] += n
		}
	}
	r.InFlight = h.inFlight
	oldest := now
	for _, t := range h.oldest {
		if t.Before(oldest) {
			oldest = t
		}
	}
	r.Stalled = r.InFlight > 0 && now.Sub(h.lastDone) >= HealthWindow && now.Sub(oldest) >= HealthWindow
	h.mu.Unlock()
	for i, n := range hist {
		if n > 0 {
			r.Hist = append(r.Hist, [2]int{i, int(n)})
		}
	}
	if h.limiting.Load() {
		r.Limit, r.Probing = h.limit.current()
		r.Held = int(h.held.Load())
	}
	return r
}

// MergeHealth adds up the windows of several nodes of a room: requests,
// errors, refusals, histograms, requests in flight and held, and the
// in-flight limits (each node bounds its own requests in flight to the
// shared backend, so the room's limit is their sum). The room is stalled
// if any node is (its requests to the backend get no answer), and its
// limit is probing if any node's limit that saw answers is.
func MergeHealth(all []HealthSummary) HealthSummary {
	var m HealthSummary
	var hist [latBuckets]int
	for _, s := range all {
		m.Requests += s.Requests
		m.Errors += s.Errors
		m.Busy += s.Busy
		m.InFlight += s.InFlight
		m.Held += s.Held
		m.Limit += s.Limit
		m.Stalled = m.Stalled || s.Stalled
		m.Probing = m.Probing || s.Probing && s.Requests > 0
		for _, b := range s.Hist {
			if b[0] >= 0 && b[0] < latBuckets && b[1] > 0 {
				hist[b[0]] += b[1]
			}
		}
	}
	for i, n := range hist {
		if n > 0 {
			m.Hist = append(m.Hist, [2]int{i, n})
		}
	}
	return m
}

// Reading is the summary as the pacer reads it: with the p95 and the
// error rate.
func (s HealthSummary) Reading() HealthReading {
	r := HealthReading{Requests: s.Requests, InFlight: s.InFlight, Stalled: s.Stalled,
		Limit: s.Limit, Probing: s.Probing, Held: s.Held, Busy: s.Busy}
	if r.Requests == 0 {
		return r
	}
	r.ErrorRate = float64(s.Errors) / float64(r.Requests)
	rank := int(math.Ceil(0.95 * float64(r.Requests)))
	seen := 0
	for _, b := range s.Hist {
		seen += b[1]
		if seen >= rank {
			r.P95 = bucketLatency(b[0])
			break
		}
	}
	return r
}
