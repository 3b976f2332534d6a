package booking

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
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

// --- YAML file format -------------------------------------------------------

// The file format is decoded into these plain structs first, so that every
// malformed value can be reported with the field it is in.
type campaignFile struct {
	namedFile `yaml:",inline"`
	Vaccines  []vaccineFile `yaml:"vaccines"`
	Cohorts   []cohortFile  `yaml:"cohorts"`
}

// namedFile is the id and the Korean and English names of a campaign, a
// vaccine or a cohort.
type namedFile struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	NameEN string `yaml:"name_en"`
}

type vaccineFile struct {
	namedFile `yaml:",inline"`
	Supply    fileInt        `yaml:"supply,omitempty"`
	Intervals []intervalFile `yaml:"intervals"`
}

type intervalFile struct {
	From         string  `yaml:"from"`
	DefaultDays  fileInt `yaml:"default_days"`
	EarliestDays fileInt `yaml:"earliest_days"`
	LatestDays   fileInt `yaml:"latest_days"`
}

type cohortFile struct {
	namedFile    `yaml:",inline"`
	BornFrom     string       `yaml:"born_from"`
	BornTo       string       `yaml:"born_to"`
	Population   fileInt      `yaml:"population"`
	ProxyBooking bool         `yaml:"proxy_booking"`
	SessionLock  string       `yaml:"session_lock,omitempty"`
	Vaccines     []string     `yaml:"vaccines,omitempty,flow"`
	Windows      []windowFile `yaml:"windows"`
}

type windowFile struct {
	ID            string   `yaml:"id"`
	Label         string   `yaml:"label,omitempty"`
	LabelEN       string   `yaml:"label_en,omitempty"`
	Opens         string   `yaml:"opens"`
	Closes        string   `yaml:"closes"`
	CatchUp       bool     `yaml:"catch_up,omitempty"`
	BirthDayDigit *fileInt `yaml:"birth_day_digit,omitempty"`
	BornFrom      *string  `yaml:"born_from,omitempty"`
	BornTo        *string  `yaml:"born_to,omitempty"`
}

// fileInt is an integer in a campaign file. Unlike a plain int, it refuses
// floats (which the YAML decoder would otherwise truncate: 2.5 -> 2).
type fileInt int

func (n *fileInt) UnmarshalYAML(node *yaml.Node) error {
	var v int
	if node.Kind != yaml.ScalarNode || node.ShortTag() != "!!int" {
		return fmt.Errorf("line %d: %q is not a whole number", node.Line, node.Value)
	}
	if err := node.Decode(&v); err != nil {
		return err
	}
	*n = fileInt(v)
	return nil
}

// LoadCampaign reads, decodes and validates one campaign file.
func LoadCampaign(r io.Reader) (*Campaign, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCampaignFileLen+1))
	if err != nil {
		return nil, fmt.Errorf("campaign: read: %w", err)
	}
	return ParseCampaign(b)
}

// ParseCampaign decodes and validates one campaign file (YAML). Unknown
// fields, times without an explicit UTC offset and every inconsistency found
// by Validate are errors (a *CampaignError, except for YAML syntax errors).
func ParseCampaign(b []byte) (*Campaign, error) {
	if len(b) > maxCampaignFileLen {
		return nil, fmt.Errorf("campaign: file larger than %d bytes", maxCampaignFileLen)
	}
	f, err := decodeCampaignFile(b)
	if err != nil {
		return nil, err
	}
	c, problems := f.campaign()
	if err := problems.err(f.ID); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeCampaignFile(b []byte) (f campaignFile, err error) {
	// The YAML decoder is not ours: a panic on some odd input must still
	// come out as an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("campaign: malformed YAML (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return f, errors.New("campaign: empty file")
		}
		return f, fmt.Errorf("campaign: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return f, errors.New("campaign: file holds more than one YAML document")
	}
	return f, nil
}

