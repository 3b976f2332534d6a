// Citizen pages, booking steps 1-2: identity verification and eligibility.

package ui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

type identityData struct {
	Name, Phone string
	RRN         rrnForm
	Verified    string // name of an already verified person, if any
	Example     bool
}

// rrnForm is a registration number as typed into a form's two boxes: the
// first six digits (the date of birth), shown as typed and filled back in
// when the form comes back, and the last seven, hidden as they are typed
// and never written into a page.
type rrnForm struct {
	// Front is the first box's digits (at most six) to fill back in.
	Front string
	// Cleared: the second box was filled and comes back empty.
	Cleared bool
	rrn     string   // the whole number, for booking.ParseRRN
	problem *problem // a box with the wrong number of digits
}

// readRRN reads the registration number of a form: the boxes rrn1 and
// rrn2, or (a client that sends it whole) rrn. It checks only what tells
// the boxes apart, the number of digits in each; booking.ParseRRN checks
// the number.
func readRRN(r *http.Request, l Lang) rrnForm {
	front, back := r.PostFormValue("rrn1"), r.PostFormValue("rrn2")
	if strings.TrimSpace(front) == "" && strings.TrimSpace(back) == "" {
		return rrnForm{rrn: r.PostFormValue("rrn")}
	}
	fd, fok := booking.RRNDigits(front)
	bd, bok := booking.RRNDigits(back)
	f := rrnForm{Front: fd[:min(len(fd), 6)], Cleared: back != ""}
	bad := func(field, key string, args ...any) rrnForm {
		f.problem = &problem{Text: l.T(key, args...), Next: l.T("next.fix"), Field: field}
		return f
	}
	switch {
	case !fok:
		return bad("rrn1", "rrn.digits_only")
	case !bok:
		return bad("rrn2", "rrn.digits_only")
	case len(fd) == 13 && bd == "": // all 13 pasted into the first box
		f.rrn = fd
	case fd == "":
		return bad("rrn1", "rrn.front_missing")
	case len(fd) != 6:
		return bad("rrn1", "rrn.front_count", len(fd))
	case bd == "":
		return bad("rrn2", "rrn.back_missing")
	case len(bd) != 7:
		return bad("rrn2", "rrn.back_count", len(bd))
	default:
		f.rrn = fd + bd
	}
	return f
}

// refusedRRN answers a form whose registration number readRRN refused:
// the form (pg.D) comes back with the box named, status 400.
func (p *Pages) refusedRRN(w http.ResponseWriter, pg *page, name string, rrn rrnForm) bool {
	if rrn.problem == nil {
		return false
	}
	pg.Problem = rrn.problem
	p.render(w, http.StatusBadRequest, name, pg)
	return true
}

// rrnField is the box a booking error about the registration number
// points at: the birth date is in the first, the rest in the second.
func rrnField(err error) string {
	if errors.Is(err, booking.ErrRRNDate) {
		return "rrn1"
	}
	return "rrn2"
}

// renderIdentityError shows the form page name again with err, the
// registration number's box marked when err is about it.
func (p *Pages) renderIdentityError(w http.ResponseWriter, pg *page, name string, err error) {
	pr, status := problemOf(pg.Lang, err, "")
	if pr.Field == "rrn" {
		pr.Field = rrnField(err)
	}
	pg.Problem = pr
	p.render(w, status, name, pg)
}

// session is the request's booking session: ErrSessionExpired without
// one (from the store, where every node finds it).
func (p *Pages) session(r *http.Request) (booking.Session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return booking.Session{}, booking.ErrSessionExpired
	}
	return p.Booking.Session(r.Context(), c.Value)
}

// verified returns the verified person of a step that needs one; without
// one it answers the request itself (verify first, or again, or try again
// when the database did not answer).
func (p *Pages) verified(w http.ResponseWriter, r *http.Request, pg *page) (booking.Session, bool) {
	sess, serr := p.session(r)
	if serr == nil {
		return sess, true
	}
	_, err := r.Cookie(SessionCookie)
	pr, status := problemOf(pg.Lang, serr, "")
	if err != nil {
		pr.Text = pg.T("error.session_missing")
	}
	p.renderMessage(w, status, pg, pg.T("verify.h1"), pr)
	return booking.Session{}, false
}

// verifiedStep is the page of a step of booking (step: its place in the
// progress bar) for the verified person of the request; without one it
// has answered (verified) and ok is false.
func (p *Pages) verifiedStep(w http.ResponseWriter, r *http.Request, titleKey, back string, step int) (*page, booking.Session, bool) {
	pg := p.newPage(w, r, titleKey, back)
	pg.Step = step
	sess, ok := p.verified(w, r, pg)
	return pg, sess, ok
}

// GET /book: the identity form.
func (p *Pages) bookStart(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "verify.h1", "/book")
	pg.Step = 1
	d := identityData{Example: p.Demo}
	if sess, err := p.session(r); err == nil {
		if r.URL.Query().Get("new") == "" {
			http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
			return
		}
		d.Verified = sess.Name
	}
	pg.Scripts = []string{"book.js"}
	pg.D = d
	p.render(w, http.StatusOK, "verify", pg)
}

type codeData struct {
	Challenge string
	To        string // masked phone
	Expires   time.Time
	DemoCode  string
}

