package booking

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A Programme is the set of campaigns one deployment runs at once, as in
// 2021: the 50s rounds of July and the 18-49 round of August were open in
// the same weeks, on one national set of clinics, slots and vaccine
// supply. Eligibility answers across every campaign; a person holds at most
// one active booking in the whole programme (enforced by the stores: one
// active booking per person key).
//
// A programme is read-only once made: share it freely.
type Programme struct {
	campaigns []*Campaign
}

// NewProgramme validates each campaign and returns them as a programme, in
// the order given (the order in which Eligibility prefers campaigns when a
// person could book in two at once). Campaign ids must be distinct, and a
// vaccine id must name the same vaccine (same Korean and English names) in
// every campaign, since supply is counted per vaccine across the programme.
func NewProgramme(campaigns ...*Campaign) (*Programme, error) {
	if len(campaigns) == 0 {
		return nil, fmt.Errorf("programme: no campaign")
	}
	var problems []string
	ids := map[string]bool{}
	vaccines := map[string]*Vaccine{}
	for i, c := range campaigns {
		if c == nil {
			problems = append(problems, fmt.Sprintf("campaign %d is nil", i))
			continue
		}
		if err := c.Validate(); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if ids[c.ID] {
			problems = append(problems, fmt.Sprintf("campaign %q given twice", c.ID))
		}
		ids[c.ID] = true
		for j := range c.Vaccines {
			v := &c.Vaccines[j]
			if prev, ok := vaccines[v.ID]; ok && (prev.Name != v.Name || prev.NameEN != v.NameEN) {
				problems = append(problems, fmt.Sprintf("campaign %q: vaccine %q is named differently in another campaign", c.ID, v.ID))
			} else if !ok {
				vaccines[v.ID] = v
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("programme: %s", strings.Join(problems, "; "))
	}
	return &Programme{campaigns: append([]*Campaign(nil), campaigns...)}, nil
}

// ShippedProgramme returns the programme of the campaigns built into the
// binary (both 2021 campaigns): what `sluice demo` runs.
func ShippedProgramme() (*Programme, error) {
	all, err := ShippedCampaigns()
	if err != nil {
		return nil, err
	}
	return NewProgramme(all...)
}

// Campaigns returns the programme's campaigns in order (do not modify).
func (p *Programme) Campaigns() []*Campaign { return p.campaigns }

// Campaign returns the campaign with this id, or nil.
func (p *Programme) Campaign(id string) *Campaign {
	for _, c := range p.campaigns {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// IDs returns the campaign ids, in order.
func (p *Programme) IDs() []string {
	out := make([]string, len(p.campaigns))
	for i, c := range p.campaigns {
		out[i] = c.ID
	}
	return out
}

// Vaccine returns the vaccine with this id as the first campaign offering
// it defines it, or nil: for names. The rules of a booking's vaccine
// (intervals) are those of its own campaign: Campaign(b.CampaignID).Vaccine.
func (p *Programme) Vaccine(id string) *Vaccine {
	for _, c := range p.campaigns {
		if v := c.Vaccine(id); v != nil {
			return v
		}
	}
	return nil
}

// Vaccines returns every vaccine of the programme once, in campaign order.
func (p *Programme) Vaccines() []*Vaccine {
	var out []*Vaccine
	seen := map[string]bool{}
	for _, c := range p.campaigns {
		for i := range c.Vaccines {
			if v := &c.Vaccines[i]; !seen[v.ID] {
				seen[v.ID] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// CohortOf returns the first campaign (in programme order) with a cohort
// holding the birth date, and that cohort; nils if none.
func (p *Programme) CohortOf(birth Date) (*Campaign, *Cohort) {
	for _, c := range p.campaigns {
		if co := c.CohortOf(birth); co != nil {
			return c, co
		}
	}
	return nil, nil
}

// eligibilityRank orders the answers of the campaigns for one person: the
// programme answers with the most useful one.
func eligibilityRank(reason string) int {
	switch reason {
	case ReasonOpen:
		return 0
	case ReasonWrongBirthDayDigit:
		return 1
	case ReasonNotYetOpen:
		return 2
	case ReasonWindowClosed:
		return 3
	default: // not in any cohort
		return 4
	}
}

// Eligibility tells whether a person born on birth may book at instant now
// in any campaign of the programme, and in which. Of the campaigns'
// answers it gives, in this order: an open window (the first campaign's,
// in programme order); a window opening later, the soonest first (with
// wrong_birth_day_digit when a window of the person's cohort is open now
// for another digit); a closed window, the latest closed; and otherwise
// not_in_any_cohort, naming the programme. Eligibility.Campaign is the
// campaign answering (nil for not_in_any_cohort and invalid dates).
func (p *Programme) Eligibility(birth Date, now time.Time) Eligibility {
	var best Eligibility
	for i, c := range p.campaigns {
		e := c.Eligibility(birth, now)
		switch e.Reason {
		case ReasonInvalidBirthDate, ReasonBirthDateInFuture:
			return e
		}
		if i == 0 || betterEligibility(e, best) {
			best = e
		}
	}
	if best.Reason == ReasonNotInAnyCohort && len(p.campaigns) > 1 {
		ko, en := newEligMsg(), newEligMsg()
		ko.year(birth).s("년생은 지금 진행 중인 예약(")
		en.s("People born in ").year(birth).s(" are not eligible in any current booking round (")
		for i, c := range p.campaigns {
			if i > 0 {
				ko.s(", ")
				en.s("; ")
			}
			ko.s(c.Name)
			en.s(c.NameEN)
		}
		ko.s(")의 대상이 아닙니다.")
		en.s(").")
		best.Message, best.MessageEN = ko.String(), en.String()
	}
	return best
}

// betterEligibility reports whether a is a more useful answer than b.
func betterEligibility(a, b Eligibility) bool {
	ra, rb := eligibilityRank(a.Reason), eligibilityRank(b.Reason)
	if ra != rb {
		return ra < rb
	}
	switch a.Reason {
	case ReasonNotYetOpen, ReasonWrongBirthDayDigit:
		return a.WindowOpensAt.Before(*b.WindowOpensAt)
	}
	return false
}

// WindowsOn returns the windows of every campaign open at any moment of
// the given Seoul day, ordered by opening time (then programme order).
func (p *Programme) WindowsOn(day Date) []WindowInfo {
	var out []WindowInfo
	for _, c := range p.campaigns {
		out = append(out, c.WindowsOn(day)...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Opens.Before(out[b].Opens) })
	return out
}

// NextWindow is the window of any campaign opening next after now.
func (p *Programme) NextWindow(now time.Time) (WindowInfo, bool) {
	var best WindowInfo
	found := false
	for _, c := range p.campaigns {
		if w, ok := c.NextWindow(now); ok && (!found || w.Opens.Before(best.Opens)) {
			best, found = w, true
		}
	}
	return best, found
}

// supplies lists each vaccine with a Supply once: the first campaign's
// (programme order) that gives one.
func (p *Programme) supplies() []*Vaccine {
	var out []*Vaccine
	seen := map[string]bool{}
	for _, c := range p.campaigns {
		for i := range c.Vaccines {
			if v := &c.Vaccines[i]; v.Supply > 0 && !seen[v.ID] {
				seen[v.ID] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// Span returns the earliest opening and the latest closing of all windows
// of all campaigns.
func (p *Programme) Span() (opens, closes time.Time) {
	for _, c := range p.campaigns {
		o, cl := c.Span()
		if opens.IsZero() || o.Before(opens) {
			opens = o
		}
		if closes.IsZero() || cl.After(closes) {
			closes = cl
		}
	}
	return opens, closes
}

// Name returns the programme's name: its campaign's for a programme of
// one, else the names of its campaigns joined (Korean, English).
func (p *Programme) Name() (ko, en string) {
	var kos, ens []string
	for _, c := range p.campaigns {
		kos, ens = append(kos, c.Name), append(ens, c.NameEN)
	}
	return strings.Join(kos, " · "), strings.Join(ens, " · ")
}