// campaign converts the file form into a Campaign, reporting malformed
// values (dates, times, durations). Missing values are left zero for
// Validate to report.
func (f *campaignFile) campaign() (*Campaign, campaignProblems) {
	var p campaignProblems
	c := &Campaign{ID: f.ID, Name: f.Name, NameEN: f.NameEN}
	for i, vf := range f.Vaccines {
		where := vaccineWhere(i, vf.ID)
		v := Vaccine{ID: vf.ID, Name: vf.Name, NameEN: vf.NameEN, Supply: int(vf.Supply)}
		for j, rf := range vf.Intervals {
			r := IntervalRule{DefaultDays: int(rf.DefaultDays), EarliestDays: int(rf.EarliestDays), LatestDays: int(rf.LatestDays)}
			if rf.From != "" {
				d, err := ParseDate(rf.From)
				if err != nil {
					p.add("%s interval %d: from: %v", where, j+1, err)
				}
				r.From = d
			}
			v.Intervals = append(v.Intervals, r)
		}
		c.Vaccines = append(c.Vaccines, v)
	}
	for i, cf := range f.Cohorts {
		where := cohortWhere(i, cf.ID)
		co := Cohort{
			ID: cf.ID, Name: cf.Name, NameEN: cf.NameEN,
			Population: int(cf.Population), ProxyBooking: cf.ProxyBooking,
			SessionLock: DefaultSessionLock,
		}
		if len(cf.Vaccines) > 0 {
			co.Vaccines = cf.Vaccines
		}
		co.BornFrom = parseFileDate(&p, where+": born_from", cf.BornFrom)
		co.BornTo = parseFileDate(&p, where+": born_to", cf.BornTo)
		if cf.SessionLock != "" {
			d, err := time.ParseDuration(cf.SessionLock)
			if err != nil {
				p.add("%s: session_lock %q: not a duration (want e.g. 10m)", where, cf.SessionLock)
			}
			co.SessionLock = d
		}
		for j, wf := range cf.Windows {
			wwhere := windowWhere(where, j, wf.ID)
			w := Window{ID: wf.ID, Label: wf.Label, LabelEN: wf.LabelEN, CatchUp: wf.CatchUp}
			w.Opens = parseFileTime(&p, wwhere+": opens", wf.Opens)
			w.Closes = parseFileTime(&p, wwhere+": closes", wf.Closes)
			if wf.BirthDayDigit != nil {
				d := int(*wf.BirthDayDigit)
				w.BirthDayDigit = &d
			}
			if wf.BornFrom != nil {
				d := parseFileDate(&p, wwhere+": born_from", *wf.BornFrom)
				w.BornFrom = &d
			}
			if wf.BornTo != nil {
				d := parseFileDate(&p, wwhere+": born_to", *wf.BornTo)
				w.BornTo = &d
			}
			co.Windows = append(co.Windows, w)
		}
		c.Cohorts = append(c.Cohorts, co)
	}
	return c, p
}

func parseFileDate(p *campaignProblems, where, s string) Date {
	if s == "" {
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		p.add("%s: %v", where, err)
	}
	return d
}

// parseFileTime parses an RFC 3339 time that must carry an explicit UTC
// offset ("+09:00" or "Z"): a campaign time without one is ambiguous, and
// guessing the zone is how eligibility goes wrong.
func parseFileTime(p *campaignProblems, where, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if _, err2 := time.Parse("2006-01-02T15:04:05", s); err2 == nil {
			p.add("%s %q: has no UTC offset (write it like 2021-07-19T20:00:00+09:00)", where, s)
		} else {
			p.add("%s %q: want an RFC 3339 time with offset, like 2021-07-19T20:00:00+09:00", where, s)
		}
		return time.Time{}
	}
	return t.In(Seoul)
}

func vaccineWhere(i int, id string) string {
	if id != "" {
		return fmt.Sprintf("vaccine %q", id)
	}
	return fmt.Sprintf("vaccine %d", i+1)
}

func cohortWhere(i int, id string) string {
	if id != "" {
		return fmt.Sprintf("cohort %q", id)
	}
	return fmt.Sprintf("cohort %d", i+1)
}

func windowWhere(cohort string, j int, id string) string {
	if id != "" {
		return fmt.Sprintf("%s window %d (%q)", cohort, j+1, id)
	}
	return fmt.Sprintf("%s window %d", cohort, j+1)
}

