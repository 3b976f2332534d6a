// Package config reads Sluice's configuration from a YAML file, the
// environment (SLUICE_*) and flags, in that order of precedence (flags win).
// Secrets (signing keys, admin token) come only from the environment or from
// files named there, never from flags or the command line.
package config

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"go.yaml.in/yaml/v3"
)

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
	if err := d.parse(s); err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	return nil
}

// MarshalYAML writes "10m0s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d *Duration) parse(s string) error {
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
		return d.parse(s)
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
