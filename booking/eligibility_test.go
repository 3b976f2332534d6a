package booking

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// --- reference implementation ----------------------------------------------
//
// Written straight from the table in shared/DOMAIN.md ("Who could book
// when"), by birth YEAR, with its own zone value, sharing no code with
// eligibility.go or the campaign files.

var refKST = time.FixedZone("reference KST", 9*60*60)

func refAt(month time.Month, day, hour int) time.Time {
	return time.Date(2021, month, day, hour, 0, 0, 0, refKST)
}

type refWindow struct {
	opens, closes    time.Time
	digit            int // -1: any birth day
	fromYear, toYear int // 0: the whole cohort
}

type refCohort struct {
	id               string
	fromYear, toYear int
	windows          []refWindow
}

func ref50s() []refCohort {
	catchUp := refWindow{opens: refAt(7, 21, 20), closes: refAt(7, 24, 18), digit: -1}
	return []refCohort{
		{"55-59", 1962, 1966, []refWindow{
			// Opened 07-12 00:00, halted when Moderna ran out (window
			// closes 07-13 18:00 in the data), reopened 07-14 20:00 until
			// 07-24 18:00.
			{opens: refAt(7, 12, 0), closes: refAt(7, 13, 18), digit: -1},
			{opens: refAt(7, 14, 20), closes: refAt(7, 24, 18), digit: -1},
		}},
		{"53-54", 1967, 1968, []refWindow{
			{opens: refAt(7, 19, 20), closes: refAt(7, 20, 18), digit: -1},
			catchUp,
		}},
		{"50-52", 1969, 1971, []refWindow{
			{opens: refAt(7, 20, 20), closes: refAt(7, 21, 18), digit: -1},
			catchUp,
		}},
	}
}

func ref1849() []refCohort {
	var ws []refWindow
	// 08-09 .. 08-18, one window a day, 20:00 .. 18:00 next day, for birth
	// days ending in the day's last digit.
	for day := 9; day <= 18; day++ {
		ws = append(ws, refWindow{opens: refAt(8, day, 20), closes: refAt(8, day+1, 18), digit: day % 10})
	}
	ws = append(ws,
		refWindow{opens: refAt(8, 19, 20), closes: refAt(8, 20, 18), digit: -1, fromYear: 1972, toYear: 1985},
		refWindow{opens: refAt(8, 20, 20), closes: refAt(8, 21, 18), digit: -1, fromYear: 1986, toYear: 2003},
		refWindow{opens: refAt(8, 21, 20), closes: refAt(9, 18, 18), digit: -1},
	)
	return []refCohort{{"18-49", 1972, 2003, ws}}
}

type refResult struct {
	eligible     bool
	cohort       string // "" if none
	reason       string
	opens        time.Time // zero if none
	closes       time.Time
	next         time.Time
	openDigitNow int // for the message check: digit of another window open now, -1 if none
}

func (w refWindow) applies(y, m, d int) bool {
	if w.digit >= 0 && d%10 != w.digit {
		return false
	}
	if w.fromYear != 0 && (y < w.fromYear || y > w.toYear) {
		return false
	}
	return true
}

func (w refWindow) open(now time.Time) bool {
	// Unix seconds and nanoseconds: a comparison of numbers, independent of
	// zones and of time.Time's own comparison methods.
	n, o, c := now.UnixNano(), w.opens.UnixNano(), w.closes.UnixNano()
	return o <= n && n < c
}

func reference(cohorts []refCohort, y, m, d int, now time.Time) refResult {
	r := refResult{openDigitNow: -1}
	var co *refCohort
	for i := range cohorts {
		if cohorts[i].fromYear <= y && y <= cohorts[i].toYear {
			co = &cohorts[i]
		}
	}
	if co == nil {
		r.reason = "not_in_any_cohort"
		return r
	}
	r.cohort = co.id
	var open, next *refWindow
	for i := range co.windows {
		w := &co.windows[i]
		if !w.applies(y, m, d) {
			if w.digit >= 0 && w.open(now) && (w.fromYear == 0 || (w.fromYear <= y && y <= w.toYear)) {
				r.openDigitNow = w.digit
			}
			continue
		}
		if w.open(now) && (open == nil || w.closes.UnixNano() > open.closes.UnixNano()) {
			open = w
		}
		if w.opens.UnixNano() > now.UnixNano() && (next == nil || w.opens.UnixNano() < next.opens.UnixNano()) {
			next = w
		}
	}
	if next != nil {
		r.next = next.opens
	}
	switch {
	case open != nil:
		r.eligible, r.reason, r.opens, r.closes = true, "open", open.opens, open.closes
	case next == nil:
		r.reason = "window_closed"
	default:
		r.opens, r.closes = next.opens, next.closes
		if r.openDigitNow >= 0 {
			r.reason = "wrong_birth_day_digit"
		} else {
			r.reason = "not_yet_open"
		}
	}
	return r
}

