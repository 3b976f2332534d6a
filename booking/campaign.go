package booking

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// A Campaign is one booking round: who may book (cohorts, by birth date),
// when (windows), and which vaccines are offered with which second-dose
// intervals. Campaigns are data: they are written in YAML (see
// booking/campaigns/*.yaml for the format) and loaded with LoadCampaign or
// ParseCampaign, which validate them. A loaded campaign is read-only: share
// it between goroutines freely, but do not modify it.
type Campaign struct {
	ID       string // e.g. "2021-07-50s"; letters, digits, '.', '_', '-'
	Name     string // Korean name, shown to people
	NameEN   string // English name
	Cohorts  []Cohort
	Vaccines []Vaccine
	// Shares, if set, divides each appointment day's capacity between
	// booking windows until ReleaseAt (shares.go).
	Shares *Shares
}

// A Cohort is a group of people defined by birth date, with its own booking
// windows. Cohorts of one campaign never overlap: every birth date belongs to
// at most one cohort.
type Cohort struct {
	ID       string // e.g. "53-54"
	Name     string // Korean, e.g. "53~54세"
	NameEN   string // e.g. "Ages 53-54"
	BornFrom Date   // inclusive
	BornTo   Date   // inclusive
	// Population is the number of eligible people (for statistics).
	Population int
	// ProxyBooking reports whether someone may book for another person.
	ProxyBooking bool
	// SessionLock is how long one identity holds its booking session: other
	// devices presenting the same identity are refused meanwhile.
	SessionLock time.Duration
	// Vaccines lists the ids of the vaccines offered to this cohort, in
	// order of preference. Empty means every vaccine of the campaign.
	Vaccines []string
	Windows  []Window
}

// A Window is a period during which (some of) a cohort may book. It is
// half-open: open at Opens, closed at Closes.
type Window struct {
	ID      string
	Label   string // Korean, optional
	LabelEN string // optional
	Opens   time.Time
	Closes  time.Time
	// CatchUp marks a window for people who missed their first one.
	CatchUp bool
	// BirthDayDigit, if set, restricts the window to people whose birth day
	// of month ends in this digit (9: born on the 9th, 19th or 29th).
	BirthDayDigit *int
	// BornFrom and BornTo, if set, narrow the window to part of the cohort
	// (both inclusive), e.g. the 36-49 catch-up inside the 18-49 cohort.
	BornFrom *Date
	BornTo   *Date
}

// A Vaccine offered by a campaign.
type Vaccine struct {
	ID     string // "pfizer", "moderna", "astrazeneca"
	Name   string // Korean, e.g. "화이자"
	NameEN string
	// Supply is the dose allocation (both doses count); 0 means unlimited.
	Supply int
	// Intervals gives the second-dose interval by first-dose date: the
	// rule with the latest From on or before the first-dose date applies.
	Intervals []IntervalRule
}

// An IntervalRule gives the interval between first and second dose, in days,
// for first doses given on or after From.
type IntervalRule struct {
	From         Date
	DefaultDays  int
	EarliestDays int
	LatestDays   int
}

// DefaultSessionLock is the session lock of a cohort whose campaign file does
// not set one (the 2021 rule: one identity check per 10 minutes).
const DefaultSessionLock = 10 * time.Minute

// Limits checked by Validate.
const (
	maxCampaignIDLen   = 64
	maxIntervalDays    = 365
	maxSessionLock     = 24 * time.Hour
	maxCampaignFileLen = 1 << 20
	maxCampaignTextLen = 200
)

// CampaignError lists everything wrong with a campaign file or value.
type CampaignError struct {
	CampaignID string   // may be empty
	Problems   []string // each names the field, e.g. `cohort "53-54" window 2: closes before it opens`
}

