package booking

import "time"

// Interval returns the interval rule that applies to a first dose given on
// dose1: the rule with the latest From on or before dose1. ok is false if
// every rule starts after dose1.
func (v *Vaccine) Interval(dose1 Date) (rule IntervalRule, ok bool) {
	for _, r := range v.Intervals {
		if r.From.After(dose1) {
			continue
		}
		if !ok || r.From.After(rule.From) {
			rule, ok = r, true
		}
	}
	return rule, ok
}

// SecondDoseDates returns the acceptable second-dose dates for a first dose
// on dose1, in order of preference: the default interval first, then the
// nearest dates alternately after and before it (default+1, default-1,
// default+2, default-2, ...), all within [EarliestDays, LatestDays] days
// after dose1. This is how 2021 moved a second dose to the nearest free date
// when a clinic was full.
//
// Sundays are skipped: clinics are closed on Sundays, so no slot exists
// then (the availability index has no Sunday slots either).
//
// It returns nil if no interval rule applies to dose1.
func (v *Vaccine) SecondDoseDates(dose1 Date) []Date {
	r, ok := v.Interval(dose1)
	if !ok || r.EarliestDays > r.DefaultDays || r.DefaultDays > r.LatestDays {
		return nil
	}
	out := make([]Date, 0, r.LatestDays-r.EarliestDays+1)
	add := func(days int) {
		if days < r.EarliestDays || days > r.LatestDays {
			return
		}
		d := dose1.AddDays(days)
		if d.Weekday() == time.Sunday {
			return
		}
		out = append(out, d)
	}
	add(r.DefaultDays)
	for k := 1; r.DefaultDays+k <= r.LatestDays || r.DefaultDays-k >= r.EarliestDays; k++ {
		add(r.DefaultDays + k)
		add(r.DefaultDays - k)
	}
	return out
}
