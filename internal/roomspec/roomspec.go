// Package roomspec is a room's settings as a person writes them: a room
// of the configuration file (YAML, package config) and the admin API's
// bodies (JSON, package web) take the same fields, declared once here, so
// that the HTTP layer does not depend on the configuration package.
package roomspec

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/room"
)

// RoomConfig is a room as written in the YAML file (config.Config.Rooms);
// the admin API takes the same fields in JSON (PUT
// /api/v1/admin/rooms/{room}).
type RoomConfig struct {
	Name       string     `yaml:"name" json:"name"`
	PrequeueAt *time.Time `yaml:"prequeue_at" json:"prequeue_at"`
	OpensAt    *time.Time `yaml:"opens_at" json:"opens_at"`
	ClosesAt   *time.Time `yaml:"closes_at" json:"closes_at"`
	RoomTuning `yaml:",inline"`
	WaitingURL string `yaml:"waiting_url" json:"waiting_url"`
	Paused     bool   `yaml:"paused" json:"paused"`
}

// RoomTuning are a room's numeric settings as a person writes them. A
// setting left out (nil) is unset: a new room takes its default, a change
// (PATCH) leaves it as it is. A setting written as 0 is 0, which
// room.Settings.Validate refuses like any other value out of bounds: zero
// never means "the default" (an operator who writes capacity 0 to stop
// admissions must not get 100).
type RoomTuning struct {
	Capacity     *int      `yaml:"capacity" json:"capacity"`
	Rate         *float64  `yaml:"rate" json:"rate"`
	PassTTL      *Duration `yaml:"pass_ttl" json:"pass_ttl"`
	ClaimTimeout *Duration `yaml:"claim_timeout" json:"claim_timeout"`
	PollBudget   *float64  `yaml:"poll_budget" json:"poll_budget"`
	MinPoll      *Duration `yaml:"min_poll" json:"min_poll"`
	// Pacing is how the rate is chosen (PacingTuning). A rate given
	// without a pacing mode is the operator's: the room admits at it,
	// fixed.
	Pacing *PacingTuning `yaml:"pacing" json:"pacing"`
}

// Apply writes the settings t gives onto s; the others keep their values.
func (t RoomTuning) Apply(s *room.Settings) {
	setGiven(&s.Capacity, t.Capacity)
	setGiven(&s.Rate, t.Rate)
	setGivenDuration(&s.PassTTL, t.PassTTL)
	setGivenDuration(&s.ClaimTimeout, t.ClaimTimeout)
	setGiven(&s.PollBudget, t.PollBudget)
	setGivenDuration(&s.MinPoll, t.MinPoll)
	if t.Rate != nil && (t.Pacing == nil || t.Pacing.Mode == nil) {
		s.Pacing.Mode = room.PacingFixed
	}
	t.Pacing.apply(&s.Pacing)
}

// setGiven writes a setting the person gave (v not nil) onto dst; one left
// out keeps dst's value.
func setGiven[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// setGivenDuration is setGiven for a duration as a person writes it.
func setGivenDuration(dst *time.Duration, d *Duration) {
	if d != nil {
		*dst = d.D()
	}
}

// Settings converts to room settings: the defaults of what c leaves out,
// then what c gives, validated (room.Settings.Validate).
func (c RoomConfig) Settings() (room.Settings, error) {
	s := room.Settings{Name: c.Name, WaitingURL: c.WaitingURL, Paused: c.Paused}
	setGiven(&s.PrequeueAt, c.PrequeueAt)
	setGiven(&s.OpensAt, c.OpensAt)
	setGiven(&s.ClosesAt, c.ClosesAt)
	s = s.WithDefaults()
	c.RoomTuning.Apply(&s)
	return s, s.Validate()
}

// PacingTuning is a room's pacing as a person writes it (the room's
// `pacing:` block, and "pacing" in the admin API's PUT and PATCH): a
// field left out keeps its value (a new room: its default).
type PacingTuning struct {
	Mode         *string   `yaml:"mode" json:"mode"`
	TargetP95    *Duration `yaml:"target_p95" json:"target_p95"`
	MaxErrorRate *float64  `yaml:"max_error_rate" json:"max_error_rate"`
	MinRate      *float64  `yaml:"min_rate" json:"min_rate"`
	MaxRate      *float64  `yaml:"max_rate" json:"max_rate"`
}

// apply writes the pacing settings t gives onto p.
func (t *PacingTuning) apply(p *room.Pacing) {
	if t == nil {
		return
	}
	setGiven(&p.Mode, t.Mode)
	setGivenDuration(&p.TargetP95, t.TargetP95)
	setGiven(&p.MaxErrorRate, t.MaxErrorRate)
	setGiven(&p.MinRate, t.MinRate)
	setGiven(&p.MaxRate, t.MaxRate)
}

// Duration is a time.Duration written as "90s", "10m", "1h30m".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML accepts "10m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration: %v", n.Line, err)
	}
	if err := d.Parse(s); err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	return nil
}

// MarshalYAML writes "10m0s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Parse sets d from a duration written as a person writes it ("90s",
// "10m", "1h30m"; not negative).
func (d *Duration) Parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: write it like \"90s\", \"10m\" or \"1h30m\"", trunc(s))
	}
	if v < 0 {
		return fmt.Errorf("duration %q must not be negative", trunc(s))
	}
	*d = Duration(v)
	return nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// UnmarshalJSON accepts "10m" or a number of seconds (the admin API).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return d.Parse(s)
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want a string like \"10m\" or a number of seconds, got %s", trunc(string(b)))
	}
	if secs < 0 || secs*float64(time.Second) >= math.MaxInt64 {
		return fmt.Errorf("duration: %v seconds: must be from 0 to 292 years", secs)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON writes "10m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
