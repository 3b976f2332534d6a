package booking

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testCampaignYAML is a small valid campaign; the validation tests change
// one thing at a time.
const testCampaignYAML = `id: test
name: 시험 예약
name_en: Test booking
vaccines:
  - id: pfizer
    name: 화이자
    name_en: Pfizer
    supply: 100
    intervals:
      - {from: "2021-01-01", default_days: 21, earliest_days: 19, latest_days: 42}
  - id: moderna
    name: 모더나
    name_en: Moderna
    intervals:
      - {from: "2021-01-01", default_days: 28, earliest_days: 28, latest_days: 42}
cohorts:
  - id: "53-54"
    name: 53~54세
    name_en: Ages 53-54
    born_from: "1967-01-01"
    born_to: "1968-12-31"
    population: 1490000
    proxy_booking: true
    session_lock: 5m
    vaccines: [pfizer]
    windows:
      - id: main
        opens: "2021-07-19T20:00:00+09:00"
        closes: "2021-07-20T18:00:00+09:00"
      - id: digit
        label: 생일 끝자리 9
        opens: "2021-07-21T11:00:00Z"
        closes: "2021-07-22T18:00:00+09:00"
        birth_day_digit: 9
        born_from: "1967-01-01"
        born_to: "1967-12-31"
  - id: "50-52"
    name: 50~52세
    name_en: Ages 50-52
    born_from: "1969-01-01"
    born_to: "1971-12-31"
    population: 2360000
    windows:
      - id: main
        opens: "2021-07-20T20:00:00+09:00"
        closes: "2021-07-21T18:00:00+09:00"
        catch_up: true
`

