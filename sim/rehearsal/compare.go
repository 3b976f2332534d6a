package rehearsal

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
)

// PacingRun is one night of a comparison of pacings.
type PacingRun struct {
	// Pacing is "auto" or "fixed"; Rate the fixed rate (the starting rate
	// for auto).
	Pacing string  `json:"pacing"`
	Rate   float64 `json:"rate"`
	// Best marks the best fixed rate: the most people booked (then the
	// line cleared soonest) among the rates that never took the backend
	// over the pacing objective.
	Best   bool    `json:"best,omitempty"`
	Result *Result `json:"result"`
}

// ComparePacing plays the scenario with its pacing made auto, then at each
// fixed rate (pacing fixed, everything else equal), and marks the best
// fixed rate. The scenario's pacing block gives the objectives.
func ComparePacing(sc *Scenario, opt Options, rates []float64) ([]PacingRun, error) {
	runs := make([]PacingRun, 0, len(rates)+1)
	play := func(mode string, rate float64) error {
		s := *sc
		p := config.PacingTuning{}
		if sc.Room.Pacing != nil {
			p = *sc.Room.Pacing
		}
		p.Mode = &mode
		s.Room.Pacing = &p
		s.Room.Rate = &rate
		res, err := Run(&s, opt)
		if err != nil {
			return fmt.Errorf("%s at %v: %w", mode, rate, err)
		}
		runs = append(runs, PacingRun{Pacing: mode, Rate: rate, Result: res})
		return nil
	}
	var rate float64 // left out: the room's default
	if sc.Room.Rate != nil {
		rate = *sc.Room.Rate
	}
	if err := play(room.PacingAuto, rate); err != nil {
		return nil, err
	}
	best := -1
	for _, r := range rates {
		if err := play(room.PacingFixed, r); err != nil {
			return nil, err
		}
		i := len(runs) - 1
		res := runs[i].Result
		if res.BackendOverloadS > 0 {
			continue
		}
		if best < 0 || res.Booked > runs[best].Result.Booked ||
			res.Booked == runs[best].Result.Booked && res.LineClearedS < runs[best].Result.LineClearedS {
			best = i
		}
	}
	if best >= 0 {
		runs[best].Best = true
	}
	return runs, nil
}

// PrintPacingComparison writes the runs as a table.
func PrintPacingComparison(w io.Writer, runs []PacingRun) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pacing\trate\tbooked\tgave up\tline cleared\twait p50\twait p99\tETA err p90\tover objective\tworst p95\tpeak booking\trate changes\t")
	for _, r := range runs {
		name, rate := r.Pacing, fmt.Sprintf("%.0f", r.Rate)
		if r.Pacing == room.PacingAuto {
			rate = fmt.Sprintf("from %.0f", r.Rate)
		}
		if r.Best {
			name = "fixed (best)"
		}
		res := r.Result
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.0f ms\t%d\t%d\t\n", name, rate, res.Booked, res.GaveUp,
			secs(res.LineClearedS), secs(res.WaitP50), secs(res.WaitP99), secs(res.ETAErrorP90),
			secs(res.BackendOverloadS), res.BackendP95MaxMs, res.PeakSessions, res.PaceChanges)
	}
	tw.Flush()
}
