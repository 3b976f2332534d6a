package rehearsal

import (
	"math"
	"time"

	"github.com/sluicehq/sluice/room"
)

// backend is the modelled booking backend. With n people booking it
// serves its Sessions at its unloaded latency; past them every request
// takes longer by latency_growth per 100% over (and so does every
// booking: its pages are slower); past collapse_at times Sessions the
// requests beyond what it serves time out (those bookings retry, and take
// longer still). Every step it reports its requests to the room's health
// signal (room.Health.Observe, as the booking service reports its own
// transactions) when the room's pacing is auto, so the real pacer reads
// the model; it also measures, for the result, how long it was over the
// pacing objective.
type backend struct {
	sessions float64
	growth   float64
	p95      time.Duration // unloaded
	collapse float64
	target   time.Duration // pacing objective: p95
	maxErr   float64       // pacing objective: errors
	// health is fed when the room's pacing is auto (one per node: each
	// node's gate sees its share of the requests).
	health   []*room.Health
	next     int
	errCarry float64
	// Per minute (the timeline) and over the night.
	minP95, maxP95  time.Duration
	minErr          float64
	overloadSteps   int
	peakSessions    int
	minPeakSessions int
}

// healthSamples is how many requests a step reports at most: the pacer
// reads shares (p95, error rate), which a fixed sample of the step's
// requests gives as well as all of them, at a cost independent of the
// load. requestTimeout is the latency of a request that fails.
const (
	healthSamples  = 20
	requestTimeout = 10 * time.Second
)

func newBackend(sc *Scenario, p room.Pacing) *backend {
	b := &backend{sessions: float64(sc.Backend.Sessions), growth: sc.Backend.LatencyGrowth,
		p95: sc.Backend.Latency.D(), collapse: sc.Backend.CollapseAt,
		target: p.TargetP95, maxErr: p.MaxErrorRate}
	if b.p95 == 0 {
		b.p95 = DefaultBackendLatency
	}
	return b
}

// load is the latency factor and the share of failed requests with n
// people booking.
func (b *backend) load(n int) (factor, errShare float64) {
	x := float64(n) / b.sessions
	factor = 1
	if x > 1 {
		factor += b.growth * (x - 1)
	}
	if b.collapse > 0 && x > b.collapse {
		errShare = 1 - b.collapse/x
	}
	return factor, errShare
}

// bookingTime is how long a booking of human time d takes with n people
// booking: longer by the latency factor, and by the retries of failed
// requests.
func (b *backend) bookingTime(d time.Duration, n int) time.Duration {
	f, es := b.load(n)
	if f > 1 {
		d = time.Duration(float64(d) * f)
	}
	if es > 0 {
		d = time.Duration(float64(d) / (1 - es))
	}
	return d
}

// step models one step of the backend with n people booking.
func (b *backend) step(n int) {
	f, es := b.load(n)
	p95 := time.Duration(float64(b.p95) * f)
	b.minP95 = max(b.minP95, p95)
	b.minErr = max(b.minErr, es)
	b.maxP95 = max(b.maxP95, p95)
	b.peakSessions = max(b.peakSessions, n)
	b.minPeakSessions = max(b.minPeakSessions, n)
	if p95 > b.target || es > b.maxErr {
		b.overloadSteps++
	}
	if len(b.health) == 0 || n == 0 {
		return
	}
	// A request's latency is exponentially distributed, scaled so that its
	// p95 is the model's: the samples are its quantiles, the 95th the
	// last but one (the window's p95 is then the model's).
	b.errCarry += es * healthSamples
	fail := int(b.errCarry)
	b.errCarry -= float64(fail)
	for i := range healthSamples {
		h := b.health[b.next%len(b.health)]
		b.next++
		if i < fail {
			h.Observe(requestTimeout, true)
			continue
		}
		u := 0.95 * float64(i+1) / (healthSamples - 1)
		if i == healthSamples-1 {
			u = 0.975
		}
		h.Observe(time.Duration(float64(p95)*math.Log(1/(1-u))/math.Log(20)), false)
	}
}

// closeMinute returns the minute's worst p95 (ms), error share and peak
// people booking, and starts the next minute.
func (b *backend) closeMinute() (p95ms, errShare float64, peak int) {
	p95ms, errShare, peak = float64(b.minP95.Milliseconds()), math.Round(b.minErr*1000)/1000, b.minPeakSessions
	b.minP95, b.minErr, b.minPeakSessions = 0, 0, 0
	return p95ms, errShare, peak
}
