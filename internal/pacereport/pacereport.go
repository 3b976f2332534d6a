// Package pacereport judges a run of the pacing scenario of issue 11: a
// backend whose capacity changes in phases (halves, recovers, fails for a
// while) behind a room with auto pacing. From what people saw second by
// second it says, phase by phase, how soon the p95 was back under the
// objective and how much of the backend's capacity the steady state used.
// The room's test on a manual clock and the app's real-time test judge
// their runs with it, so both measure the same thing.
package pacereport

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Phase is a part of the scenario: from At on, the backend serves C
// requests in flight at its base latency (0: it fails).
type Phase struct {
	At time.Duration
	C  int
}

// Second is what happened in one second of a run.
type Second struct {
	OK, Failed, Busy int             // requests served, failed, refused as backend_busy
	Latencies        []time.Duration // of the requests served, as people saw them
	C                int             // the backend's capacity (0: failing)
	Rate, Limit      float64         // the room's admission rate and in-flight limit
}

func (s Second) String() string {
	return fmt.Sprintf("c=%2d rate=%7.1f ok=%4d failed=%3d busy=%3d p95=%v limit=%.1f",
		s.C, s.Rate, s.OK, s.Failed, s.Busy, P95(s.Latencies), s.Limit)
}

// PhaseResult is the verdict on one phase. The steady state is the last
// third of the phase.
type PhaseResult struct {
	Phase
	// Recovered is how many seconds into the phase the p95 was last over
	// the objective (0: never).
	Recovered int
	// Used is the share of the backend's capacity the steady state used
	// (0 while the backend fails).
	Used float64
	// P95 and Busy are the steady state's p95 and its requests refused as
	// backend_busy; Rate is the room's rate at the phase's last second.
	P95  time.Duration
	Busy int
	Rate float64
}

// Judge reads the seconds of a run of total length with the given phases
// (secs[s] is second s; at least total/time.Second of them), a backend of
// base latency and the objective target.
func Judge(phases []Phase, total, base, target time.Duration, secs []Second) []PhaseResult {
	out := make([]PhaseResult, len(phases))
	for i, ph := range phases {
		from := int(ph.At / time.Second)
		to := int(total / time.Second)
		if i+1 < len(phases) {
			to = int(phases[i+1].At / time.Second)
		}
		res := PhaseResult{Phase: ph, Rate: secs[to-1].Rate}
		for s := from; s < to; s++ {
			if P95(secs[s].Latencies) > target {
				res.Recovered = s - from + 1
			}
		}
		steady := to - (to-from)/3
		var ok int
		var lats []time.Duration
		for s := steady; s < to; s++ {
			ok += secs[s].OK
			res.Busy += secs[s].Busy
			lats = append(lats, secs[s].Latencies...)
		}
		res.P95 = P95(lats)
		if ph.C > 0 {
			res.Used = float64(ok) / float64(to-steady) / (float64(ph.C) / base.Seconds())
		}
		out[i] = res
	}
	return out
}

func (r PhaseResult) String() string {
	return fmt.Sprintf("from %v, capacity %d in flight: p95 back under the objective after %ds; steady state: %.0f%% of capacity used, p95 %v, %d refused busy, rate %.1f",
		r.At, r.C, r.Recovered, 100*r.Used, r.P95, r.Busy, r.Rate)
}

// P95 is the 95th percentile of l (nearest rank; 0 for none).
func P95(l []time.Duration) time.Duration {
	if len(l) == 0 {
		return 0
	}
	l = slices.Clone(l)
	slices.Sort(l)
	return l[int(math.Ceil(0.95*float64(len(l))))-1]
}
