package room

import (
	"context"
	"sync"
	"time"
)

// inFlightLimit is an adaptive bound on the requests in flight to a
// backend, in the spirit of TCP's congestion window and Netflix's
// concurrency limits: it grows while the backend answers as fast as it
// does unloaded and shrinks when answers slow down past a tolerance of
// that or fail. A request over the limit is held (first come, first
// served) up to MaxHold for a place, then refused (503 backend_busy): a
// backend pushed past its knee can slow down faster than admissions can
// react, and holding a few requests at the gate for a moment keeps it
// below. Admission pacing then keeps the held queue short (pacer.go).
type inFlightLimit struct {
	mu       sync.Mutex
	limit    float64
	inFlight int
	held     []chan struct{} // FIFO of held requests
	// noLoad is the shortest latency seen lately (the backend unloaded);
	// it is taken again from the recent answers every noLoadEvery.
	noLoad, recentMin time.Duration
	noLoadAt          time.Time
	// recent is a moving average of the latest latencies: one slow answer
	// (a busy machine's scheduling) is no sign of load, a run of them is.
	recent    float64
	lastCut   time.Time
	slowStart bool
}

// Constants of the in-flight limit (docs/PACING.md).
const (
	// MaxHold is the longest the gate holds a request over the limit.
	MaxHold        = 2 * time.Second
	minLimit       = 2
	maxLimit       = 100_000
	initialLimit   = 8
	limitTolerance = 1.2 // latency over this times the unloaded one is "slowing down"
	limitCut       = 0.9 // multiplicative decrease
	limitSmoothing = 0.5 // weight of the newest latency in the moving average
	noLoadEvery    = 30 * time.Second
	maxHeld        = 10_000
)

func newInFlightLimit() *inFlightLimit {
	return &inFlightLimit{limit: initialLimit, slowStart: true}
}

// acquire takes a place in flight, holding the caller up to hold (or
// until ctx ends) while the limit is reached. ok is false when no place
// came in time.
func (l *inFlightLimit) acquire(ctx context.Context, hold time.Duration) bool {
	l.mu.Lock()
	if float64(l.inFlight) < l.limit && len(l.held) == 0 {
		l.inFlight++
		l.mu.Unlock()
		return true
	}
	if len(l.held) >= maxHeld || hold <= 0 {
		l.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	l.held = append(l.held, ch)
	l.mu.Unlock()
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-ch:
		return true // release handed its place over (inFlight counted)
	case <-t.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, c := range l.held {
		if c == ch {
			l.held = append(l.held[:i], l.held[i+1:]...)
			return false
		}
	}
	// Handed a place just as the wait ended: it is ours.
	return true
}

// tryAcquire takes a place in flight if one is free and nobody is held.
func (l *inFlightLimit) tryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if float64(l.inFlight) < l.limit && len(l.held) == 0 {
		l.inFlight++
		return true
	}
	return false
}

// release gives a place back and adapts the limit to how the request
// went.
func (l *inFlightLimit) release(now time.Time, latency time.Duration, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.adapt(now, latency, failed)
	l.inFlight--
	l.handOver()
}

// handOver lets held requests through while the limit allows. l.mu is
// held.
func (l *inFlightLimit) handOver() {
	for len(l.held) > 0 && float64(l.inFlight) < l.limit {
		ch := l.held[0]
		l.held = l.held[1:]
		l.inFlight++
		close(ch)
	}
}

// adapt moves the limit. l.mu is held.
func (l *inFlightLimit) adapt(now time.Time, latency time.Duration, failed bool) {
	if !failed && latency > 0 {
		if l.recentMin == 0 || latency < l.recentMin {
			l.recentMin = latency
		}
		if l.noLoad == 0 || latency < l.noLoad {
			l.noLoad = latency
		}
		if now.Sub(l.noLoadAt) >= noLoadEvery {
			l.noLoad, l.recentMin, l.noLoadAt = l.recentMin, 0, now
		}
	}
	// A failure that came fast (a 503) is no sign of load: the pacer
	// answers errors; one that came slowly (a timeout) is.
	if l.recent == 0 {
		l.recent = float64(latency)
	}
	l.recent += limitSmoothing * (float64(latency) - l.recent)
	slow := l.noLoad > 0 && l.recent > limitTolerance*float64(l.noLoad)
	switch {
	case slow:
		// At most one cut per unloaded latency: the answers of requests
		// sent before the cut say nothing about the new limit.
		if now.Sub(l.lastCut) >= max(l.noLoad, 10*time.Millisecond) {
			l.limit = max(minLimit, l.limit*limitCut)
			l.lastCut, l.slowStart = now, false
		}
	case failed:
	case l.slowStart && float64(l.inFlight) >= l.limit/2:
		// Until the first sign of load, the limit stays ahead of the use
		// (doubling per round trip while half of it is used).
		l.limit++
	case float64(l.inFlight) >= l.limit-1 || len(l.held) > 0:
		// Then only a limit that binds grows: one more per limit's worth
		// of good answers.
		l.limit += 1 / l.limit
		l.limit = min(l.limit, maxLimit)
	}
}

// current returns the limit and whether it is still in slow start.
func (l *inFlightLimit) current() (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.slowStart
}