// YAML encodes the campaign in the file format read by ParseCampaign.
func (c *Campaign) YAML() ([]byte, error) {
	f := campaignFile{namedFile: namedFile{c.ID, c.Name, c.NameEN}}
	for _, v := range c.Vaccines {
		vf := vaccineFile{namedFile: namedFile{v.ID, v.Name, v.NameEN}, Supply: fileInt(v.Supply)}
		for _, r := range v.Intervals {
			vf.Intervals = append(vf.Intervals, intervalFile{
				From: r.From.String(), DefaultDays: fileInt(r.DefaultDays),
				EarliestDays: fileInt(r.EarliestDays), LatestDays: fileInt(r.LatestDays),
			})
		}
		f.Vaccines = append(f.Vaccines, vf)
	}
	for _, co := range c.Cohorts {
		cf := cohortFile{
			namedFile: namedFile{co.ID, co.Name, co.NameEN},
			BornFrom:  co.BornFrom.String(), BornTo: co.BornTo.String(),
			Population: fileInt(co.Population), ProxyBooking: co.ProxyBooking,
			SessionLock: co.SessionLock.String(), Vaccines: co.Vaccines,
		}
		for _, w := range co.Windows {
			wf := windowFile{
				ID: w.ID, Label: w.Label, LabelEN: w.LabelEN,
				Opens:   w.Opens.In(Seoul).Format(time.RFC3339Nano),
				Closes:  w.Closes.In(Seoul).Format(time.RFC3339Nano),
				CatchUp: w.CatchUp,
			}
			if w.BirthDayDigit != nil {
				d := fileInt(*w.BirthDayDigit)
				wf.BirthDayDigit = &d
			}
			if w.BornFrom != nil {
				s := w.BornFrom.String()
				wf.BornFrom = &s
			}
			if w.BornTo != nil {
				s := w.BornTo.String()
				wf.BornTo = &s
			}
			cf.Windows = append(cf.Windows, wf)
		}
		f.Cohorts = append(f.Cohorts, cf)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// --- validation -------------------------------------------------------------

// Validate checks a campaign for consistency and returns a *CampaignError
// listing every problem found, or nil. ParseCampaign calls it; call it
// yourself on a campaign built in code.
func (c *Campaign) Validate() error {
	var p campaignProblems
	if c == nil {
		p.add("nil campaign")
		return p.err("")
	}
	checkCampaignID(&p, "id", c.ID)
	checkText(&p, "", "name", c.Name, true)
	checkText(&p, "", "name_en", c.NameEN, true)

	if len(c.Vaccines) == 0 {
		p.add("at least one vaccine is required")
	}
	vaccineIDs := map[string]bool{}
	for i := range c.Vaccines {
		v := &c.Vaccines[i]
		where := vaccineWhere(i, v.ID)
		checkNamed(&p, where, "vaccine", v.ID, v.Name, v.NameEN, vaccineIDs)
		if v.Supply < 0 {
			p.add("%s: supply %d is negative (0 means unlimited)", where, v.Supply)
		}
		if len(v.Intervals) == 0 {
			p.add("%s: at least one interval rule is required", where)
		}
		froms := map[Date]bool{}
		for j, r := range v.Intervals {
			rw := fmt.Sprintf("%s interval %d", where, j+1)
			if r.From.IsZero() {
				p.add("%s: from is required", rw)
			} else if _, ok := NewDate(r.From.Year, r.From.Month, r.From.Day); !ok {
				p.add("%s: from %v is not a real date", rw, r.From)
			} else if froms[r.From] {
				p.add("%s: another rule has the same from date %v", rw, r.From)
			}
			froms[r.From] = true
			switch {
			case r.EarliestDays < 1:
				p.add("%s: earliest_days %d must be at least 1", rw, r.EarliestDays)
			case r.LatestDays > maxIntervalDays:
				p.add("%s: latest_days %d is more than %d", rw, r.LatestDays, maxIntervalDays)
			case !(r.EarliestDays <= r.DefaultDays && r.DefaultDays <= r.LatestDays):
				p.add("%s: want earliest_days <= default_days <= latest_days, have %d, %d, %d",
					rw, r.EarliestDays, r.DefaultDays, r.LatestDays)
			}
		}
	}

	if len(c.Cohorts) == 0 {
		p.add("at least one cohort is required")
	}
	cohortIDs := map[string]bool{}
	for i := range c.Cohorts {
		co := &c.Cohorts[i]
		where := cohortWhere(i, co.ID)
		checkNamed(&p, where, "cohort", co.ID, co.Name, co.NameEN, cohortIDs)
		bornOK := checkBornRange(&p, where, co.BornFrom, co.BornTo, true)
		if co.Population < 0 {
			p.add("%s: population %d is negative", where, co.Population)
		}
		if co.SessionLock <= 0 || co.SessionLock > maxSessionLock {
			p.add("%s: session_lock %v must be more than 0 and at most %v", where, co.SessionLock, maxSessionLock)
		}
		seenV := map[string]bool{}
		for _, id := range co.Vaccines {
			if !vaccineIDs[id] {
				p.add("%s: vaccine %q is not defined in the campaign's vaccines", where, id)
			} else if seenV[id] {
				p.add("%s: vaccine %q listed twice", where, id)
			}
			seenV[id] = true
		}
		if bornOK {
			for j := 0; j < i; j++ {
				o := &c.Cohorts[j]
				if !o.BornFrom.After(co.BornTo) && !co.BornFrom.After(o.BornTo) {
					p.add("%s: born_from..born_to %v..%v overlaps %s (%v..%v); a birth date must belong to one cohort",
						where, co.BornFrom, co.BornTo, cohortWhere(j, o.ID), o.BornFrom, o.BornTo)
				}
			}
		}
		if len(co.Windows) == 0 {
			p.add("%s: at least one window is required", where)
		}
		windowIDs := map[string]bool{}
		for j := range co.Windows {
			w := &co.Windows[j]
			ww := windowWhere(where, j, w.ID)
			checkCampaignID(&p, ww+": id", w.ID)
			if w.ID != "" && windowIDs[w.ID] {
				p.add("%s: duplicate window id in this cohort", ww)
			}
			windowIDs[w.ID] = true
			checkText(&p, ww+": ", "label", w.Label, false)
			checkText(&p, ww+": ", "label_en", w.LabelEN, false)
			switch {
			case w.Opens.IsZero():
				p.add("%s: opens is required", ww)
			case w.Closes.IsZero():
				p.add("%s: closes is required", ww)
			case !w.Closes.After(w.Opens):
				p.add("%s: closes before it opens (opens %s, closes %s)", ww,
					w.Opens.In(Seoul).Format(time.RFC3339), w.Closes.In(Seoul).Format(time.RFC3339))
			}
			if w.BirthDayDigit != nil && (*w.BirthDayDigit < 0 || *w.BirthDayDigit > 9) {
				p.add("%s: birth_day_digit %d must be 0-9", ww, *w.BirthDayDigit)
			}
			from, to := co.BornFrom, co.BornTo
			narrowOK := bornOK
			if w.BornFrom != nil {
				from = *w.BornFrom
				if from.IsZero() {
					p.add("%s: born_from is set but empty", ww)
					narrowOK = false
				}
			}
			if w.BornTo != nil {
				to = *w.BornTo
				if to.IsZero() {
					p.add("%s: born_to is set but empty", ww)
					narrowOK = false
				}
			}
			if narrowOK && (w.BornFrom != nil || w.BornTo != nil) {
				narrowOK = checkBornRange(&p, ww, from, to, true)
				if narrowOK && (from.Before(co.BornFrom) || to.After(co.BornTo)) {
					p.add("%s: born_from..born_to %v..%v is not inside the cohort's %v..%v",
						ww, from, to, co.BornFrom, co.BornTo)
					narrowOK = false
				}
			}
			if narrowOK && w.BirthDayDigit != nil && *w.BirthDayDigit >= 0 && *w.BirthDayDigit <= 9 &&
				!anyBirthDayDigit(from, to, *w.BirthDayDigit) {
				p.add("%s: no birth date in %v..%v has a day ending in %d", ww, from, to, *w.BirthDayDigit)
			}
		}
	}
	return p.err(c.ID)
}

// checkNamed checks the id of a vaccine or a cohort (what), unique among
// those seen so far, and its Korean and English names.
func checkNamed(p *campaignProblems, where, what, id, name, nameEN string, seen map[string]bool) {
	checkCampaignID(p, where+": id", id)
	if id != "" && seen[id] {
		p.add("%s: duplicate %s id", where, what)
	}
	seen[id] = true
	checkText(p, where+": ", "name", name, true)
	checkText(p, where+": ", "name_en", nameEN, true)
}

// checkBornRange checks a birth-date range; required says whether both ends
// must be given. It reports whether the range is usable.
func checkBornRange(p *campaignProblems, where string, from, to Date, required bool) bool {
	ok := true
	for _, f := range []struct {
		name string
		d    Date
	}{{"born_from", from}, {"born_to", to}} {
		if f.d.IsZero() {
			if required {
				p.add("%s: %s is required", where, f.name)
			}
			ok = false
		} else if _, exists := NewDate(f.d.Year, f.d.Month, f.d.Day); !exists {
			p.add("%s: %s %v is not a real date", where, f.name, f.d)
			ok = false
		}
	}
	if ok && from.After(to) {
		p.add("%s: born_from %v is after born_to %v", where, from, to)
		ok = false
	}
	return ok
}

// anyBirthDayDigit reports whether some date in [from, to] has a day of
// month ending in digit. Ten consecutive days always contain every digit.
func anyBirthDayDigit(from, to Date, digit int) bool {
	d := from
	for i := 0; i < 11 && !d.After(to); i++ {
		if d.Day%10 == digit {
			return true
		}
		d = d.AddDays(1)
	}
	return false
}

// checkText checks a name or label shown to people: valid UTF-8, no
// control characters, at most maxCampaignTextLen characters.
func checkText(p *campaignProblems, where, field, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			p.add("%s%s is required", where, field)
		}
	case !utf8.ValidString(s):
		p.add("%s%s is not valid UTF-8", where, field)
	case utf8.RuneCountInString(s) > maxCampaignTextLen:
		p.add("%s%s is longer than %d characters", where, field, maxCampaignTextLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.add("%s%s contains a control character", where, field)
	}
}

func checkCampaignID(p *campaignProblems, where, id string) {
	if id == "" {
		p.add("%s is required", where)
		return
	}
	if len(id) > maxCampaignIDLen {
		p.add("%s is longer than %d characters", where, maxCampaignIDLen)
		return
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			i > 0 && (ch == '-' || ch == '_' || ch == '.')) {
			p.add("%s %q: use letters, digits, '-', '_' and '.' only, starting with a letter or digit", where, id)
			return
		}
	}
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
