// Citizen pages: booking for someone else (대리예약), e.g. a child for a
// parent in the 50s rounds of 2021, where the campaign allows it.

package ui

import (
	"net/http"

	"github.com/sluicehq/sluice/booking"
)

// ProxyCookie carries, between the booking steps, the other person a
// verified person books for: a booking.Service ProxyToken (sealed for the
// booker's session, never the RRN in clear).
const ProxyCookie = "sluice_for"

// bookerSession is the verified person of a booking step and, while they
// book for someone else, that person.
type bookerSession struct {
	booking.Session
	proxyFor   *booking.PersonInput // nil: booking for themselves
	proxyToken string
}

// bookee is the name of the person being booked.
func (s bookerSession) bookee() string {
	if s.proxyFor != nil {
		return s.proxyFor.Name
	}
	return s.Name
}

type proxyData struct {
	Booker  string
	Name    string
	RRN     rrnForm
	Allowed []string // the cohorts that allow booking for someone else
	Phone   string   // the booker's phone, masked: where the confirmation goes
}

func (p *Pages) proxyFormData(l Lang, sess booking.Session) proxyData {
	d := proxyData{Booker: sess.Name, Phone: booking.MaskPhone(sess.Phone)}
	for _, c := range p.Booking.Programme().Campaigns() {
		for _, co := range c.Cohorts {
			if co.ProxyBooking {
				d.Allowed = append(d.Allowed, l.Pick(co.Name, co.NameEN))
			}
		}
	}
	return d
}

// GET /book/for: whom the verified person books for.
func (p *Pages) proxyForm(w http.ResponseWriter, r *http.Request) {
	pg, sess, ok := p.verifiedStep(w, r, "proxy.h1", "/book/for", 2)
	if !ok {
		return
	}
	pg.Scripts, pg.D = []string{"book.js"}, p.proxyFormData(pg.Lang, sess)
	p.render(w, http.StatusOK, "proxy", pg)
}

// POST /book/for: check the other person; book for them from now on.
func (p *Pages) proxySubmit(w http.ResponseWriter, r *http.Request) {
	pg, sess, ok := p.verifiedStep(w, r, "proxy.h1", "/book/for", 2)
	if !ok {
		return
	}
	d := p.proxyFormData(pg.Lang, sess)
	name := r.PostFormValue("name")
	rrn := readRRN(r, pg.Lang)
	d.Name, d.RRN = trimField(name, 100), rrn
	pg.Scripts, pg.D = []string{"book.js"}, d
	if p.refusedRRN(w, pg, "proxy", rrn) {
		return
	}
	token, _, err := p.Booking.StartProxy(r.Context(), sess.ID, booking.PersonInput{Name: name, RRN: rrn.rrn})
	if err != nil {
		p.renderFormError(w, pg, "proxy", err, "/book/for")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ProxyCookie, Value: token, Path: "/book", MaxAge: max(int(sess.ExpiresAt.Sub(p.now()).Seconds()), 1),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/book/clinics", http.StatusSeeOther)
}

// POST /book/for/end: book for oneself again.
func (p *Pages) proxyEnd(w http.ResponseWriter, r *http.Request) {
	clearProxy(w, r)
	http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
}

func clearProxy(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: ProxyCookie, Value: "", Path: "/book", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}