func (e *CampaignError) Error() string {
	prefix := "campaign"
	if e.CampaignID != "" {
		prefix = fmt.Sprintf("campaign %q", e.CampaignID)
	}
	if len(e.Problems) == 1 {
		return prefix + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems: %s", prefix, len(e.Problems), strings.Join(e.Problems, "; "))
}

// campaignProblems collects validation problems.
type campaignProblems []string

func (p *campaignProblems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p campaignProblems) err(id string) error {
	if len(p) == 0 {
		return nil
	}
	return &CampaignError{CampaignID: id, Problems: p}
}

// --- look-ups ---------------------------------------------------------------

// Cohort returns the cohort with this id, or nil.
func (c *Campaign) Cohort(id string) *Cohort {
	for i := range c.Cohorts {
		if c.Cohorts[i].ID == id {
			return &c.Cohorts[i]
		}
	}
	return nil
}

// Vaccine returns the vaccine with this id, or nil.
func (c *Campaign) Vaccine(id string) *Vaccine {
	for i := range c.Vaccines {
		if c.Vaccines[i].ID == id {
			return &c.Vaccines[i]
		}
	}
	return nil
}

// CohortOf returns the cohort a birth date belongs to, or nil.
func (c *Campaign) CohortOf(birth Date) *Cohort {
	for i := range c.Cohorts {
		if c.Cohorts[i].Contains(birth) {
			return &c.Cohorts[i]
		}
	}
	return nil
}

// VaccinesFor returns the vaccines offered to a cohort, in its order of
// preference (campaign order if the cohort lists none).
func (c *Campaign) VaccinesFor(co *Cohort) []*Vaccine {
	var out []*Vaccine
	if co == nil {
		return nil
	}
	if len(co.Vaccines) == 0 {
		for i := range c.Vaccines {
			out = append(out, &c.Vaccines[i])
		}
		return out
	}
	for _, id := range co.Vaccines {
		if v := c.Vaccine(id); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// Span returns the earliest opening and the latest closing of all windows.
func (c *Campaign) Span() (opens, closes time.Time) {
	for _, co := range c.Cohorts {
		for _, w := range co.Windows {
			if opens.IsZero() || w.Opens.Before(opens) {
				opens = w.Opens
			}
			if closes.IsZero() || w.Closes.After(closes) {
				closes = w.Closes
			}
		}
	}
	return opens.In(Seoul), closes.In(Seoul)
}

// Contains reports whether the birth date is in the cohort's range.
func (co *Cohort) Contains(birth Date) bool {
	return !birth.Before(co.BornFrom) && !birth.After(co.BornTo)
}

// Offers reports whether the cohort is offered the vaccine.
func (co *Cohort) Offers(vaccineID string) bool {
	if len(co.Vaccines) == 0 {
		return true
	}
	for _, id := range co.Vaccines {
		if id == vaccineID {
			return true
		}
	}
	return false
}

// OpenAt reports whether the window is open at instant t (Opens <= t < Closes).
// It compares instants, so the zone of t does not matter.
func (w *Window) OpenAt(t time.Time) bool {
	return !t.Before(w.Opens) && t.Before(w.Closes)
}

// Admits reports whether the window's own restrictions (birth-day digit,
// narrowed birth range) let a person born on birth book in it. The cohort's
// range is checked separately (Cohort.Contains).
func (w *Window) Admits(birth Date) bool {
	return w.inBornRange(birth) && w.digitMatches(birth)
}

func (w *Window) inBornRange(birth Date) bool {
	if w.BornFrom != nil && birth.Before(*w.BornFrom) {
		return false
	}
	if w.BornTo != nil && birth.After(*w.BornTo) {
		return false
	}
	return true
}

func (w *Window) digitMatches(birth Date) bool {
	return w.BirthDayDigit == nil || birth.Day%10 == *w.BirthDayDigit
}

// --- shipped campaigns ------------------------------------------------------

//go:embed campaigns/*.yaml
var shippedCampaignFiles embed.FS

// ShippedCampaigns parses and returns the campaigns built into the binary
// (booking/campaigns/*.yaml), ordered by id. Each call parses afresh, so the
// caller owns the result.
func ShippedCampaigns() ([]*Campaign, error) {
	names, err := fs.Glob(shippedCampaignFiles, "campaigns/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Campaign
	for _, name := range names {
		b, err := shippedCampaignFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		c, err := ParseCampaign(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); c.ID != want {
			return nil, fmt.Errorf("%s: campaign id %q does not match the file name", name, c.ID)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ShippedCampaign returns the built-in campaign with this id
// ("2021-07-50s", "2021-08-18-49").
func ShippedCampaign(id string) (*Campaign, error) {
	all, err := ShippedCampaigns()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
		ids = append(ids, c.ID)
	}
	return nil, fmt.Errorf("campaign %q is not built in (have %s)", id, strings.Join(ids, ", "))
}
