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
	// NoMoreKey says why there is no window to come back to, when there
	// is none (noMoreKey).
	NoMoreKey string
}

// noMoreKey is the catalogue key that says what to do for someone who may
// not book and has no window to come back to ("" when there is one): a
// round for their age group is to come, or their windows are over.
func noMoreKey(e booking.Eligibility) string {
	switch {
	case e.Eligible || e.WindowOpensAt != nil:
		return ""
	case e.Reason == booking.ReasonNotInAnyCohort:
		return "check.not_in_round"
	}
	return "check.none_next"
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
	camp := p.Booking.Programme()
	pg.Title, pg.Home = l.Pick(camp.Name()), true
	d := landingData{Campaign: pg.Title, JoinURL: "/wait/" + p.Room + "?return=/book"}
	for _, wi := range camp.WindowsOn(booking.DateOf(now)) {
		row := windowRow{Text: l.Pick(wi.Text, wi.TextEN), Opens: wi.Opens, Closes: wi.Closes, State: "later"}
		switch {
		case wi.OpenAt(now):
			row.State, d.AnyOpen = "open", true
		case !now.Before(wi.Closes):
			row.State = "closed"
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
	birth, given, bad := parseBirth(r.URL.Query(), &d)
	d.Months, d.Days = numberOptions(12, d.Month), numberOptions(31, d.Day)
	switch {
	case bad != nil:
		pg.Problem = &problem{Text: l.T(bad.key, bad.args...), Next: l.T("check.fix"), Field: bad.field}
		status = http.StatusBadRequest
	case given:
		e := camp.Eligibility(birth, now)
		switch e.Reason {
		case booking.ReasonInvalidBirthDate, booking.ReasonBirthDateInFuture:
			pg.Problem = &problem{Text: l.Pick(e.Message, e.MessageEN), Next: l.T("check.fix"), Field: "y"}
			status = http.StatusBadRequest
		default:
			d.Check = &checkResult{Eligible: e.Eligible, Message: l.Pick(e.Message, e.MessageEN),
				OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMoreKey: noMoreKey(e)}
		}
	}
	pg.D = d
	p.render(w, status, "landing", pg)
}

// birthProblem is what is wrong with a date of birth as given: the box
// ("y", "m" or "d") and the catalogue key that says what to do.
type birthProblem struct {
	field, key string
	args       []any
}

// parseBirth reads the date of birth of the landing page's check: either
// birth_date=YYYY-MM-DD or the form's y, m and d. It fills the form's
// values back in. given reports whether a date was asked about at all.
func parseBirth(q url.Values, d *landingData) (b booking.Date, given bool, bad *birthProblem) {
	if s := strings.TrimSpace(q.Get("birth_date")); s != "" {
		b, err := booking.ParseDate(s)
		if err != nil {
			return booking.Date{}, true, &birthProblem{field: "y", key: "check.bad_date"}
		}
		d.Year, d.Month, d.Day = strconv.Itoa(b.Year), int(b.Month), b.Day
		return b, true, nil
	}
	ys, ms, ds := strings.TrimSpace(q.Get("y")), q.Get("m"), q.Get("d")
	if ys == "" && ms == "" && ds == "" {
		return booking.Date{}, false, nil
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
	switch {
	case yerr != nil || len(ys) != 4 || y < 1900:
		return booking.Date{}, true, &birthProblem{field: "y", key: "check.bad_year"}
	case d.Month == 0:
		return booking.Date{}, true, &birthProblem{field: "m", key: "check.bad_month"}
	case d.Day == 0:
		return booking.Date{}, true, &birthProblem{field: "d", key: "check.bad_day"}
	}
	b, ok := booking.NewDate(y, time.Month(m), day)
	if !ok {
		return booking.Date{}, true, &birthProblem{field: "d", key: "check.no_such_day", args: []any{m, day}}
	}
	return b, true, nil
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
