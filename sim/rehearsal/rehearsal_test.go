package rehearsal

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
)

// small is the shipped night scaled down: the same room, campaign and
// people, arrivals and room sized so the line is long.
func small(t *testing.T, name string, arrivals int) (*Scenario, Options) {
	t.Helper()
	sc, err := LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	scale := float64(arrivals) / float64(sc.Arrivals.Count)
	sc.Room.Capacity = new(max(10, int(float64(*sc.Room.Capacity)*scale)))
	// A scaled-down line sees few joins and returns a second, which also
	// admit: the manager's tick must keep the token bucket (a tenth of a
	// second of the rate) flowing, as it does in the server.
	sc.Tick = config.Duration(100 * time.Millisecond)
	sc.Room.Rate = new(max(1, *sc.Room.Rate*scale))
	sc.Room.PollBudget = new(max(1, *sc.Room.PollBudget*scale))
	sc.Backend.Sessions = max(10, int(float64(sc.Backend.Sessions)*scale))
	return sc, Options{Arrivals: arrivals, Seed: 7}
}

// TestNightSmall plays both shipped nights scaled down: the invariants
// hold, the outcomes add up, and the recommended settings book more
// people than 2021's with fewer requests at the front door.
func TestNightSmall(t *testing.T) {
	results := map[string]*Result{}
	for _, name := range []string{"2021-07-19", "2021-07-19-as-2021"} {
		t.Run(name, func(t *testing.T) {
			sc, opt := small(t, name, 20000)
			res, err := Run(sc, opt)
			if err != nil {
				t.Fatal(err)
			}
			results[name] = res
			if res.Overbooked != 0 || res.FIFOInversions != 0 {
				t.Errorf("overbooked %d, FIFO inversions %d; want 0, 0", res.Overbooked, res.FIFOInversions)
			}
			total := res.Booked + res.GaveUp + res.TurnedAway + res.StillWaiting + res.StillBooking + res.MissedTurn + res.SessionExpired + res.NoSlot
			if res.Arrivals != 20000 || total != res.People {
				t.Errorf("arrivals %d, outcomes add up to %d of %d people", res.Arrivals, total, res.People)
			}
			if res.Booked == 0 || res.WaitP99 < res.WaitP50 || len(res.Timeline) < 10 {
				t.Errorf("booked %d, wait p50 %v p99 %v, %d minutes", res.Booked, res.WaitP50, res.WaitP99, len(res.Timeline))
			}
			if name == "2021-07-19" && (res.ETAErrorP90 > 600 || res.StillWaiting != 0) {
				t.Errorf("recommended settings: ETA error p90 %v s, %d still waiting; want under 10 min and nobody", res.ETAErrorP90, res.StillWaiting)
			}
			t.Logf("%s: booked %d gave up %d turned away %d waiting %d missed %d expired %d; wait p50 %vs p99 %vs; eta err p90 %vs; wasted %d; peak %d rps",
				name, res.Booked, res.GaveUp, res.TurnedAway, res.StillWaiting, res.MissedTurn, res.SessionExpired,
				res.WaitP50, res.WaitP99, res.ETAErrorP90, res.WastedAdmissions, res.PeakFrontDoorRPS)
		})
	}
	a, b := results["2021-07-19"], results["2021-07-19-as-2021"]
	if a != nil && b != nil && (a.Booked <= b.Booked || a.FrontDoorRequests >= b.FrontDoorRequests) {
		t.Errorf("Sluice: %d booked, %d requests; 2021: %d booked, %d requests", a.Booked, a.FrontDoorRequests, b.Booked, b.FrontDoorRequests)
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range []string{"2021-07-19", "2021-07-19-4-nodes", "2021-07-19-auto"} {
		t.Run(name, func(t *testing.T) { deterministic(t, name) })
	}
}

func deterministic(t *testing.T, name string) {
	run := func() []byte {
		sc, opt := small(t, name, 5000)
		res, err := Run(sc, opt)
		if err != nil {
			t.Fatal(err)
		}
		res.WallSeconds = 0
		b, _ := json.Marshal(res)
		return b
	}
	if a, b := run(), run(); string(a) != string(b) {
		t.Error("same scenario and seed gave different JSON")
	}
}

func TestOutputs(t *testing.T) {
	sc, opt := small(t, "real-check", 2000)
	res, err := Run(sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := res.WriteJSON(filepath.Join(dir, "r.json")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"arrivals", "people", "booked", "gave_up", "turned_away", "wait_p50_s", "wait_p99_s",
		"eta_error_p90_s", "fifo_inversions", "overbooked", "peak_front_door_rps", "wall_seconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if err := res.WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if n := strings.Count(string(page), "<svg"); n < 5 {
		t.Errorf("report has %d charts", n)
	}
}

func TestScenarioStrict(t *testing.T) {
	b, _ := shipped.ReadFile("scenarios/real-check.yaml")
	if _, err := ParseScenario(append(b, []byte("\nunknown_key: 1\n")...)); err == nil {
		t.Error("an unknown key was accepted")
	}
	bad := strings.Replace(string(b), "capacity: 500", "capacity: 0", 1)
	if _, err := ParseScenario([]byte(bad)); err != nil {
		t.Errorf("capacity 0 means the room's default: %v", err)
	}
	bad = strings.Replace(string(b), "count: 20000", "count: 0", 1)
	if _, err := ParseScenario([]byte(bad)); err == nil {
		t.Error("zero arrivals accepted")
	}
	for _, extra := range []string{"nodes: 65", "nodes: -1"} {
		if _, err := ParseScenario(append(b, []byte("\n"+extra+"\n")...)); err == nil {
			t.Errorf("%s accepted", extra)
		}
	}
	bad = strings.Replace(string(b), "latency_growth: 0", "latency_growth: 0\n  collapse_at: 0.5", 1)
	if _, err := ParseScenario([]byte(bad)); err == nil {
		t.Error("collapse_at below 1 accepted")
	}
	bad = strings.Replace(string(b), "min_poll: 1s", "min_poll: 1s\n  pacing: {mode: auto, max_rate: 300}", 1)
	if sc, err := ParseScenario([]byte(bad)); err != nil || sc.Room.Pacing == nil || *sc.Room.Pacing.MaxRate != 300 {
		t.Errorf("a pacing block: %v", err)
	}
	for _, name := range ShippedScenarios() {
		if _, err := LoadScenario(name); err != nil {
			t.Error(err)
		}
	}
}

// TestNightFull plays the shipped night at full size (10,000,000
// arrivals) when SLUICE_REHEARSAL_FULL is set: about a minute and a few
// hundred megabytes, too much for every run of the suite. Its time and
// memory are recorded by `sluice simulate` (docs/BENCHMARKS.md, P7).
func TestNightFull(t *testing.T) {
	if os.Getenv("SLUICE_REHEARSAL_FULL") == "" {
		t.Skip("set SLUICE_REHEARSAL_FULL=1 to play the full night")
	}
	sc, err := LoadScenario("2021-07-19")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Arrivals != sc.Arrivals.Count || res.Overbooked != 0 || res.FIFOInversions != 0 {
		t.Errorf("arrivals %d, overbooked %d, FIFO inversions %d", res.Arrivals, res.Overbooked, res.FIFOInversions)
	}
	t.Logf("booked %d, wait p50 %v s p99 %v s, %.1f s wall", res.Booked, res.WaitP50, res.WaitP99, res.WallSeconds)
}

// TestNodesSmall plays the scaled-down night on four nodes sharing one
// line: nobody is overbooked, the outcomes add up, and nobody is
// overtaken by more people who joined after them than the documented
// bound (room.LeaseBlock-1 per other node), which one node never does.
func TestNodesSmall(t *testing.T) {
	for _, nodes := range []int{1, 4} {
		sc, opt := small(t, "2021-07-19", 20000)
		sc.Nodes = nodes
		res, err := Run(sc, opt)
		if err != nil {
			t.Fatal(err)
		}
		total := res.Booked + res.GaveUp + res.TurnedAway + res.StillWaiting + res.StillBooking + res.MissedTurn + res.SessionExpired + res.NoSlot
		if res.Nodes != nodes || res.Overbooked != 0 || total != res.People || res.Booked == 0 {
			t.Errorf("%d nodes: nodes %d, overbooked %d, outcomes %d of %d, booked %d", nodes, res.Nodes, res.Overbooked, total, res.People, res.Booked)
		}
		wantBound := (nodes - 1) * (room.LeaseBlock - 1)
		if res.FIFOBound != wantBound || res.FIFOOvertakenMax > res.FIFOBound {
			t.Errorf("%d nodes: most overtaken %d, bound %d (want %d)", nodes, res.FIFOOvertakenMax, res.FIFOBound, wantBound)
		}
		if nodes == 1 && res.FIFOInversions != 0 {
			t.Errorf("one node: %d FIFO inversions", res.FIFOInversions)
		}
		t.Logf("%d nodes: booked %d, most overtaken %d of %d, FIFO inversions %d, missed %d", nodes, res.Booked,
			res.FIFOOvertakenMax, res.FIFOBound, res.FIFOInversions, res.MissedTurn)
	}
}

// TestFIFOOvertaken checks the measure on tabs given by hand.
func TestFIFOOvertaken(t *testing.T) {
	for _, c := range []struct {
		seqs  []uint32
		flags []uint8
		want  int
	}{
		{[]uint32{0, 1, 2, 3}, nil, 0},
		{[]uint32{2, 0, 1, 3}, nil, 2},
		{[]uint32{3, 2, 1, 0}, nil, 3},
		{[]uint32{256, 257, 0, 1, 258, 2}, nil, 3},
		{[]uint32{9, 0, 1}, []uint8{tfPrequeue, 0, 0}, 0}, // the pre-queue is a lottery
	} {
		e := &engine{tseq: c.seqs, tflag: make([]uint8, len(c.seqs))}
		copy(e.tflag, c.flags)
		if got := e.fifoOvertaken(); got != c.want {
			t.Errorf("%v: %d overtaken, want %d", c.seqs, got, c.want)
		}
	}
}

// TestBackendHealth: the modelled backend's latency and errors, and what
// the room's health window reads of them, as the pacer sees it.
func TestBackendHealth(t *testing.T) {
	clk := clock.NewManual(time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC))
	sc := &Scenario{Backend: Backend{Sessions: 100, LatencyGrowth: 2, Latency: config.Duration(500 * time.Millisecond), CollapseAt: 1.5}}
	b := newBackend(sc, room.Pacing{TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01})
	b.health = []*room.Health{room.NewHealth(clk)}
	for _, c := range []struct {
		n        int
		p95      time.Duration
		errShare float64
		overload bool
	}{
		{50, 500 * time.Millisecond, 0, false},
		{100, 500 * time.Millisecond, 0, false},
		{120, 700 * time.Millisecond, 0, false},
		{140, 900 * time.Millisecond, 0, true},
		{300, 2500 * time.Millisecond, 0.5, true},
	} {
		before := b.overloadSteps
		for range 20 {
			clk.Advance(step)
			b.step(c.n)
		}
		r := b.health[0].Read()
		lo, hi := float64(c.p95)*0.95, float64(c.p95)*1.15 // the window's buckets are 10% apart
		if c.errShare > 0 {
			lo, hi = float64(requestTimeout)*0.95, float64(requestTimeout)*1.15 // failures time out
		}
		if float64(r.P95) < lo || float64(r.P95) > hi || math.Abs(r.ErrorRate-c.errShare) > 0.05 {
			t.Errorf("%d booking: read p95 %v, errors %.2f; want about %v, %.2f", c.n, r.P95, r.ErrorRate, c.p95, c.errShare)
		}
		if over := b.overloadSteps > before; over != c.overload {
			t.Errorf("%d booking: over the objective %v, want %v", c.n, over, c.overload)
		}
	}
	if d := b.bookingTime(time.Minute, 300); d != 10*time.Minute { // 5x slower, half the requests retried
		t.Errorf("booking time at twice collapse: %v, want 10m", d)
	}
}

// TestComparePacingSmall: auto pacing moves the rate within its bounds
// and the comparison marks a best fixed rate that never overloaded the
// backend.
func TestComparePacingSmall(t *testing.T) {
	sc, opt := small(t, "2021-07-19-auto", 20000)
	scale := 20000.0 / float64(sc.Arrivals.Count)
	lo, hi := max(1, 50*scale), max(2, 5000*scale)
	sc.Room.Pacing.MinRate, sc.Room.Pacing.MaxRate = &lo, &hi
	sc.Duration = config.Duration(30 * time.Minute)
	runs, err := ComparePacing(sc, opt, []float64{0.5, 1.5, 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 || runs[0].Pacing != room.PacingAuto || runs[0].Result.PaceChanges == 0 {
		t.Fatalf("%d runs, first %s with %d rate changes; want auto first, moving the rate", len(runs), runs[0].Pacing, runs[0].Result.PaceChanges)
	}
	best := 0
	for _, r := range runs {
		if r.Result.Overbooked != 0 {
			t.Errorf("%s %v: %d overbooked", r.Pacing, r.Rate, r.Result.Overbooked)
		}
		for _, m := range r.Result.Timeline {
			if r.Pacing == room.PacingAuto && (m.RateLimit < lo || m.RateLimit > hi) {
				t.Errorf("auto: rate %v outside [%v, %v] in minute %d", m.RateLimit, lo, hi, m.Minute)
			}
		}
		if r.Best {
			best++
			if r.Pacing != room.PacingFixed || r.Result.BackendOverloadS != 0 {
				t.Errorf("best: %s at %v with %v s over the objective", r.Pacing, r.Rate, r.Result.BackendOverloadS)
			}
		}
		t.Logf("%s %v: booked %d, cleared %v s, over objective %v s, worst p95 %v ms, peak %d, %d changes", r.Pacing, r.Rate,
			r.Result.Booked, r.Result.LineClearedS, r.Result.BackendOverloadS, r.Result.BackendP95MaxMs, r.Result.PeakSessions, r.Result.PaceChanges)
	}
	if best != 1 {
		t.Errorf("%d runs marked best, want 1", best)
	}
	var sb strings.Builder
	PrintPacingComparison(&sb, runs)
	if !strings.Contains(sb.String(), "auto") {
		t.Errorf("comparison table lacks the auto row:\n%s", sb.String())
	}
}
