package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim/rehearsal"
)

const simulateUsage = `Usage:
  sluice simulate [--scenario NAME|FILE] [--arrivals N] [--seed S] [--json FILE] [--report DIR]
                  [--real] [--compare-rates R1,R2,...]
      Rehearse a night in virtual time: the real room (admission, lottery,
      capacity, rate, poll intervals, claim timeout, pass lifetime) on a
      manual clock and the real campaign rules and slot availability, driven
      by modelled people and a modelled backend (docs/REHEARSAL.md). Prints
      outcomes and a per-minute timeline; --json writes them as JSON,
      --report an HTML report with SVG charts. The same scenario and seed
      give the same JSON (apart from wall_seconds).
      --real also plays the scenario for real: journey clients against a
      demo server (child process) on the same arrivals, and prints both
      timelines side by side (for small scenarios such as real-check).
      --compare-rates plays the night with the scenario's pacing made auto
      and then at each fixed rate listed, everything else equal, and prints
      one row per night with the best fixed rate marked: the most booked
      among the rates that never took the modelled backend over the
      pacing objective (e.g. --scenario 2021-07-19-auto
      --compare-rates 600,900,1200,1500,2000); --json writes all the runs.

Shipped scenarios: %s

Flags:
`

func runSimulate(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("sluice simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, simulateUsage, strings.Join(rehearsal.ShippedScenarios(), ", "))
		fs.PrintDefaults()
	}
	scenario := fs.String("scenario", "2021-07-19", "a shipped scenario's name or a scenario file (YAML)")
	arrivals := fs.Int("arrivals", 0, "arrivals (0: the scenario's count)")
	seed := fs.Uint64("seed", 1, "chooses people's attributes and the signing key (so the lottery)")
	jsonFile := fs.String("json", "", "write the result as JSON to this file")
	reportDir := fs.String("report", "", "write an HTML report (index.html) to this directory")
	real := fs.Bool("real", false, "also run the scenario for real against a demo server and compare the timelines")
	compare := fs.String("compare-rates", "", "comma-separated fixed rates to compare with auto pacing")
	if !parseFlags(fs, args) {
		return 2
	}
	if *arrivals < 0 {
		fmt.Fprintln(stderr, "sluice simulate: --arrivals must not be negative")
		return 2
	}
	sc, err := rehearsal.LoadScenario(*scenario)
	if err != nil {
		fmt.Fprintln(stderr, "sluice simulate:", err)
		return 2
	}
	var rates []float64
	if *compare != "" {
		if *real {
			fmt.Fprintln(stderr, "sluice simulate: --compare-rates and --real do not go together")
			return 2
		}
		for _, f := range strings.Split(*compare, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(r >= room.MinRate && r <= room.MaxRate) {
				fmt.Fprintf(stderr, "sluice simulate: --compare-rates: %q is not a rate (%v to %v admissions per second)\n", f, room.MinRate, room.MaxRate)
				return 2
			}
			rates = append(rates, r)
		}
	}
	opt := rehearsal.Options{Arrivals: *arrivals, Seed: *seed}
	if isTerminal(stderr) {
		opt.Progress = func(done, total int) {
			const width = 40
			n := done * width / max(total, 1)
			fmt.Fprintf(stderr, "\r\033[K[%s%s] %3d%% of the night", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/max(total, 1))
		}
	}
	if rates != nil {
		return runCompareRates(stdout, stderr, sc, opt, rates, *jsonFile)
	}
	res, err := rehearsal.Run(sc, opt)
	if opt.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice simulate:", err)
		return 1
	}
	res.PrintSummary(stdout)
	if *jsonFile != "" {
		if err := res.WriteJSON(*jsonFile); err != nil {
			fmt.Fprintln(stderr, "sluice simulate:", err)
			return 1
		}
	}
	if *reportDir != "" {
		if err := res.WriteReport(*reportDir); err != nil {
			fmt.Fprintln(stderr, "sluice simulate:", err)
			return 1
		}
	}
	if *real {
		if err := runSimReal(stdout, stderr, getenv, sc, res, *seed); err != nil {
			fmt.Fprintln(stderr, "sluice simulate --real:", err)
			return 1
		}
	}
	return 0
}

// runCompareRates plays the night with auto pacing and at each fixed rate
// and prints the comparison.
func runCompareRates(stdout, stderr io.Writer, sc *rehearsal.Scenario, opt rehearsal.Options, rates []float64, jsonFile string) int {
	runs, err := rehearsal.ComparePacing(sc, opt, rates)
	if opt.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice simulate:", err)
		return 1
	}
	rehearsal.PrintPacingComparison(stdout, runs)
	if jsonFile != "" {
		b, err := json.MarshalIndent(runs, "", "  ")
		if err == nil {
			err = os.WriteFile(jsonFile, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sluice simulate:", err)
			return 1
		}
	}
	return 0
}
