// Package rehearsal plays a night of the booking room in virtual time: the
// real room (room.Room on a manual clock: admission, lottery, capacity,
// rate, poll intervals, claim timeout, pass lifetime) and the real
// campaign rules and slot availability (booking.Campaign.Eligibility,
// booking.Availability, Vaccine.SecondDoseDates) are driven by modelled
// people and a modelled backend, with no real sleeping. State per person
// is a few compact arrays, so that ten million arrivals fit in a few
// hundred megabytes.
package rehearsal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/config"
)

// Scenario describes a night: the room's settings, the campaign, who
// arrives when and how they behave, and the backend behind the room.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Room holds the room's settings (see room.Settings).
	Room RoomSettings `yaml:"room"`
	// Campaign names a shipped campaign and the cohort whose night it is.
	Campaign CampaignRef `yaml:"campaign"`
	Arrivals Arrivals    `yaml:"arrivals"`
	// Ineligible: the share of arrivals not eligible that night, and the
	// share of those who ask "may I book now?" instead of queueing.
	Ineligible Ineligible `yaml:"ineligible"`
	// Tabs: the share of people who open a second tab (a second ticket).
	Tabs Tabs `yaml:"tabs"`
	// Refresh: how often a waiting person reloads the page, and whether a
	// reload loses the place (a queue kept only in the browser, 2021).
	Refresh Refresh `yaml:"refresh"`
	// GiveUp: people leave when their wait so far plus the shown ETA
	// exceeds their patience (exponentially distributed, this mean).
	GiveUp GiveUp `yaml:"give_up"`
	// Booking: the time a person spends booking once admitted.
	Booking Booking `yaml:"booking"`
	// Backend: the sessions the backend serves at once before its
	// latency grows, and how fast it grows past that.
	Backend Backend `yaml:"backend"`
	// Duration is how long after opening the rehearsal runs.
	Duration config.Duration `yaml:"duration"`
	// Tick is how often the room's manager ticks (room.Manager.Run).
	Tick config.Duration `yaml:"tick"`
	// Nodes is how many Sluice nodes share the line (room.NewShared on one
	// room.NewMemShared; 0 or 1: one node with its own line, room.New).
	// Each person joins on one node; every poll lands on a node drawn at
	// random, with the position the tab was last shown (Room.StatusSeen).
	Nodes int `yaml:"nodes"`
}

// RoomSettings are the room's settings in the scenario.
type RoomSettings struct {
	OpensAt string `yaml:"opens_at"` // RFC 3339
	// Prequeue is how long before opening the pre-queue starts (0: no
	// pre-queue, joins before opening are refused as not yet open and
	// retried at opening).
	Prequeue config.Duration `yaml:"prequeue"`
	// The room's settings as a room of the configuration file writes them
	// (capacity, rate, pass_ttl, claim_timeout, poll_budget, min_poll,
	// pacing: docs/CONFIG.md, docs/PACING.md), read and applied alike;
	// left out: the room's default (pacing: fixed at rate).
	config.RoomTuning `yaml:",inline"`
}

// CampaignRef names the campaign and the cohort of the night.
type CampaignRef struct {
	ID          string `yaml:"id"`
	Cohort      string `yaml:"cohort"`
	HorizonDays int    `yaml:"horizon_days"` // how far ahead first doses are booked
}

// Arrivals over time: a share before opening (spread evenly over Early
// before it), the rest after opening, falling off exponentially with time
// constant Spike.
type Arrivals struct {
	Count         int             `yaml:"count"`
	BeforeOpening float64         `yaml:"before_opening"`
	Early         config.Duration `yaml:"early"`
	Spike         config.Duration `yaml:"spike"`
}

// Ineligible people.
type Ineligible struct {
	Share      float64 `yaml:"share"`
	CheckFirst float64 `yaml:"check_first"`
}

// Tabs per person.
type Tabs struct {
	SecondTab float64 `yaml:"second_tab"`
}

// Refresh behaviour.
type Refresh struct {
	Every      config.Duration `yaml:"every"` // mean time between reloads while waiting; 0: never
	LosesPlace bool            `yaml:"loses_place"`
}

// GiveUp behaviour.
type GiveUp struct {
	Patience config.Duration `yaml:"patience"`
}

// Booking time once admitted.
type Booking struct {
	Min        config.Duration `yaml:"min"`
	Max        config.Duration `yaml:"max"`
	Ineligible config.Duration `yaml:"ineligible"` // time an ineligible person spends before being turned away
}

