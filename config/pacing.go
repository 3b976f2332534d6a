package config

import "github.com/sluicehq/sluice/room"

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