// POST /book/verify: start the identity check, show the code form.
func (p *Pages) bookVerify(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "verify.h1", "/book")
	pg.Step = 1
	name, phone := r.PostFormValue("name"), r.PostFormValue("phone")
	rrn := readRRN(r, pg.Lang)
	form := identityData{Name: trimField(name, 100), Phone: trimField(phone, 40), RRN: rrn, Example: p.Demo}
	// The form comes back with what was typed but the last 7 digits.
	pg.Scripts, pg.D = []string{"book.js"}, form
	if p.refusedRRN(w, pg, "verify", rrn) || p.refusedAsBusy(w, r, pg, "verify") {
		return
	}
	v, err := p.Booking.StartVerification(r.Context(), name, rrn.rrn, phone)
	if err != nil {
		p.renderIdentityError(w, pg, "verify", err)
		return
	}
	digits, _ := booking.ParsePhone(phone)
	pg.Title = pg.T("code.h1")
	pg.Scripts, pg.D = nil, codeData{Challenge: v.ChallengeID, To: booking.MaskPhone(digits), Expires: v.ExpiresAt, DemoCode: v.DemoCode}
	p.render(w, http.StatusOK, "code", pg)
}

// POST /book/code: check the code, open the booking session.
func (p *Pages) bookCode(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "code.h1", "/book")
	pg.Step = 1
	d := codeData{
		Challenge: trimField(r.PostFormValue("challenge"), booking.MaxChallengeIDLen),
		To:        keepOnly(r.PostFormValue("to"), "0123456789*-", 20),
	}
	if t, err := time.Parse(time.RFC3339, r.PostFormValue("expires")); err == nil {
		d.Expires = t
	}
	if p.Demo {
		d.DemoCode = keepOnly(r.PostFormValue("demo_code"), "0123456789", 10)
	}
	sess, err := p.Booking.CompleteVerification(r.Context(), d.Challenge, r.PostFormValue("code"))
	if err != nil {
		if errors.Is(err, booking.ErrWrongCode) {
			pg.D = d
			p.renderFormError(w, pg, "code", err, "/book")
			return
		}
		// Start again from the identity form, which says why.
		pg.Title = pg.T("verify.h1")
		pg.Scripts, pg.D = []string{"book.js"}, identityData{Example: p.Demo}
		p.renderFormError(w, pg, "verify", err, "/book")
		return
	}
	maxAge := int(sess.ExpiresAt.Sub(p.now()).Seconds())
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.ID, Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
}

type eligibilityData struct {
	Name      string
	Cohort    string
	Eligible  bool
	Message   string
	OpensAt   *time.Time
	ClosesAt  *time.Time
	NoMoreKey string // see noMoreKey
	// Booked: the person has a booking already (B), which the page shows
	// instead of sending them to book again.
	Booked      bool
	B           bookingView
	CalendarURL string
	// Proxy: a cohort of the programme lets people book for someone else
	// (the link to /book/for).
	Proxy bool
}

// GET /book/eligibility
func (p *Pages) bookEligibility(w http.ResponseWriter, r *http.Request) {
	pg, sess, ok := p.verifiedStep(w, r, "elig.h1", "/book/eligibility", 2)
	if !ok {
		return
	}
	e := p.Booking.Programme().Eligibility(sess.BirthDate, pg.Now)
	d := eligibilityData{Name: sess.Name, Eligible: e.Eligible, Message: pg.Lang.Pick(e.Message, e.MessageEN),
		OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMoreKey: noMoreKey(e)}
	if e.Cohort != nil {
		d.Cohort = pg.Lang.Pick(e.Cohort.Name, e.Cohort.NameEN)
	}
	d.Proxy = len(p.proxyFormData(pg.Lang, sess).Allowed) > 0
	// Back here, the person books for themselves again.
	clearProxy(w, r)
	// Someone who booked already is told so here, at once, not at the last
	// step. One read of their own booking per visit of this page (not on
	// the clinic search, which must not touch the database).
	switch bk, err := p.Booking.BookingOf(r.Context(), sess.ID); {
	case err == nil:
		d.Booked, d.B, d.CalendarURL = true, p.viewBooking(pg.Lang, bk), "/book/calendar.ics"
		pg.Step, pg.Title = 5, pg.T("view.h1")
	case !errors.Is(err, booking.ErrNotFound):
		p.Server.Log.Warn("eligibility page: reading the person's booking", "err", err)
	}
	pg.D = d
	p.render(w, http.StatusOK, "eligibility", pg)
}

// eligibleStep is verifiedStep for a step that books someone: with the
// eligibility of the person being booked, the verified person's own, or,
// while they book for someone else (ProxyCookie), that person's (then
// sess.ProxyFor names them). If that person may not book now it answers
// the request itself and ok is false.
func (p *Pages) eligibleStep(w http.ResponseWriter, r *http.Request, titleKey, back string, step int) (*page, bookerSession, booking.Eligibility, bool) {
	pg, sess, ok := p.verifiedStep(w, r, titleKey, back, step)
	if !ok {
		return pg, bookerSession{}, booking.Eligibility{}, false
	}
	bs := bookerSession{Session: sess}
	if c, err := r.Cookie(ProxyCookie); err == nil && c.Value != "" {
		in, e, err := p.Booking.OpenProxy(r.Context(), sess.ID, c.Value)
		if err == nil {
			bs.proxyFor, bs.proxyToken = &in, c.Value
			if !e.Eligible {
				http.Redirect(w, r, "/book/for", http.StatusSeeOther)
				return pg, bs, e, false
			}
			return pg, bs, e, true
		}
	}
	e := p.Booking.Programme().Eligibility(sess.BirthDate, pg.Now)
	if !e.Eligible {
		http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
		return pg, bs, e, false
	}
	return pg, bs, e, true
}
