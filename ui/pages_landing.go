// Citizen pages: the landing page (today's windows, "may I book now?").

package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

type windowRow struct {
	Text   string
	State  string // "open", "later", "closed"
	Opens  time.Time
	Closes time.Time
}

type checkResult struct {
	Eligible bool
	Message  string
	OpensAt  *time.Time // the current window if eligible, else the next one
	ClosesAt *time.Time
	NoMore   bool // no window left for this person
}

type landingData struct {
	Campaign string
	Windows  []windowRow
	AnyOpen  bool
	Next     *windowRow
	Over     bool
	Year     string
	Month    int
	Day      int
	Months   []option
	Days     []option
	Check    *checkResult
	JoinURL  string
}

func (p *Pages) landing(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "check.title", "/")
	l, now := pg.Lang, pg.Now
	camp := p.Booking.Campaign()
	pg.Title, pg.Home = l.Pick(camp.Name, camp.NameEN), true
	d := landingData{Campaign: pg.Title, JoinURL: "/wait/" + p.Room + "?return=/book"}
	for _, wi := range camp.WindowsOn(booking.DateOf(now)) {
		row := windowRow{Text: l.Pick(wi.Text, wi.TextEN), Opens: wi.Opens, Closes: wi.Closes, State: "later"}
		switch {
		case !now.Before(wi.Closes):
			row.State = "closed"
		case !now.Before(wi.Opens):
			row.State, d.AnyOpen = "open", true
		}
		d.Windows = append(d.Windows, row)
	}
	if !d.AnyOpen {
		if wi, ok := camp.NextWindow(now); ok {
			d.Next = &windowRow{Text: l.Pick(wi.Text, wi.TextEN), Opens: wi.Opens, Closes: wi.Closes, State: "later"}
		} else if _, closes := camp.Span(); !now.Before(closes) {
			d.Over = true
		}
	}
	status := http.StatusOK
	birth, given, ok := parseBirth(r.URL.Query(), &d)
	d.Months, d.Days = numberOptions(12, d.Month), numberOptions(31, d.Day)
	switch {
	case given && !ok:
		pg.Problem = &problem{Text: l.T("check.bad_date"), Next: l.T("check.fix"), Field: "birth"}
		status = http.StatusBadRequest
	case given:
		e := camp.Eligibility(birth, now)
		switch e.Reason {
		case booking.ReasonInvalidBirthDate, booking.ReasonBirthDateInFuture:
			pg.Problem = &problem{Text: l.Pick(e.Message, e.MessageEN), Next: l.T("check.fix"), Field: "birth"}
			status = http.StatusBadRequest
		default:
			d.Check = &checkResult{Eligible: e.Eligible, Message: l.Pick(e.Message, e.MessageEN),
				OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMore: !e.Eligible && e.WindowOpensAt == nil}
		}
	}
	pg.D = d
	p.render(w, status, "landing", pg)
}

// parseBirth reads the date of birth of the landing page's check: either
// birth_date=YYYY-MM-DD or the form's y, m and d. It fills the form's
// values back in.
func parseBirth(q url.Values, d *landingData) (booking.Date, bool, bool) {
	if s := strings.TrimSpace(q.Get("birth_date")); s != "" {
		b, err := booking.ParseDate(s)
		if err != nil {
			return booking.Date{}, true, false
		}
		d.Year, d.Month, d.Day = strconv.Itoa(b.Year), int(b.Month), b.Day
		return b, true, true
	}
	ys, ms, ds := strings.TrimSpace(q.Get("y")), q.Get("m"), q.Get("d")
	if ys == "" && ms == "" && ds == "" {
		return booking.Date{}, false, false
	}
	ys = asciiDigits(ys)
	if len(ys) > 4 {
		ys = ys[:4]
	}
	d.Year = ys
	y, yerr := strconv.Atoi(ys)
	m, merr := strconv.Atoi(ms)
	day, derr := strconv.Atoi(ds)
	if merr == nil && m >= 1 && m <= 12 {
		d.Month = m
	}
	if derr == nil && day >= 1 && day <= 31 {
		d.Day = day
	}
	if yerr != nil || len(ys) != 4 || y < 1900 || d.Month == 0 || d.Day == 0 {
		return booking.Date{}, true, false
	}
	b, ok := booking.NewDate(y, time.Month(m), day)
	return b, true, ok
}

// numberOptions lists 1 to n, with selected selected (none for 0).
func numberOptions(n, selected int) []option {
	out := make([]option, n)
	for i := range out {
		v := strconv.Itoa(i + 1)
		out[i] = option{Value: v, Label: v, Selected: i+1 == selected}
	}
	return out
}

// asciiDigits keeps the digits of s, turning full-width ones into ASCII.
func asciiDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= '０' && c <= '９':
			b.WriteRune('0' + (c - '０'))
		}
	}
	return b.String()
}
