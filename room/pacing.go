package room

import (
	"fmt"
	"time"
)

// Pacing modes (Pacing.Mode).
const (
	// PacingFixed admits at the configured rate (the default).
	PacingFixed = "fixed"
	// PacingAuto lets the room's pacer choose the rate from the backend's
	// health, within [MinRate, MaxRate] (see pacer.go).
	PacingAuto = "auto"
)

// Pacing is how a room chooses its admission rate: fixed (the operator's
// rate) or auto, closed-loop from the backend's health (docs/PACING.md).
type Pacing struct {
	Mode string `json:"mode"`
	// TargetP95 is the objective: the backend's p95 latency as the gate
	// sees it.
	TargetP95 time.Duration `json:"target_p95"`
	// MaxErrorRate is the objective for the share of the backend's answers
	// that are 5xx or time out.
	MaxErrorRate float64 `json:"max_error_rate"`
	// MinRate and MaxRate bound the admissions per second auto may choose.
	MinRate float64 `json:"min_rate"`
	MaxRate float64 `json:"max_rate"`
}

// Defaults of unset pacing settings.
const (
	DefaultTargetP95    = 800 * time.Millisecond
	DefaultMaxErrorRate = 0.01
	DefaultMinPaceRate  = 1
	DefaultMaxPaceRate  = 1000
)

// Bounds of the pacing objectives.
const (
	MinTargetP95 = 10 * time.Millisecond
	MaxTargetP95 = time.Minute
)

// withDefaults fills unset pacing settings.
func (p Pacing) withDefaults() Pacing {
	orDefault(&p.Mode, PacingFixed)
	orDefault(&p.TargetP95, DefaultTargetP95)
	orDefault(&p.MaxErrorRate, DefaultMaxErrorRate)
	orDefault(&p.MinRate, DefaultMinPaceRate)
	orDefault(&p.MaxRate, DefaultMaxPaceRate)
	return p
}

// Auto reports whether the pacer chooses the rate.
func (p Pacing) Auto() bool { return p.Mode == PacingAuto }

// validate reports the first problem with the pacing settings, naming the
// field as the configuration file does ("pacing.target_p95").
func (p Pacing) validate(bad func(field, format string, args ...any) error) error {
	switch {
	case p.Mode != PacingFixed && p.Mode != PacingAuto:
		return bad("pacing.mode", "must be %q or %q, got %q", PacingFixed, PacingAuto, p.Mode)
	case p.TargetP95 < MinTargetP95 || p.TargetP95 > MaxTargetP95:
		return bad("pacing.target_p95", "must be between %v and %v, got %v", MinTargetP95, MaxTargetP95, p.TargetP95)
	case !(p.MaxErrorRate > 0 && p.MaxErrorRate < 1):
		return bad("pacing.max_error_rate", "must be a share above 0 and below 1 (0.01 is 1%%), got %v", p.MaxErrorRate)
	case !(p.MinRate >= MinRate && p.MinRate <= MaxRate):
		return bad("pacing.min_rate", "must be between %v and %v admissions per second, got %v", MinRate, MaxRate, p.MinRate)
	case !(p.MaxRate >= MinRate && p.MaxRate <= MaxRate):
		return bad("pacing.max_rate", "must be between %v and %v admissions per second, got %v", MinRate, MaxRate, p.MaxRate)
	case p.MaxRate < p.MinRate:
		return bad("pacing.max_rate", "must not be below pacing.min_rate (%v), got %v", p.MinRate, p.MaxRate)
	}
	return nil
}

// String is the pacing as the log shows it.
func (p Pacing) String() string {
	if !p.Auto() {
		return PacingFixed
	}
	return fmt.Sprintf("auto (p95 %v, errors %v, rate %v..%v)", p.TargetP95, p.MaxErrorRate, p.MinRate, p.MaxRate)
}
