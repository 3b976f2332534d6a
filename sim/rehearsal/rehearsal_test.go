package rehearsal

import (
	"time"

	"encoding/json"
	"github.com/sluicehq/sluice/config"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	sc.Room.Capacity = max(10, int(float64(sc.Room.Capacity)*scale))
	// A scaled-down line sees few joins and returns a second, which also
	// admit: the manager's tick must keep the token bucket (a tenth of a
	// second of the rate) flowing, as it does in the server.
	sc.Tick = config.Duration(100 * time.Millisecond)
	sc.Room.Rate = max(1, sc.Room.Rate*scale)
	sc.Room.PollBudget = max(1, sc.Room.PollBudget*scale)
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
	run := func() []byte {
		sc, opt := small(t, "2021-07-19", 5000)
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
