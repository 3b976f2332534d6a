package booking

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Eligibility reasons: stable machine codes, part of the public API.
const (
	ReasonOpen               = "open"                  // a window for this person is open now
	ReasonNotYetOpen         = "not_yet_open"          // this person's next window opens later
	ReasonWindowClosed       = "window_closed"         // all of this person's windows are past
	ReasonWrongBirthDayDigit = "wrong_birth_day_digit" // a window of the cohort is open now, but for another birth-day digit
	ReasonNotInAnyCohort     = "not_in_any_cohort"     // the birth date is in no cohort of the campaign
	ReasonBirthDateInFuture  = "birth_date_in_future"  // the birth date is after today (Seoul)
	ReasonInvalidBirthDate   = "invalid_birth_date"    // the birth date does not exist (e.g. 30 February)
)

// Eligibility is the answer to "may a person born on this date book now?".
type Eligibility struct {
	Eligible bool
	// Campaign is the campaign answering: the one of the person's cohort
	// (nil if none).
	Campaign *Campaign
	Cohort   *Cohort // the person's cohort, nil if none
	Window   *Window // the open window, if eligible
	// WindowOpensAt and WindowClosesAt give the current window if eligible,
	// else the person's next window, else nil. Times are in Seoul.
	WindowOpensAt  *time.Time
	WindowClosesAt *time.Time
	// NextWindowOpensAt is when this person's next window opens, after now
	// (not counting the current one), or nil.
	NextWindowOpensAt *time.Time
	Reason            string // one of the Reason* codes
	Message           string // plain Korean sentence
	MessageEN         string // plain English sentence
}

// Eligibility tells whether a person born on birth may book at instant now.
//
// It is a pure function of the campaign, the birth date and the server's
// clock. Every comparison is between typed values (time.Time instants,
// Date fields), never strings or device clocks, and the zone of now does not
// matter: the same instant gives the same answer in any zone. The calendar
// date of now (for "born in the future") is taken in Seoul.
//
// When several of the person's windows are open at once, the one closing
// last is reported.
func (c *Campaign) Eligibility(birth Date, now time.Time) Eligibility {
	var e Eligibility
	if !eligDateExists(birth) {
		e.Reason = ReasonInvalidBirthDate
		e.Message = "생년월일이 올바르지 않습니다. 날짜를 확인해 주세요."
		e.MessageEN = "The birth date does not exist. Please check it."
		return e
	}
	if birth.After(DateOf(now)) {
		e.Reason = ReasonBirthDateInFuture
		e.Message = "생년월일이 오늘보다 뒤입니다. 날짜를 확인해 주세요."
		e.MessageEN = "The birth date is in the future. Please check it."
		return e
	}
	co := c.CohortOf(birth)
	if co == nil {
		ko, en := newEligMsg(), newEligMsg()
		ko.year(birth).s("년생은 이번 예약(").s(c.Name).s(")의 대상이 아닙니다.")
		en.s("People born in ").year(birth).s(" are not eligible in this booking round (").s(c.NameEN).s(").")
		e.Reason, e.Message, e.MessageEN = ReasonNotInAnyCohort, ko.String(), en.String()
		return e
	}
	e.Campaign, e.Cohort = c, co

	// Classify the person's windows relative to now.
	var open, next, last, otherDigit *Window
	for i := range co.Windows {
		w := &co.Windows[i]
		if !w.Admits(birth) {
			if otherDigit == nil && w.inBornRange(birth) && !w.digitMatches(birth) && w.OpenAt(now) {
				otherDigit = w
			}
			continue
		}
		switch {
		case w.OpenAt(now):
			if open == nil || w.Closes.After(open.Closes) {
				open = w
			}
		case w.Opens.After(now):
			if next == nil || w.Opens.Before(next.Opens) {
				next = w
			}
		default: // closed
			if last == nil || w.Closes.After(last.Closes) {
				last = w
			}
		}
	}

	// One allocation for the three reported times, all in Seoul.
	times := new([3]time.Time)
	if next != nil {
		times[2] = next.Opens.In(Seoul)
		e.NextWindowOpensAt = &times[2]
	}
	ko, en := newEligMsg(), newEligMsg()
	switch {
	case open != nil:
		e.Eligible = true
		e.Window = open
		times[0], times[1] = open.Opens.In(Seoul), open.Closes.In(Seoul)
		e.WindowOpensAt, e.WindowClosesAt = &times[0], &times[1]
		e.Reason = ReasonOpen
		ko.subjectKO(birth, open).s("은 ").whenKO(open.Closes).s("까지 예약할 수 있습니다.")
		en.subjectEN(birth, open).s(" can book until ").whenEN(open.Closes).s(".")
	case next == nil:
		e.Reason = ReasonWindowClosed
		if last != nil {
			ko.year(birth).s("년생의 예약 기간은 ").whenKO(last.Closes).s("에 끝났습니다.")
			en.s("Booking for people born in ").year(birth).s(" closed at ").whenEN(last.Closes).s(".")
		} else {
			ko.year(birth).s("년생의 예약 기간이 없습니다.")
			en.s("There is no booking window for people born in ").year(birth).s(".")
		}
	default:
		times[0], times[1] = next.Opens.In(Seoul), next.Closes.In(Seoul)
		e.WindowOpensAt, e.WindowClosesAt = &times[0], &times[1]
		if otherDigit != nil {
			e.Reason = ReasonWrongBirthDayDigit
			d := int64(*otherDigit.BirthDayDigit)
			ko.s("지금은 생일 끝자리가 ").n(d).s("인 분이 예약하는 시간입니다. ")
			en.s("Right now only people whose birth day ends in ").n(d).s(" can book. ")
		} else {
			e.Reason = ReasonNotYetOpen
		}
		ko.subjectKO(birth, next).s("은 ").whenKO(next.Opens).s("부터 예약할 수 있습니다.")
		en.subjectEN(birth, next).s(" can book from ").whenEN(next.Opens).s(".")
	}
	e.Message, e.MessageEN = ko.String(), en.String()
	return e
}

