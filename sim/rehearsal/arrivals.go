package rehearsal

import (
	"math"
	"time"
)

// arrivals spreads the scenario's arrivals over the steps: a share evenly
// over the time before opening, the rest falling off exponentially after
// it. The count by step is the rounded cumulative share, so it needs no
// random numbers and no list of times.
type arrivals struct {
	n          float64
	before     float64 // share before opening
	firstStep  int     // first step of the arrivals before opening
	openStep   int
	spikeSteps float64 // time constant, in steps
	lastStep   int
}

func newArrivals(sc *Scenario, n, openStep, lastStep int) *arrivals {
	return &arrivals{n: float64(n), before: sc.Arrivals.BeforeOpening,
		firstStep: openStep - int(sc.Arrivals.Early.D()/step), openStep: openStep,
		spikeSteps: float64(sc.Arrivals.Spike.D() / step), lastStep: lastStep}
}

// share is the share of arrivals by the end of step st.
func (a *arrivals) share(st int) float64 {
	switch {
	case st < a.firstStep:
		return 0
	case st < a.openStep:
		return a.before * float64(st-a.firstStep+1) / float64(a.openStep-a.firstStep)
	}
	return a.before + (1-a.before)*(1-math.Exp(-float64(st-a.openStep+1)/a.spikeSteps))
}

// upTo is how many people have arrived by the end of step st. The curve
// is cut at the end of the night and scaled so that everybody arrives by
// then (with a spike much shorter than the night the scaling is nil).
func (a *arrivals) upTo(st int) uint32 {
	st = min(st, a.lastStep)
	return uint32(math.Round(a.n * a.share(st) / a.share(a.lastStep)))
}

// ArrivalOffsets are the arrival times of n people as the rehearsal plays
// them, as offsets from the opening (negative before it), in order: for a
// real run of the same scenario (sluice simulate --real).
func (sc *Scenario) ArrivalOffsets(n int) []time.Duration {
	lead := max(sc.Room.Prequeue.D(), sc.Arrivals.Early.D())
	openStep := int(lead / step)
	last := openStep + int(sc.Duration.D()/step)
	a := newArrivals(sc, n, openStep, last)
	out := make([]time.Duration, 0, n)
	for st := 0; st <= last && len(out) < n; st++ {
		for k := int(a.upTo(st)); len(out) < k; {
			out = append(out, time.Duration(st-openStep)*step)
		}
	}
	return out
}
