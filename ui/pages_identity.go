// Citizen pages, booking steps 1-2: identity verification and eligibility.

package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/booking"
)

type identityData struct {
	Name, Phone string
	Verified    string // name of an already verified person, if any
	Example     bool
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
	name, rrn, phone := r.PostFormValue("name"), r.PostFormValue("rrn"), r.PostFormValue("phone")
	form := identityData{Name: trimField(name, 100), Phone: trimField(phone, 40), Example: p.Demo}
	// The form comes back with name and phone, never the RRN.
	pg.Scripts, pg.D = []string{"book.js"}, form
	if p.refusedAsBusy(w, r, pg, "verify") {
		return
	}
	v, err := p.Booking.StartVerification(r.Context(), name, rrn, phone)
	if err != nil {
		p.renderFormError(w, pg, "verify", err, "/book")
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
	Name     string
	Cohort   string
	Eligible bool
	Message  string
	OpensAt  *time.Time
	ClosesAt *time.Time
	NoMore   bool
}

// GET /book/eligibility
func (p *Pages) bookEligibility(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "elig.h1", "/book/eligibility")
	pg.Step = 2
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return
	}
	e := p.Booking.Campaign().Eligibility(sess.BirthDate, pg.Now)
	d := eligibilityData{Name: sess.Name, Eligible: e.Eligible, Message: pg.Lang.Pick(e.Message, e.MessageEN),
		OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMore: !e.Eligible && e.WindowOpensAt == nil}
	if e.Cohort != nil {
		d.Cohort = pg.Lang.Pick(e.Cohort.Name, e.Cohort.NameEN)
	}
	pg.D = d
	p.render(w, http.StatusOK, "eligibility", pg)
}

// eligibleSession returns the verified, eligible person of a booking step,
// or answers the request itself.
func (p *Pages) eligibleSession(w http.ResponseWriter, r *http.Request, pg *page) (booking.Session, booking.Eligibility, bool) {
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return sess, booking.Eligibility{}, false
	}
	e := p.Booking.Campaign().Eligibility(sess.BirthDate, pg.Now)
	if !e.Eligible {
		http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
		return sess, e, false
	}
	return sess, e, true
}
