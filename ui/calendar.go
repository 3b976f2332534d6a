// Citizen pages: a booking as a calendar file (iCalendar, RFC 5545), so
// that a person can keep both appointments in their phone's calendar.

package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/booking"
)

// icsStamp is an instant in UTC as iCalendar writes it.
const icsStamp = "20060102T150405Z"

// calendarFile is the iCalendar text of a booking: one event per dose, each
// with a reminder the day before.
func (p *Pages) calendarFile(l Lang, b booking.Booking, now time.Time) string {
	var w icsWriter
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//Sluice//Vaccination booking//" + strings.ToUpper(string(l)))
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	vaccine := b.VaccineID
	if v := p.Booking.Programme().Vaccine(b.VaccineID); v != nil {
		vaccine = l.Pick(v.Name, v.NameEN)
	}
	for _, a := range []booking.Appointment{b.Dose1, b.Dose2} {
		start := booking.BlockStart(a.Date, a.Block)
		clinic, address := "", ""
		if c, ok := p.Booking.Availability().Clinic(a.ClinicID); ok {
			clinic, address = l.Pick(c.Name, c.NameEN), l.Pick(c.Address, c.AddressEN)
		}
		w.line("BEGIN:VEVENT")
		w.line("UID:" + b.Number + "-" + strconv.Itoa(a.Dose) + "@sluice")
		w.line("DTSTAMP:" + now.UTC().Format(icsStamp))
		w.line("DTSTART:" + start.UTC().Format(icsStamp))
		w.line("DTEND:" + start.Add(time.Hour).UTC().Format(icsStamp))
		w.text("SUMMARY", l.T("ics.summary", a.Dose, vaccine, clinic))
		w.text("LOCATION", address)
		w.text("DESCRIPTION", l.T("ics.description", b.Number, l.Block(a.Block))+"\n"+l.T("done.bring")+"\n"+l.T("done.unwell"))
		w.line("BEGIN:VALARM")
		w.line("ACTION:DISPLAY")
		w.line("TRIGGER:-P1D")
		w.text("DESCRIPTION", l.T("ics.summary", a.Dose, vaccine, clinic))
		w.line("END:VALARM")
		w.line("END:VEVENT")
	}
	w.line("END:VCALENDAR")
	return w.b.String()
}

// icsWriter writes iCalendar content lines: CRLF endings, lines folded at
// 75 octets (never inside a UTF-8 sequence), text values escaped.
type icsWriter struct{ b strings.Builder }

func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.b.WriteString(s[:cut])
		w.b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // a continuation line starts with a space
	}
	w.b.WriteString(s)
	w.b.WriteString("\r\n")
}

// text writes a property with a TEXT value.
func (w *icsWriter) text(name, value string) {
	w.line(name + ":" + strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(value))
}

// serveCalendar answers a booking's calendar file as a download.
func (p *Pages) serveCalendar(w http.ResponseWriter, b booking.Booking, l Lang) {
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="vaccination-`+b.Number+`.ics"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte(p.calendarFile(l, b, p.now())))
}
