package booking

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"go.yaml.in/yaml/v3"
)

// The file format is decoded into these plain structs first, so that every
// malformed value can be reported with the field it is in.
type campaignFile struct {
	namedFile `yaml:",inline"`
	Vaccines  []vaccineFile `yaml:"vaccines"`
	Cohorts   []cohortFile  `yaml:"cohorts"`
	Shares    *sharesFile   `yaml:"shares,omitempty"`
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

// sharesFile is the shares: block of a campaign file.
type sharesFile struct {
	Split     string   `yaml:"split"`
	Windows   []string `yaml:"windows,flow"`
	ReleaseAt string   `yaml:"release_at"`
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
	if sf := f.Shares; sf != nil {
		c.Shares = &Shares{Split: sf.Split, Windows: sf.Windows, ReleaseAt: parseFileTime(&p, "shares: release_at", sf.ReleaseAt)}
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
	if sh := c.Shares; sh != nil {
		f.Shares = &sharesFile{Split: sh.Split, Windows: sh.Windows, ReleaseAt: sh.ReleaseAt.In(Seoul).Format(time.RFC3339Nano)}
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