func TestParseCampaignValid(t *testing.T) {
	c, err := ParseCampaign([]byte(testCampaignYAML))
	if err != nil {
		t.Fatal(err)
	}
	nine := 9
	born67 := Date{1967, 1, 1}
	born67end := Date{1967, 12, 31}
	want := &Campaign{
		ID: "test", Name: "시험 예약", NameEN: "Test booking",
		Vaccines: []Vaccine{
			{ID: "pfizer", Name: "화이자", NameEN: "Pfizer", Supply: 100,
				Intervals: []IntervalRule{{From: Date{2021, 1, 1}, DefaultDays: 21, EarliestDays: 19, LatestDays: 42}}},
			{ID: "moderna", Name: "모더나", NameEN: "Moderna",
				Intervals: []IntervalRule{{From: Date{2021, 1, 1}, DefaultDays: 28, EarliestDays: 28, LatestDays: 42}}},
		},
		Cohorts: []Cohort{
			{ID: "53-54", Name: "53~54세", NameEN: "Ages 53-54",
				BornFrom: Date{1967, 1, 1}, BornTo: Date{1968, 12, 31}, Population: 1490000,
				ProxyBooking: true, SessionLock: 5 * time.Minute, Vaccines: []string{"pfizer"},
				Windows: []Window{
					{ID: "main", Opens: time.Date(2021, 7, 19, 20, 0, 0, 0, Seoul), Closes: time.Date(2021, 7, 20, 18, 0, 0, 0, Seoul)},
					{ID: "digit", Label: "생일 끝자리 9", Opens: time.Date(2021, 7, 21, 20, 0, 0, 0, Seoul), Closes: time.Date(2021, 7, 22, 18, 0, 0, 0, Seoul),
						BirthDayDigit: &nine, BornFrom: &born67, BornTo: &born67end},
				}},
			{ID: "50-52", Name: "50~52세", NameEN: "Ages 50-52",
				BornFrom: Date{1969, 1, 1}, BornTo: Date{1971, 12, 31}, Population: 2360000,
				SessionLock: DefaultSessionLock,
				Windows: []Window{
					{ID: "main", Opens: time.Date(2021, 7, 20, 20, 0, 0, 0, Seoul), Closes: time.Date(2021, 7, 21, 18, 0, 0, 0, Seoul), CatchUp: true},
				}},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	// Times are kept in Seoul, whatever offset the file used.
	if loc := c.Cohorts[0].Windows[1].Opens.Location(); loc != Seoul {
		t.Errorf("location %v", loc)
	}
	if got := c.Cohort("50-52"); got != &c.Cohorts[1] {
		t.Errorf("Cohort(50-52) = %p", got)
	}
	if c.Cohort("nope") != nil || c.Vaccine("astrazeneca") != nil {
		t.Error("look-up of a missing id returned something")
	}
	if got := c.Vaccine("moderna"); got != &c.Vaccines[1] {
		t.Errorf("Vaccine(moderna) = %p", got)
	}
	if got := c.VaccinesFor(c.Cohort("53-54")); len(got) != 1 || got[0].ID != "pfizer" {
		t.Errorf("VaccinesFor(53-54) = %v", got)
	}
	if got := c.VaccinesFor(c.Cohort("50-52")); len(got) != 2 {
		t.Errorf("VaccinesFor(50-52) = %v (empty list means all)", got)
	}
	if !c.Cohort("53-54").Offers("pfizer") || c.Cohort("53-54").Offers("moderna") || !c.Cohort("50-52").Offers("moderna") {
		t.Error("Offers")
	}
	if co := c.CohortOf(Date{1968, 12, 31}); co == nil || co.ID != "53-54" {
		t.Errorf("CohortOf(1968-12-31) = %v", co)
	}
	if co := c.CohortOf(Date{1972, 1, 1}); co != nil {
		t.Errorf("CohortOf(1972-01-01) = %v", co)
	}
	opens, closes := c.Span()
	if !opens.Equal(time.Date(2021, 7, 19, 20, 0, 0, 0, Seoul)) || !closes.Equal(time.Date(2021, 7, 22, 18, 0, 0, 0, Seoul)) {
		t.Errorf("Span = %v, %v", opens, closes)
	}
	// LoadCampaign reads the same.
	c2, err := LoadCampaign(strings.NewReader(testCampaignYAML))
	if err != nil || !reflect.DeepEqual(c2, c) {
		t.Errorf("LoadCampaign: %v", err)
	}
}

func TestParseCampaignErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old (must be present) with new in testCampaignYAML
		want     string // substring of the error
	}{
		{"unknown top-level field", "id: test\n", "id: test\ncolour: red\n", "field colour not found"},
		{"unknown window field", "        birth_day_digit: 9\n", "        birth_day_digit: 9\n        birthday: 9\n", "field birthday not found"},
		{"time without offset", `opens: "2021-07-19T20:00:00+09:00"`, `opens: "2021-07-19T20:00:00"`,
			`cohort "53-54" window 1 ("main"): opens "2021-07-19T20:00:00": has no UTC offset`},
		{"unquoted time without offset", `opens: "2021-07-19T20:00:00+09:00"`, `opens: 2021-07-19T20:00:00`, "has no UTC offset"},
		{"time not RFC 3339", `closes: "2021-07-20T18:00:00+09:00"`, `closes: "2021-07-20 18:00"`,
			`cohort "53-54" window 1 ("main"): closes "2021-07-20 18:00": want an RFC 3339 time`},
		{"time with a zone name", `closes: "2021-07-20T18:00:00+09:00"`, `closes: "2021-07-20T18:00:00 KST"`, "want an RFC 3339 time"},
		{"closes before it opens", `closes: "2021-07-20T18:00:00+09:00"`, `closes: "2021-07-19T19:00:00+09:00"`,
			`cohort "53-54" window 1 ("main"): closes before it opens`},
		{"closes when it opens", `closes: "2021-07-20T18:00:00+09:00"`, `closes: "2021-07-19T11:00:00Z"`, "closes before it opens"},
		{"opens missing", `        opens: "2021-07-20T20:00:00+09:00"` + "\n", "", `cohort "50-52" window 1 ("main"): opens is required`},
		{"closes missing", `        closes: "2021-07-21T18:00:00+09:00"` + "\n", "", `cohort "50-52" window 1 ("main"): closes is required`},
		{"duplicate cohort id", `id: "50-52"`, `id: "53-54"`, `cohort "53-54": duplicate cohort id`},
		{"duplicate window id", "id: digit", "id: main", "duplicate window id"},
		{"duplicate vaccine id", "id: moderna", "id: pfizer", `vaccine "pfizer": duplicate vaccine id`},
		{"missing campaign id", "id: test\n", "", "id is required"},
		{"bad campaign id", "id: test\n", "id: a b\n", `id "a b": use letters, digits`},
		{"id starting with a dash", "id: test\n", "id: -test\n", "use letters, digits"},
		{"long id", "id: test\n", "id: " + strings.Repeat("x", 65) + "\n", "longer than 64"},
		{"missing cohort id", `id: "50-52"`, `id: ""`, "cohort 2: id is required"},
		{"missing window id", "      - id: digit\n", "      - label_en: x\n", `cohort "53-54" window 2: id is required`},
		{"missing name", "name: 시험 예약\n", "", "name is required"},
		{"blank name_en", "name_en: Test booking\n", "name_en: '  '\n", "name_en is required"},
		{"control character in a name", "name: 모더나", `name: "모더나\u0007"`, `vaccine "moderna": name contains a control character`},
		{"cohort name missing", "    name: 50~52세\n", "", `cohort "50-52": name is required`},
		{"born_from after born_to", `born_to: "1971-12-31"`, `born_to: "1968-12-31"`, `cohort "50-52": born_from 1969-01-01 is after born_to 1968-12-31`},
		{"born_from missing", `    born_from: "1969-01-01"` + "\n", "", `cohort "50-52": born_from is required`},
		{"not a date", `born_to: "1971-12-31"`, `born_to: "1971-02-30"`, `cohort "50-52": born_to: date "1971-02-30": not a real calendar date`},
		{"date in another format", `born_to: "1971-12-31"`, `born_to: "31/12/1971"`, `want YYYY-MM-DD`},
		{"overlapping cohorts", `born_from: "1969-01-01"`, `born_from: "1968-06-01"`, `overlaps cohort "53-54"`},
		{"digit too big", "birth_day_digit: 9", "birth_day_digit: 10", `cohort "53-54" window 2 ("digit"): birth_day_digit 10 must be 0-9`},
		{"negative digit", "birth_day_digit: 9", "birth_day_digit: -1", "birth_day_digit -1 must be 0-9"},
		{"digit not a number", "birth_day_digit: 9", "birth_day_digit: nine", `"nine" is not a whole number`},
		{"narrowing outside the cohort", `born_to: "1967-12-31"`, `born_to: "1969-12-31"`, "is not inside the cohort's 1967-01-01..1968-12-31"},
		{"narrowing reversed", `born_to: "1967-12-31"`, `born_to: "1966-12-31"`, `window 2 ("digit"): born_from 1967-01-01 is after born_to 1966-12-31`},
		{"narrowing empty", `born_to: "1967-12-31"`, `born_to: ""`, "born_to is set but empty"},
		{"digit matches nobody", `born_to: "1967-12-31"`, `born_to: "1967-01-05"`, "no birth date in 1967-01-01..1967-01-05 has a day ending in 9"},
		{"unknown vaccine", "vaccines: [pfizer]", "vaccines: [pfizer, astrazeneca]", `cohort "53-54": vaccine "astrazeneca" is not defined`},
		{"vaccine listed twice", "vaccines: [pfizer]", "vaccines: [pfizer, pfizer]", `vaccine "pfizer" listed twice`},
		{"earliest after default", "default_days: 21, earliest_days: 19", "default_days: 21, earliest_days: 22",
			`vaccine "pfizer" interval 1: want earliest_days <= default_days <= latest_days, have 22, 21, 42`},
		{"default after latest", "default_days: 28, earliest_days: 28, latest_days: 42", "default_days: 43, earliest_days: 28, latest_days: 42",
			`vaccine "moderna" interval 1: want earliest_days <= default_days <= latest_days`},
		{"earliest zero", "earliest_days: 19", "earliest_days: 0", "earliest_days 0 must be at least 1"},
		{"latest too far", "earliest_days: 28, latest_days: 42", "earliest_days: 28, latest_days: 400", "latest_days 400 is more than 365"},
		{"interval from missing", `{from: "2021-01-01", default_days: 21`, `{default_days: 21`, `vaccine "pfizer" interval 1: from is required`},
		{"interval from not a date", `{from: "2021-01-01", default_days: 21`, `{from: "2021-13-01", default_days: 21`, `vaccine "pfizer" interval 1: from: date "2021-13-01"`},
		{"two intervals from the same date", "      - {from: \"2021-01-01\", default_days: 21, earliest_days: 19, latest_days: 42}\n",
			"      - {from: \"2021-01-01\", default_days: 21, earliest_days: 19, latest_days: 42}\n      - {from: \"2021-01-01\", default_days: 42, earliest_days: 35, latest_days: 42}\n",
			"another rule has the same from date"},
		{"no intervals", "    intervals:\n      - {from: \"2021-01-01\", default_days: 28, earliest_days: 28, latest_days: 42}\n", "",
			`vaccine "moderna": at least one interval rule is required`},
		{"negative supply", "supply: 100", "supply: -1", "supply -1 is negative"},
		{"supply not a number", "supply: 100", "supply: lots", "not a whole number"},
		{"negative population", "population: 2360000", "population: -5", `cohort "50-52": population -5 is negative`},
		{"population as a float", "population: 2360000", "population: 2.36e6", `"2.36e6" is not a whole number`},
		{"days as a fraction", "default_days: 21,", "default_days: 21.5,", `"21.5" is not a whole number`},
		{"digit as a fraction", "birth_day_digit: 9", "birth_day_digit: 9.0", "not a whole number"},
		{"digit as a string", "birth_day_digit: 9", `birth_day_digit: "9"`, "not a whole number"},
		{"session lock not a duration", "session_lock: 5m", "session_lock: 5 minutes", `cohort "53-54": session_lock "5 minutes": not a duration`},
		{"session lock zero", "session_lock: 5m", "session_lock: 0s", "session_lock 0s must be more than 0"},
		{"session lock negative", "session_lock: 5m", "session_lock: -5m", "must be more than 0"},
		{"session lock too long", "session_lock: 5m", "session_lock: 48h", "at most 24h0m0s"},
		{"proxy booking not a boolean", "proxy_booking: true", "proxy_booking: maybe", "cannot unmarshal"},
		{"no windows", "    windows:\n      - id: main\n        opens: \"2021-07-20T20:00:00+09:00\"\n        closes: \"2021-07-21T18:00:00+09:00\"\n        catch_up: true\n", "",
			`cohort "50-52": at least one window is required`},
		{"no cohorts", testCampaignYAML[strings.Index(testCampaignYAML, "cohorts:"):], "", "at least one cohort is required"},
		{"no vaccines", testCampaignYAML[strings.Index(testCampaignYAML, "vaccines:"):strings.Index(testCampaignYAML, "cohorts:")], "",
			"at least one vaccine is required"},
		{"empty file", testCampaignYAML, "", "empty file"},
		{"comment only", testCampaignYAML, "# nothing\n", "empty file"},
		{"two documents", testCampaignYAML, testCampaignYAML + "---\n" + testCampaignYAML, "more than one YAML document"},
		{"YAML syntax", "id: test\n", "id: [test\n", "campaign: yaml:"},
		{"not a mapping", testCampaignYAML, "- 1\n- 2\n", "cannot unmarshal"},
		{"several problems", "supply: 100", "supply: -1\n    bogus_field: 1", "field bogus_field not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(testCampaignYAML, tt.old) {
				t.Fatalf("test case: %q not in the base file", tt.old)
			}
			src := strings.Replace(testCampaignYAML, tt.old, tt.new, 1)
			c, err := ParseCampaign([]byte(src))
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if c != nil {
				t.Error("a campaign was returned with the error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCampaignErrorListsEveryProblem(t *testing.T) {
	src := strings.Replace(testCampaignYAML, "supply: 100", "supply: -1", 1)
	src = strings.Replace(src, "population: 2360000", "population: -1", 1)
	_, err := ParseCampaign([]byte(src))
	var ce *CampaignError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *CampaignError", err, err)
	}
	if ce.CampaignID != "test" || len(ce.Problems) != 2 {
		t.Errorf("%+v", ce)
	}
	if !strings.HasPrefix(err.Error(), `campaign "test": 2 problems: `) {
		t.Errorf("%q", err)
	}
}

func TestValidateCampaignBuiltInCode(t *testing.T) {
	c, err := ParseCampaign([]byte(testCampaignYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Cohorts[1].SessionLock = 0
	bad := Date{2021, 2, 29}
	c.Cohorts[0].Windows[1].BornTo = &bad
	c.Vaccines[0].Intervals[0].From = Date{2021, 4, 31}
	err = c.Validate()
	for _, want := range []string{
		`cohort "50-52": session_lock 0s must be more than 0`,
		`window 2 ("digit"): born_to 2021-02-29 is not a real date`,
		`vaccine "pfizer" interval 1: from 2021-04-31 is not a real date`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	var nilCampaign *Campaign
	if nilCampaign.Validate() == nil {
		t.Error("nil campaign validated")
	}
}

func TestLoadCampaignTooLarge(t *testing.T) {
	big := testCampaignYAML + "#" + strings.Repeat("x", maxCampaignFileLen) + "\n"
	if _, err := LoadCampaign(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error %v", err)
	}
}

func TestShippedCampaigns(t *testing.T) {
	all, err := ShippedCampaigns()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
	if want := []string{"2021-07-50s", "2021-08-18-49"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if _, err := ShippedCampaign("2020-nope"); err == nil {
		t.Error("unknown campaign found")
	}
	// Each call returns a fresh copy.
	a, _ := ShippedCampaign("2021-07-50s")
	a.Cohorts[0].Population = -1
	if b, _ := ShippedCampaign("2021-07-50s"); b.Cohorts[0].Population == -1 {
		t.Error("ShippedCampaign returns shared state")
	}

	// The files are also readable from disk (what an operator would copy).
	files, err := filepath.Glob("campaigns/*.yaml")
	if err != nil || len(files) != 2 {
		t.Fatalf("campaign files %v, %v", files, err)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCampaign(fh); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		fh.Close()
	}
}

func TestShipped50s(t *testing.T) {
	c := shipped(t, "2021-07-50s")
	at := func(m time.Month, d, h int) time.Time { return time.Date(2021, m, d, h, 0, 0, 0, Seoul) }
	type win struct {
		opens, closes time.Time
		catchUp       bool
	}
	tests := []struct {
		id       string
		from, to Date
		pop      int
		vaccines []string
		windows  []win
	}{
		{"55-59", Date{1962, 1, 1}, Date{1966, 12, 31}, 3540000, []string{"moderna"},
			[]win{{at(7, 12, 0), at(7, 13, 18), false}, {at(7, 14, 20), at(7, 24, 18), false}}},
		{"53-54", Date{1967, 1, 1}, Date{1968, 12, 31}, 1490000, []string{"moderna", "pfizer"},
			[]win{{at(7, 19, 20), at(7, 20, 18), false}, {at(7, 21, 20), at(7, 24, 18), true}}},
		{"50-52", Date{1969, 1, 1}, Date{1971, 12, 31}, 2360000, []string{"moderna", "pfizer"},
			[]win{{at(7, 20, 20), at(7, 21, 18), false}, {at(7, 21, 20), at(7, 24, 18), true}}},
	}
	if len(c.Cohorts) != len(tests) {
		t.Fatalf("%d cohorts", len(c.Cohorts))
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			co := c.Cohorts[i]
			if co.ID != tt.id || co.BornFrom != tt.from || co.BornTo != tt.to || co.Population != tt.pop ||
				!co.ProxyBooking || co.SessionLock != 10*time.Minute || !reflect.DeepEqual(co.Vaccines, tt.vaccines) {
				t.Errorf("%+v", co)
			}
			if len(co.Windows) != len(tt.windows) {
				t.Fatalf("%d windows", len(co.Windows))
			}
			for j, w := range tt.windows {
				got := co.Windows[j]
				if !got.Opens.Equal(w.opens) || !got.Closes.Equal(w.closes) || got.CatchUp != w.catchUp ||
					got.BirthDayDigit != nil || got.BornFrom != nil || got.BornTo != nil {
					t.Errorf("window %d: %+v", j+1, got)
				}
			}
		})
	}
	if m := c.Vaccine("moderna"); m == nil || m.Supply <= 0 {
		t.Errorf("moderna supply must be limited (the 55-59 halt): %+v", m)
	}
	// 4 and 3 weeks, 6 weeks for second doses from 2021-08-16.
	for _, tt := range []struct {
		vaccine string
		dose1   Date
		days    int
	}{
		{"moderna", Date{2021, 7, 12}, 28},
		{"moderna", Date{2021, 7, 26}, 42},
		{"pfizer", Date{2021, 7, 19}, 21},
		{"pfizer", Date{2021, 8, 16}, 42},
		{"pfizer", Date{2021, 9, 27}, 21},
	} {
		r, ok := c.Vaccine(tt.vaccine).Interval(tt.dose1)
		if !ok || r.DefaultDays != tt.days {
			t.Errorf("%s first dose %v: %+v, want %d days", tt.vaccine, tt.dose1, r, tt.days)
		}
	}
}

func TestShipped1849(t *testing.T) {
	c := shipped(t, "2021-08-18-49")
	if len(c.Cohorts) != 1 {
		t.Fatalf("%d cohorts", len(c.Cohorts))
	}
	co := c.Cohorts[0]
	if co.ID != "18-49" || co.BornFrom != (Date{1972, 1, 1}) || co.BornTo != (Date{2003, 12, 31}) ||
		co.ProxyBooking || co.Population != 16200000 || co.SessionLock != 10*time.Minute {
		t.Errorf("%+v", co)
	}
	if len(co.Windows) != 13 {
		t.Fatalf("%d windows", len(co.Windows))
	}
	for i, day := 0, 9; day <= 18; i, day = i+1, day+1 {
		w := co.Windows[i]
		if w.BirthDayDigit == nil || *w.BirthDayDigit != day%10 ||
			!w.Opens.Equal(time.Date(2021, 8, day, 20, 0, 0, 0, Seoul)) ||
			!w.Closes.Equal(time.Date(2021, 8, day+1, 18, 0, 0, 0, Seoul)) || w.CatchUp {
			t.Errorf("day %d: %+v", day, w)
		}
	}
	for i, want := range []struct {
		opens, closes time.Time
		from, to      Date
	}{
		{time.Date(2021, 8, 19, 20, 0, 0, 0, Seoul), time.Date(2021, 8, 20, 18, 0, 0, 0, Seoul), Date{1972, 1, 1}, Date{1985, 12, 31}},
		{time.Date(2021, 8, 20, 20, 0, 0, 0, Seoul), time.Date(2021, 8, 21, 18, 0, 0, 0, Seoul), Date{1986, 1, 1}, Date{2003, 12, 31}},
	} {
		w := co.Windows[10+i]
		if !w.CatchUp || w.BirthDayDigit != nil || w.BornFrom == nil || *w.BornFrom != want.from || *w.BornTo != want.to ||
			!w.Opens.Equal(want.opens) || !w.Closes.Equal(want.closes) {
			t.Errorf("catch-up %d: %+v", i+1, w)
		}
	}
	last := co.Windows[12]
	if !last.Opens.Equal(time.Date(2021, 8, 21, 20, 0, 0, 0, Seoul)) || !last.Closes.Equal(time.Date(2021, 9, 18, 18, 0, 0, 0, Seoul)) ||
		last.BornFrom != nil || last.BirthDayDigit != nil {
		t.Errorf("anyone window: %+v", last)
	}
	for _, v := range []string{"pfizer", "moderna"} {
		r, ok := c.Vaccine(v).Interval(Date{2021, 8, 26})
		if !ok || r.DefaultDays != 42 {
			t.Errorf("%s: %+v, want 6 weeks", v, r)
		}
	}
}

// YAML writes what ParseCampaign reads back identically.
func TestCampaignYAMLRoundTrip(t *testing.T) {
	all, err := ShippedCampaigns()
	if err != nil {
		t.Fatal(err)
	}
	test, err := ParseCampaign([]byte(testCampaignYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(all, test) {
		t.Run(c.ID, func(t *testing.T) {
			b, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ParseCampaign(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Errorf("round trip changed the campaign:\n%s", b)
			}
		})
	}
}

func FuzzParseCampaign(f *testing.F) {
	f.Add([]byte(testCampaignYAML))
	for _, name := range []string{"campaigns/2021-07-50s.yaml", "campaigns/2021-08-18-49.yaml"} {
		b, err := shippedCampaignFiles.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Without comment lines: smaller seeds make the fuzzer's
		// minimisation of new inputs much quicker.
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, l)
			}
		}
		f.Add([]byte(strings.Join(lines, "\n")))
	}
	f.Add([]byte(""))
	f.Add([]byte("id: x\nname: a\nname_en: b\n"))
	f.Add([]byte("cohorts: [{windows: [{birth_day_digit: 99}]}]"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte(strings.Replace(testCampaignYAML, "+09:00", "", 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCampaign(b)
		if err != nil {
			if c != nil {
				t.Fatal("campaign returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted campaign does not validate: %v", err)
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		c2, err := ParseCampaign(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the campaign\n%s", out)
		}
		// The rules work on anything accepted.
		opens, closes := c.Span()
		for _, now := range []time.Time{opens, closes, opens.Add(-time.Second), closes.Add(-time.Second)} {
			for _, co := range c.Cohorts {
				for _, birth := range []Date{co.BornFrom, co.BornTo} {
					e := c.Eligibility(birth, now)
					if e.Reason == "" || e.Message == "" || e.Eligible != (e.Window != nil) {
						t.Fatalf("eligibility %+v", e)
					}
				}
			}
			c.WindowsOn(DateOf(now))
		}
		for _, v := range c.Vaccines {
			for _, r := range v.Intervals {
				ds := v.SecondDoseDates(r.From)
				if len(ds) > r.LatestDays-r.EarliestDays+1 {
					t.Fatalf("%d second-dose dates", len(ds))
				}
			}
		}
		if bytes.Contains(out, []byte("\x00")) {
			t.Fatal("NUL in output")
		}
	})
}
