package ui

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

// Lang is the language a page is shown in.
type Lang string

// The two languages of the citizen pages: Korean by default, English by a
// switch remembered in the LangCookie cookie.
const (
	LangKO Lang = "ko"
	LangEN Lang = "en"
)

// LangCookie remembers the language chosen with ?lang=ko|en.
const LangCookie = "lang"

// LangOf returns the language of a request: ?lang=ko|en (remembered in a
// cookie of the given path for a year when w is not nil), else the
// cookie, else Korean.
func LangOf(w http.ResponseWriter, r *http.Request, cookiePath string) Lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(l), Path: cookiePath, MaxAge: 365 * 86400,
				Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		}
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	return LangKO
}

func parseLang(s string) (Lang, bool) {
	switch s {
	case "ko":
		return LangKO, true
	case "en":
		return LangEN, true
	}
	return "", false
}

// Other is the language the switch on a page leads to.
func (l Lang) Other() Lang {
	if l == LangEN {
		return LangKO
	}
	return LangEN
}

// Pick returns ko or en as l says (for texts that come with the data, such
// as campaign and clinic names).
func (l Lang) Pick(ko, en string) string {
	if l == LangEN && en != "" {
		return en
	}
	return ko
}

// Num formats a count with thousands separators: 1,234,567.
func (l Lang) Num(n any) string {
	var s string
	switch v := n.(type) {
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case uint64:
		s = strconv.FormatUint(v, 10)
	default:
		return fmt.Sprint(n)
	}
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Round formats a figure rounded to a whole number: 1,234,567.
func (l Lang) Round(v float64) string { return l.Num(int64(math.Round(v))) }

// Decimal formats a rate: one decimal below 100, whole numbers above.
func (l Lang) Decimal(v float64) string {
	if math.Abs(v) >= 100 {
		return l.Round(v)
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
}

// Percent formats a fraction as a percentage with one decimal: "12.5%".
func (l Lang) Percent(v float64) string {
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

var enWeekday = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Date formats a calendar date: "2021년 7월 26일(월)", "Mon 26 July 2021".
func (l Lang) Date(d booking.Date) string {
	if l == LangEN {
		return fmt.Sprintf("%s %d %s %d", enWeekday[d.Weekday()], d.Day, d.Month, d.Year)
	}
	return d.Korean() // as the text messages write it
}

// ShortDate formats a date without the year: "7월 26일(월)", "Mon 26 July".
func (l Lang) ShortDate(d booking.Date) string {
	if l == LangEN {
		return fmt.Sprintf("%s %d %s", enWeekday[d.Weekday()], d.Day, d.Month)
	}
	return fmt.Sprintf("%d월 %d일(%s)", int(d.Month), d.Day, d.KoreanWeekday())
}

// When formats an instant in Korea time: "7월 19일(월) 20:00",
// "Mon 19 July, 20:00".
func (l Lang) When(t time.Time) string {
	t = t.In(booking.Seoul)
	d := booking.DateOf(t)
	if l == LangEN {
		return l.ShortDate(d) + ", " + t.Format("15:04")
	}
	return l.ShortDate(d) + " " + t.Format("15:04")
}

// WhenPtr is When for an optional time ("" for nil).
func (l Lang) WhenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return l.When(*t)
}

// Clock formats the time of day in Korea time: "21:04:05".
func (l Lang) Clock(t time.Time) string { return t.In(booking.Seoul).Format("15:04:05") }

// Block formats a time block: "09:00~10:00" / "09:00–10:00".
func (l Lang) Block(b booking.TimeBlock) string {
	start, end := l.BlockStartEnd(b)
	return start + end
}

// BlockStartEnd is Block in two parts: "09:00" and "~10:00".
func (l Lang) BlockStartEnd(b booking.TimeBlock) (string, string) {
	start, end := b.Hours()
	if l == LangEN {
		return start, "–" + end
	}
	return start, "~" + end
}

// Distance formats metres: "350m", "1.2km" ("350 m", "1.2 km").
func (l Lang) Distance(m int) string {
	if r := max(10, (m+5)/10*10); r < 1000 {
		return l.T("dist.m", r)
	}
	return l.T("dist.km", strconv.FormatFloat(math.Round(float64(m)/100)/10, 'f', 1, 64))
}

// Dur formats an expected wait, coarser as it grows: "1시간 5분", "25분",
// "3분 20초", "40초". Negative: unknown.
func (l Lang) Dur(d time.Duration) string {
	if d < 0 {
		return l.T("wait.eta.unknown")
	}
	s := int(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s%3600/60, s%60
	switch {
	case h > 0:
		return l.T("dur.hm", h, m)
	case m >= 10:
		return l.T("dur.m", m)
	case m > 0:
		return l.T("dur.ms", m, sec)
	}
	return l.T("dur.s", sec)
}

// Countdown formats the time until an opening to the second.
func (l Lang) Countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s%3600/60, s%60
	switch {
	case h > 0:
		return l.T("dur.hms", h, m, sec)
	case m > 0:
		return l.T("dur.ms", m, sec)
	}
	return l.T("dur.s", sec)
}

// PerMinute says how many people a line admits a minute, from the people
// ahead of someone and their expected wait (the rate their estimate uses):
// "1분에 약 600명", rounded as people say it (wait.js rounds alike).
func (l Lang) PerMinute(ahead uint64, eta time.Duration) string {
	if eta <= 0 {
		return l.T("wait.rate.stopped")
	}
	perMin := float64(ahead+1) / eta.Minutes()
	switch {
	case perMin < 1:
		return l.T("wait.rate.slow")
	case perMin >= 100:
		perMin = math.Round(perMin/10) * 10
	}
	if eta >= room.MaxETA {
		// An estimate at the cap stands for a wait at least that long, so
		// the rate read from it is only a ceiling.
		return l.T("wait.rate.at_most", l.Round(perMin))
	}
	return l.T("wait.rate.per_min", l.Round(perMin))
}

// jsTexts are the catalogue keys the waiting page's script needs, with
// {n}/{h}/{m}/{s} placeholders instead of fmt verbs.
func (l Lang) jsTexts() map[string]string {
	return map[string]string{
		"hm":           l.T("js.hm"),
		"hms":          l.T("js.hms"),
		"m":            l.T("js.m"),
		"ms":           l.T("js.ms"),
		"s":            l.T("js.s"),
		"people":       l.T("js.people"),
		"moved":        l.T("js.moved"),
		"rate":         l.T("js.rate"),
		"rateSlow":     l.T("wait.rate.slow"),
		"rateAtMost":   l.T("js.rate_at_most"),
		"rateStopped":  l.T("wait.rate.stopped"),
		"etaPaused":    l.T("wait.eta.paused"),
		"etaResume":    l.T("js.eta_resume"),
		"noticeResume": l.T("js.notice_resume"),
		"when":         l.T("js.when"),
		"weekdays":     l.T("js.weekdays"),
		"months":       l.T("js.months"),
		"unknown":      l.T("wait.eta.unknown"),
		"live":         l.T("wait.live"),
		"reconnecting": l.T("wait.reconnecting"),
		"unsure":       l.T("wait.unsure"),
		"checking":     l.T("wait.checking"),
		"recovered":    l.T("wait.recovered"),
		"soon":         l.T("wait.prequeue.soon"),
		"admitted":     l.T("wait.admitted.moving"),
	}
}