// --- comparison ---------------------------------------------------------------

func timeOrZero(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func sameInstant(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.UnixNano() == b.UnixNano()
}

// checkAgainstReference returns a description of the first disagreement, or "".
func checkAgainstReference(c eligibilityAnswerer, ref []refCohort, birth Date, now time.Time) string {
	got := c.Eligibility(birth, now)
	want := reference(ref, birth.Year, int(birth.Month), birth.Day, now)
	gotCohort := ""
	if got.Cohort != nil {
		gotCohort = got.Cohort.ID
	}
	var diffs []string
	if got.Eligible != want.eligible {
		diffs = append(diffs, fmt.Sprintf("eligible %v, want %v", got.Eligible, want.eligible))
	}
	if gotCohort != want.cohort {
		diffs = append(diffs, fmt.Sprintf("cohort %q, want %q", gotCohort, want.cohort))
	}
	if (got.Campaign != nil) != (got.Cohort != nil) || got.Campaign != nil && got.Campaign.Cohort(got.Cohort.ID) != got.Cohort {
		diffs = append(diffs, fmt.Sprintf("campaign %v does not hold cohort %q", got.Campaign, gotCohort))
	}
	if got.Reason != want.reason {
		diffs = append(diffs, fmt.Sprintf("reason %q, want %q", got.Reason, want.reason))
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{
		{"window_opens_at", timeOrZero(got.WindowOpensAt), want.opens},
		{"window_closes_at", timeOrZero(got.WindowClosesAt), want.closes},
		{"next_window_opens_at", timeOrZero(got.NextWindowOpensAt), want.next},
	} {
		if !sameInstant(f.got, f.want) {
			diffs = append(diffs, fmt.Sprintf("%s %v, want %v", f.name, f.got, f.want))
		}
	}
	if (got.Window != nil) != got.Eligible {
		diffs = append(diffs, fmt.Sprintf("Window %v with eligible %v", got.Window, got.Eligible))
	}
	if got.Window != nil && !got.Window.OpenAt(now) {
		diffs = append(diffs, "Window is not open now")
	}
	if got.Message == "" || got.MessageEN == "" {
		diffs = append(diffs, "empty message")
	}
	if want.reason == "wrong_birth_day_digit" && !strings.Contains(got.Message, fmt.Sprintf("끝자리가 %d인 분이", want.openDigitNow)) {
		diffs = append(diffs, fmt.Sprintf("message %q does not name open digit %d", got.Message, want.openDigitNow))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprintf("born %v at %s: %s", birth, now.In(refKST).Format(time.RFC3339Nano), strings.Join(diffs, "; "))
}

// --- the property test --------------------------------------------------------

type propertyCase struct {
	name string
	id   string
	ref  []refCohort
}

var propertyCases = []propertyCase{
	{"2021-07-50s", "2021-07-50s", ref50s()},
	{"2021-08-18-49", "2021-08-18-49", ref1849()},
	// Both campaigns in one deployment: the reference's cohorts of both
	// (they do not overlap), so that every birth date gets its own
	// campaign's answer whatever the month.
	{"programme", programmeCase, append(ref50s(), ref1849()...)},
}

// programmeCase is the id of the property case run on ShippedProgramme.
const programmeCase = "programme"

// eligibilityAnswerer is a campaign or a programme.
type eligibilityAnswerer interface {
	Eligibility(birth Date, now time.Time) Eligibility
}

// propertySubject is what a property case checks.
func propertySubject(id string) (eligibilityAnswerer, error) {
	if id == programmeCase {
		return ShippedProgramme()
	}
	return ShippedCampaign(id)
}

// boundaryInstants are every window opening and closing of the reference,
// exactly and 1 s either side, in order.
func boundaryInstants(ref []refCohort, offsets ...time.Duration) []time.Time {
	if len(offsets) == 0 {
		offsets = []time.Duration{-time.Second, 0, time.Second}
	}
	seen := map[int64]bool{}
	var out []time.Time
	for _, co := range ref {
		for _, w := range co.windows {
			for _, b := range []time.Time{w.opens, w.closes} {
				for _, d := range offsets {
					t := b.Add(d)
					if !seen[t.UnixNano()] {
						seen[t.UnixNano()] = true
						out = append(out, t)
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// hourlyInstants: every hour 00-23, on the hour and at :59:59, from the day
// before the first window to the day after the last.
func hourlyInstants(ref []refCohort) []time.Time {
	first, last := ref[0].windows[0].opens, ref[0].windows[0].closes
	for _, co := range ref {
		for _, w := range co.windows {
			if w.opens.Before(first) {
				first = w.opens
			}
			if w.closes.After(last) {
				last = w.closes
			}
		}
	}
	start := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, refKST)
	end := time.Date(last.Year(), last.Month(), last.Day()+2, 0, 0, 0, 0, refKST)
	var out []time.Time
	for t := start; t.Before(end); t = t.Add(time.Hour) {
		out = append(out, t, t.Add(59*time.Minute+59*time.Second))
	}
	return out
}

func allBirthDates(from, to Date) []Date {
	var out []Date
	for t := from.Time(); !DateOf(t).After(to); t = t.AddDate(0, 0, 1) {
		out = append(out, DateOf(t))
	}
	return out
}

// birthDatesFor picks, for instant number k, one birth date per year
// 1960-2005 whose day of month moves by one from year to year (and with k):
// over any ten consecutive years every birth-day digit appears, so every
// instant is checked for every digit of every cohort. Months rotate too.
func birthDatesFor(k int) []Date {
	var out []Date
	for y := 1960; y <= 2005; y++ {
		day := 1 + (k+y)%31
		d, ok := NewDate(y, time.Month(1+(k+y)%12), day)
		if !ok {
			d, _ = NewDate(y, time.January, day)
		}
		out = append(out, d)
	}
	return out
}

// TestEligibilityMatchesReference checks both shipped campaigns against
// the reference:
//   - every birth date 1960-01-01..2005-12-31 at the window boundaries
//     (exactly and ±1 s). Each date is checked at every stride-th boundary
//     instant, rotating with the date (stride coprime with 10 and with the
//     number of instants), so every boundary instant is checked for every
//     birth-day digit of every birth year (asserted below);
//   - every hour 00-23 (on the hour and at :59:59) from a day before the
//     first window to a day after the last, each for 46 birth dates covering
//     every birth year and every birth-day digit.
//
// 2021-07-20 02:00-09:00 for people born 1967-68 is covered here and, more
// densely, in TestEligibility1967And68OnTheNightOf20July.
func TestEligibilityMatchesReference(t *testing.T) {
	everyDate := allBirthDates(Date{1960, 1, 1}, Date{2005, 12, 31})
	for _, pc := range propertyCases {
		t.Run(pc.name, func(t *testing.T) {
			c, err := propertySubject(pc.id)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("every birth date at the boundaries", func(t *testing.T) {
				t.Parallel()
				instants := boundaryInstants(pc.ref)
				// Strides coprime with 10, so that the dates checked at
				// one instant run through every birth-day digit.
				stride := 3
				for len(instants)/stride > 12 || stride%2 == 0 || stride%5 == 0 {
					stride++
				}
				type key struct{ instant, year, digit int }
				covered := map[key]bool{}
				failures := 0
				for i, b := range everyDate {
					for k := i % stride; k < len(instants); k += stride {
						covered[key{k, b.Year, b.Day % 10}] = true
						if msg := checkAgainstReference(c, pc.ref, b, instants[k]); msg != "" {
							t.Error(msg)
							if failures++; failures > 20 {
								t.Fatal("too many failures")
							}
						}
					}
				}
				if want := len(instants) * 46 * 10; len(covered) != want {
					t.Errorf("covered %d (instant, birth year, digit) combinations, want %d", len(covered), want)
				}
			})
			t.Run("every hour", func(t *testing.T) {
				t.Parallel()
				failures := 0
				for k, now := range hourlyInstants(pc.ref) {
					for _, b := range birthDatesFor(k) {
						if msg := checkAgainstReference(c, pc.ref, b, now); msg != "" {
							t.Error(msg)
							if failures++; failures > 20 {
								t.Fatal("too many failures")
							}
						}
					}
				}
			})
			t.Run("1 ns either side of every boundary", func(t *testing.T) {
				t.Parallel()
				for k, now := range boundaryInstants(pc.ref, -time.Nanosecond, time.Nanosecond) {
					for _, b := range birthDatesFor(k) {
						if msg := checkAgainstReference(c, pc.ref, b, now); msg != "" {
							t.Fatal(msg)
						}
					}
				}
			})
		})
	}
}

// The 2021 failure: between about 02:00 and 09:00 on 2021-07-20, eligible
// people born 1967-68 were told they were not eligible (an unpadded
// "YYYYMMDDHH" string compared as text). Every minute of that day, every
// birth date of 1967-68 must agree with the table, and be eligible from
// 00:00 to 17:59:59.
func TestEligibility1967And68OnTheNightOf20July(t *testing.T) {
	c := shipped(t, "2021-07-50s")
	ref := ref50s()
	births := allBirthDates(Date{1967, 1, 1}, Date{1968, 12, 31})
	for minute := 0; minute < 24*60; minute++ {
		now := time.Date(2021, 7, 20, 0, minute, 0, 0, refKST)
		for i, b := range births {
			// Every birth date every 10 minutes from 01:00 to 10:00, one
			// date (rotating) every other minute of the day.
			dense := minute%10 == 0 && minute >= 60 && minute <= 600
			if !dense && i != minute%len(births) {
				continue
			}
			e := c.Eligibility(b, now)
			if wantEligible := now.Hour() < 18; e.Eligible != wantEligible {
				t.Fatalf("born %v at %s: eligible %v, want %v (%s)", b, now.Format("15:04"), e.Eligible, wantEligible, e.Reason)
			}
			if msg := checkAgainstReference(c, ref, b, now); msg != "" {
				t.Fatal(msg)
			}
		}
	}
	// And the hours that failed in 2021, in the form the bug had: the hour
	// 2..9 is a single character in an unpadded string, which compares
	// greater than "18" or "20" as text. Typed times do not care.
	for h := 2; h <= 9; h++ {
		now := time.Date(2021, 7, 20, h, 30, 0, 0, Seoul)
		if e := c.Eligibility(Date{1968, 3, 5}, now); !e.Eligible || e.Reason != ReasonOpen {
			t.Errorf("born 1968-03-05 at %02d:30: %+v", h, e)
		}
	}
}

// The same instant in any zone gives the same answer.
func TestEligibilityIndependentOfZone(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		la = time.FixedZone("PDT", -7*60*60) // no tzdata on this host
	}
	zones := []*time.Location{time.UTC, Seoul, la, time.FixedZone("UTC+14", 14*60*60), time.FixedZone("UTC-12", -12*60*60), time.Local}
	for _, pc := range propertyCases {
		c, err := propertySubject(pc.id)
		if err != nil {
			t.Fatal(err)
		}
		instants := append(boundaryInstants(pc.ref), hourlyInstants(pc.ref)...)
		t.Run(pc.name, func(t *testing.T) {
			for i, now := range instants {
				if i%6 != 0 {
					continue
				}
				for j, b := range birthDatesFor(i) {
					if j%4 != i%3 {
						continue
					}
					want := c.Eligibility(b, now.In(Seoul))
					for _, z := range zones {
						got := c.Eligibility(b, now.In(z))
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("born %v at %v in %v: %+v, in Seoul %+v", b, now, z, got, want)
						}
					}
				}
			}
		})
	}
}

// shipped is the shipped campaign id.
func shipped(tb testing.TB, id string) *Campaign {
	tb.Helper()
	c, err := ShippedCampaign(id)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEligibilityInvalidBirthDate(t *testing.T) {
	c := shipped(t, "2021-07-50s")
	for _, b := range []Date{{1967, 2, 29}, {1968, 2, 30}, {1968, 13, 1}, {}} {
		e := c.Eligibility(b, mustTime(t, "2021-07-19T21:00:00+09:00"))
		if e.Eligible || e.Reason != ReasonInvalidBirthDate || e.Message == "" {
			t.Errorf("%v: %+v", b, e)
		}
	}
	if e := c.Eligibility(Date{1968, 2, 29}, mustTime(t, "2021-07-19T21:00:00+09:00")); !e.Eligible {
		t.Errorf("1968-02-29 (leap year): %+v", e)
	}
}

func TestWindowsOn(t *testing.T) {
	c50 := shipped(t, "2021-07-50s")
	c18 := shipped(t, "2021-08-18-49")
	tests := []struct {
		c    *Campaign
		day  string
		want []string // cohort/window
		text string   // a substring of the first window's text
	}{
		{c50, "2021-07-11", nil, ""},
		{c50, "2021-07-12", []string{"55-59/first"}, "1962~1966년생: 7월 12일 0시 ~ 7월 13일 18시"},
		{c50, "2021-07-14", []string{"55-59/reopened"}, ""},
		{c50, "2021-07-19", []string{"55-59/reopened", "53-54/main"}, ""},
		{c50, "2021-07-20", []string{"55-59/reopened", "53-54/main", "50-52/main"}, ""},
		{c50, "2021-07-21", []string{"55-59/reopened", "50-52/main", "53-54/catch-up", "50-52/catch-up"}, ""},
		{c50, "2021-07-24", []string{"55-59/reopened", "53-54/catch-up", "50-52/catch-up"}, ""},
		{c50, "2021-07-25", nil, ""},
		{c18, "2021-08-09", []string{"18-49/day-09"}, "생일 끝자리 9 (9일·19일·29일생)"},
		{c18, "2021-08-10", []string{"18-49/day-09", "18-49/day-10"}, ""},
		{c18, "2021-08-20", []string{"18-49/catch-up-36-49", "18-49/catch-up-18-35"}, "1972~1985년생"},
		{c18, "2021-09-18", []string{"18-49/anyone"}, ""},
		{c18, "2021-09-19", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.c.ID+"/"+tt.day, func(t *testing.T) {
			ws := tt.c.WindowsOn(mustDate(t, tt.day))
			var got []string
			for _, w := range ws {
				got = append(got, w.CohortID+"/"+w.WindowID)
				if w.Text == "" || w.TextEN == "" || w.Opens.Location() != Seoul {
					t.Errorf("%+v", w)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.text != "" && (len(ws) == 0 || !strings.Contains(ws[0].Text, tt.text)) {
				t.Errorf("text %q, want it to contain %q", ws[0].Text, tt.text)
			}
		})
	}
}

// A window described for a landing page is open from its opening
// instant to just before its closing one, as the window itself.
func TestWindowInfoOpenAt(t *testing.T) {
	ws := shipped(t, "2021-07-50s").WindowsOn(Date{2021, 7, 20})
	if len(ws) == 0 {
		t.Fatal("no windows on 2021-07-20")
	}
	for _, wi := range ws {
		for _, tc := range []struct {
			at   time.Time
			open bool
		}{
			{wi.Opens.Add(-time.Nanosecond), false},
			{wi.Opens, true},
			{wi.Opens.UTC(), true},
			{wi.Closes.Add(-time.Nanosecond), true},
			{wi.Closes, false},
		} {
			if got := wi.OpenAt(tc.at); got != tc.open {
				t.Errorf("%s/%s at %v: open %v, want %v", wi.CohortID, wi.WindowID, tc.at, got, tc.open)
			}
		}
	}
}

func TestNextWindow(t *testing.T) {
	c50 := shipped(t, "2021-07-50s")
	c18 := shipped(t, "2021-08-18-49")
	tests := []struct {
		c    *Campaign
		now  string
		want string // cohort/window, "" for none
	}{
		{c50, "2021-07-01T00:00:00+09:00", "55-59/first"},
		{c50, "2021-07-12T00:00:00+09:00", "55-59/reopened"}, // opening now is not "next"
		{c50, "2021-07-19T19:59:59+09:00", "53-54/main"},
		{c50, "2021-07-19T11:00:00Z", "50-52/main"}, // 20:00 Seoul: 53-54 has opened
		{c50, "2021-07-21T20:00:00+09:00", ""},
		{c18, "2021-08-09T19:00:00+09:00", "18-49/day-09"},
		{c18, "2021-08-19T21:00:00+09:00", "18-49/catch-up-18-35"},
		{c18, "2021-09-18T18:00:00+09:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.c.ID+"@"+tt.now, func(t *testing.T) {
			now := mustTime(t, tt.now)
			w, ok := tt.c.NextWindow(now)
			got := ""
			if ok {
				got = w.CohortID + "/" + w.WindowID
				if !w.Opens.After(now) || w.Opens.Location() != Seoul || w.Text == "" {
					t.Errorf("%+v", w)
				}
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkEligibility(b *testing.B) {
	c := shipped(b, "2021-08-18-49")
	now := time.Date(2021, 8, 12, 21, 0, 0, 0, Seoul)
	birth := Date{1990, 5, 29}
	for b.Loop() {
		c.Eligibility(birth, now)
	}
}