// Backend capacity. The backend serves Sessions people booking at once
// at its unloaded latency; past that every request (and so every booking)
// takes longer by LatencyGrowth per 100% over, and past CollapseAt times
// Sessions the requests beyond what it serves time out (backend.go).
type Backend struct {
	Sessions      int     `yaml:"sessions"`
	LatencyGrowth float64 `yaml:"latency_growth"`
	// Latency is the p95 of a request's latency while the backend is
	// within Sessions (default 500ms).
	Latency config.Duration `yaml:"latency"`
	// CollapseAt: past this many times Sessions, requests fail (0: never).
	CollapseAt float64 `yaml:"collapse_at"`
}

// DefaultBackendLatency is the unloaded p95 of a scenario that gives none.
const DefaultBackendLatency = 500 * time.Millisecond

//go:embed scenarios/*.yaml
var shipped embed.FS

// ShippedScenarios lists the names of the scenarios built in.
func ShippedScenarios() []string {
	ents, _ := shipped.ReadDir("scenarios")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(out)
	return out
}

// LoadScenario returns the shipped scenario of that name, or reads a file.
func LoadScenario(nameOrFile string) (*Scenario, error) {
	b, err := shipped.ReadFile("scenarios/" + nameOrFile + ".yaml")
	if err != nil {
		if b, err = os.ReadFile(nameOrFile); err != nil {
			return nil, fmt.Errorf("scenario %q: neither a shipped scenario (%s) nor a readable file: %w",
				nameOrFile, strings.Join(ShippedScenarios(), ", "), err)
		}
	}
	return ParseScenario(b)
}

// ParseScenario reads a scenario; unknown fields are errors.
func ParseScenario(b []byte) (*Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Scenario) opensAt() (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s.Room.OpensAt)
	if err != nil {
		return t, fmt.Errorf("scenario %s: room.opens_at %q: want RFC 3339 with offset", s.Name, s.Room.OpensAt)
	}
	return t, nil
}

func (s *Scenario) validate() error {
	var bad []string
	check := func(ok bool, what string) {
		if !ok {
			bad = append(bad, what)
		}
	}
	_, err := s.opensAt()
	check(err == nil, "room.opens_at must be RFC 3339 with an offset")
	share := func(v float64) bool { return v >= 0 && v <= 1 }
	check(s.Arrivals.Count > 0 && s.Arrivals.Count < 1<<30, "arrivals.count must be 1 to 2^30")
	check(share(s.Arrivals.BeforeOpening), "arrivals.before_opening must be 0 to 1")
	check(s.Arrivals.Spike > 0, "arrivals.spike must be positive")
	check(s.Arrivals.BeforeOpening == 0 || s.Arrivals.Early > 0, "arrivals.early must be positive when before_opening is")
	check(share(s.Ineligible.Share) && share(s.Ineligible.CheckFirst), "ineligible.share and check_first must be 0 to 1")
	check(share(s.Tabs.SecondTab), "tabs.second_tab must be 0 to 1")
	check(s.GiveUp.Patience > 0, "give_up.patience must be positive")
	check(s.Booking.Min > 0 && s.Booking.Max >= s.Booking.Min, "booking.min must be positive and at most booking.max")
	check(s.Booking.Ineligible > 0, "booking.ineligible must be positive")
	check(s.Backend.Sessions > 0 && s.Backend.LatencyGrowth >= 0, "backend.sessions must be positive, latency_growth not negative")
	check(s.Backend.Latency >= 0 && (s.Backend.CollapseAt == 0 || s.Backend.CollapseAt >= 1), "backend.latency must not be negative, backend.collapse_at 0 or at least 1")
	check(s.Nodes >= 0 && s.Nodes <= 64, "nodes must be 0 to 64")
	check(s.Duration.D() >= time.Minute && s.Duration.D() <= 24*time.Hour, "duration must be 1m to 24h")
	check(s.Tick.D() >= step && s.Tick.D()%step == 0, "tick must be a multiple of 100ms")
	check(s.Campaign.ID != "" && s.Campaign.Cohort != "", "campaign.id and campaign.cohort are required")
	check(s.Campaign.HorizonDays > 0 && s.Campaign.HorizonDays <= 366, "campaign.horizon_days must be 1 to 366")
	if len(bad) > 0 {
		return fmt.Errorf("scenario %s: %s", s.Name, strings.Join(bad, "; "))
	}
	return nil
}