// eligDateExists reports whether the date is in the calendar (Gregorian
// leap years), without going through time.Date.
func eligDateExists(d Date) bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[d.Month-1]
	if d.Month == time.February && d.Year%4 == 0 && (d.Year%100 != 0 || d.Year%400 == 0) {
		days = 29
	}
	return d.Day <= days
}

// eligMsg builds a message for people with few allocations.
type eligMsg []byte

func newEligMsg() *eligMsg { b := make(eligMsg, 0, 128); return &b }

func (m *eligMsg) s(s string) *eligMsg  { *m = append(*m, s...); return m }
func (m *eligMsg) n(n int64) *eligMsg   { *m = strconv.AppendInt(*m, n, 10); return m }
func (m *eligMsg) year(d Date) *eligMsg { return m.n(int64(d.Year)) }
func (m *eligMsg) String() string       { return string(*m) }

// subjectKO names the people a window is for: "1968년생" or
// "생일 끝자리가 9인 1990년생".
func (m *eligMsg) subjectKO(birth Date, w *Window) *eligMsg {
	if w.BirthDayDigit != nil {
		m.s("생일 끝자리가 ").n(int64(*w.BirthDayDigit)).s("인 ")
	}
	return m.year(birth).s("년생")
}

// subjectEN: "People born in 1968", "People born in 1990 on a day ending in 9".
func (m *eligMsg) subjectEN(birth Date, w *Window) *eligMsg {
	m.s("People born in ").year(birth)
	if w.BirthDayDigit != nil {
		m.s(" on a day ending in ").n(int64(*w.BirthDayDigit))
	}
	return m
}

// whenKO: "7월 19일 20시", "7월 19일 20시 30분" (Seoul).
func (m *eligMsg) whenKO(t time.Time) *eligMsg {
	t = t.In(Seoul)
	_, mo, d := t.Date()
	h, mi, _ := t.Clock()
	m.n(int64(mo)).s("월 ").n(int64(d)).s("일 ").n(int64(h)).s("시")
	if mi != 0 {
		m.s(" ").n(int64(mi)).s("분")
	}
	return m
}

// whenEN: "20:00 on 19 July" (Seoul).
func (m *eligMsg) whenEN(t time.Time) *eligMsg {
	t = t.In(Seoul)
	_, mo, d := t.Date()
	*m = t.AppendFormat(*m, "15:04")
	return m.s(" on ").n(int64(d)).s(" ").s(mo.String())
}

func koreanWhen(t time.Time) string  { return newEligMsg().whenKO(t).String() }
func englishWhen(t time.Time) string { return newEligMsg().whenEN(t).String() }

// WindowInfo describes one window in plain words, for a landing page.
type WindowInfo struct {
	CampaignID     string
	CampaignName   string
	CampaignNameEN string
	CohortID       string
	CohortName     string
	CohortNameEN   string
	WindowID       string
	Label          string
	LabelEN        string
	Opens          time.Time // Seoul
	Closes         time.Time // Seoul
	CatchUp        bool
	BirthDayDigit  *int
	BornFrom       Date // the people the window is for (cohort range, narrowed by the window)
	BornTo         Date
	Text           string // e.g. "1967~1968년생: 7월 19일 20시 ~ 7월 20일 18시"
	TextEN         string // e.g. "Born 1967-1968: 20:00 on 19 July to 18:00 on 20 July"
}

// OpenAt reports whether the window is open at instant t (Window.OpenAt).
func (wi WindowInfo) OpenAt(t time.Time) bool {
	w := Window{Opens: wi.Opens, Closes: wi.Closes}
	return w.OpenAt(t)
}

// WindowsOn returns the windows open at any moment of the given Seoul day,
// ordered by opening time (then campaign order). A window shared by two
// cohorts appears once per cohort.
func (c *Campaign) WindowsOn(day Date) []WindowInfo {
	start, end := day.Time(), day.AddDays(1).Time()
	var out []WindowInfo
	for i := range c.Cohorts {
		co := &c.Cohorts[i]
		for j := range co.Windows {
			w := &co.Windows[j]
			if !w.Opens.Before(end) || !w.Closes.After(start) {
				continue
			}
			out = append(out, c.windowInfo(co, w))
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Opens.Before(out[b].Opens) })
	return out
}

// NextWindow is the window of any cohort opening next after now (the
// first to open, in Seoul time), if there is one: what a landing page
// announces while no window is open.
func (c *Campaign) NextWindow(now time.Time) (WindowInfo, bool) {
	var next *Window
	var cohort *Cohort
	for i := range c.Cohorts {
		for j := range c.Cohorts[i].Windows {
			w := &c.Cohorts[i].Windows[j]
			if w.Opens.After(now) && (next == nil || w.Opens.Before(next.Opens)) {
				next, cohort = w, &c.Cohorts[i]
			}
		}
	}
	if next == nil {
		return WindowInfo{}, false
	}
	return c.windowInfo(cohort, next), true
}

func (c *Campaign) windowInfo(co *Cohort, w *Window) WindowInfo {
	wi := WindowInfo{
		CampaignID: c.ID, CampaignName: c.Name, CampaignNameEN: c.NameEN,
		CohortID: co.ID, CohortName: co.Name, CohortNameEN: co.NameEN,
		WindowID: w.ID, Label: w.Label, LabelEN: w.LabelEN,
		Opens: w.Opens.In(Seoul), Closes: w.Closes.In(Seoul),
		CatchUp: w.CatchUp, BornFrom: co.BornFrom, BornTo: co.BornTo,
	}
	if w.BirthDayDigit != nil {
		d := *w.BirthDayDigit
		wi.BirthDayDigit = &d
	}
	if w.BornFrom != nil {
		wi.BornFrom = *w.BornFrom
	}
	if w.BornTo != nil {
		wi.BornTo = *w.BornTo
	}
	whoKO, whoEN := bornRangeWords(wi.BornFrom, wi.BornTo)
	if wi.BirthDayDigit != nil {
		days := birthDaysEndingIn(*wi.BirthDayDigit)
		var ko, en []string
		for _, d := range days {
			ko = append(ko, strconv.Itoa(d)+"일")
			en = append(en, ordinal(d))
		}
		whoKO += " 중 생일 끝자리 " + strconv.Itoa(*wi.BirthDayDigit) + " (" + strings.Join(ko, "·") + "생)"
		whoEN += ", on the " + strings.Join(en[:len(en)-1], ", ") + " or " + en[len(en)-1]
	}
	wi.Text = whoKO + ": " + koreanWhen(wi.Opens) + " ~ " + koreanWhen(wi.Closes)
	wi.TextEN = whoEN + ": " + englishWhen(wi.Opens) + " to " + englishWhen(wi.Closes)
	if wi.CatchUp {
		wi.Text += " (추가 예약)"
		wi.TextEN += " (catch-up)"
	}
	return wi
}

// bornRangeWords: whole years as "1967~1968년생" / "Born 1967-1968", other
// ranges with full dates.
func bornRangeWords(from, to Date) (ko, en string) {
	if from.Month == time.January && from.Day == 1 && to.Month == time.December && to.Day == 31 {
		if from.Year == to.Year {
			y := strconv.Itoa(from.Year)
			return y + "년생", "Born " + y
		}
		a, b := strconv.Itoa(from.Year), strconv.Itoa(to.Year)
		return a + "~" + b + "년생", "Born " + a + "-" + b
	}
	return from.String() + " ~ " + to.String() + " 출생", "Born " + from.String() + " to " + to.String()
}

// birthDaysEndingIn lists the days of month ending in digit: 9 -> 9, 19, 29.
func birthDaysEndingIn(digit int) []int {
	var out []int
	for d := 1; d <= 31; d++ {
		if d%10 == digit {
			out = append(out, d)
		}
	}
	return out
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}
