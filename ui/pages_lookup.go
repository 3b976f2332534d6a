// Citizen pages: look-up, change and cancel of a booking.

package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/internal/randid"
)

type lookupData struct {
	Name, Number string
	RRN          rrnForm
}

// GET /booking
func (p *Pages) lookupForm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "lookup.h1", "/booking")
	d := lookupData{}
	// A person verified in this browser who has a booking has their name
	// and booking number filled in; they type only the registration number.
	if sess, err := p.session(r); err == nil {
		if bk, err := p.Booking.BookingOf(r.Context(), sess.ID); err == nil {
			d.Name, d.Number = bk.Name, bk.Number
		}
	}
	pg.Scripts, pg.D = []string{"book.js"}, d
	p.render(w, http.StatusOK, "lookup", pg)
}

// POST /booking: look the booking up, remember the look-up for the change
// and cancel steps, show it.
func (p *Pages) lookupSubmit(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "lookup.h1", "/booking")
	name, number := r.PostFormValue("name"), r.PostFormValue("number")
	rrn := readRRN(r, pg.Lang)
	form := lookupData{Name: trimField(name, 100), Number: trimField(number, 40), RRN: rrn}
	pg.Scripts, pg.D = []string{"book.js"}, form
	if p.refusedRRN(w, pg, "lookup", rrn) || p.refusedAsBusy(w, r, pg, "lookup") {
		return
	}
	bk, err := p.Booking.Lookup(r.Context(), name, rrn.rrn, number)
	if err != nil {
		p.renderIdentityError(w, pg, "lookup", err)
		return
	}
	// The change and cancel steps act on a look-up grant: a token that
	// stands for name and RRN, kept by the service where every node finds
	// it. The RRN goes into no page and no cookie.
	tok, expires, err := p.Booking.GrantLookup(r.Context(), bk)
	if err != nil {
		p.renderFormError(w, pg, "lookup", err, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LookupCookie, Value: tok, Path: "/booking", MaxAge: int(expires.Sub(p.now()) / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/booking/view", http.StatusSeeOther)
}

// looked is the page (newPage) of a step on the request's recent look-up,
// with its look-up grant and its booking, read again (fresh status); if
// there is none it has answered the request itself and ok is false.
func (p *Pages) looked(w http.ResponseWriter, r *http.Request, titleKey, back string) (pg *page, ref booking.BookingRef, bk booking.Booking, ok bool) {
	pg = p.newPage(w, r, titleKey, back)
	if c, err := r.Cookie(LookupCookie); err == nil {
		ref.Grant = c.Value
	}
	bk, err := p.Booking.Granted(r.Context(), ref.Grant)
	switch {
	case errors.Is(err, booking.ErrLookupExpired):
		// The look-up form, under the error's status and sentence from
		// the table the API answers with; the form itself is the next step.
		pr, status := problemOf(pg.Lang, err, "/booking")
		pr.Link, pr.LinkText = "", ""
		pg.Title, pg.Problem = pg.T("lookup.h1"), pr
		pg.Scripts, pg.D = []string{"book.js"}, lookupData{}
		p.render(w, status, "lookup", pg)
		return pg, ref, bk, false
	case err != nil:
		pr, status := problemOf(pg.Lang, err, "/booking/change")
		pr.Link, pr.LinkText = "/booking", pg.T("next.lookup_again")
		p.renderMessage(w, status, pg, pg.T("view.h1"), pr)
		return pg, ref, bk, false
	}
	return pg, ref, bk, true
}

type bookingPage struct {
	H1, Text    string
	B           bookingView
	Actions     bool
	CalendarURL string
	// Idempotency is the cancel form's key (one per form rendered).
	Idempotency string
}

// GET /booking/view
func (p *Pages) lookupView(w http.ResponseWriter, r *http.Request) {
	pg, _, bk, ok := p.looked(w, r, "view.h1", "/booking")
	if !ok {
		return
	}
	pg.D = bookingPage{H1: pg.T("view.h1"), B: p.viewBooking(pg.Lang, bk), Actions: true, CalendarURL: "/booking/calendar.ics"}
	p.render(w, http.StatusOK, "booking", pg)
}

// GET /booking/calendar.ics: the looked-up booking as a calendar file.
func (p *Pages) lookupCalendar(w http.ResponseWriter, r *http.Request) {
	pg, _, bk, ok := p.looked(w, r, "view.h1", "/booking/view")
	if !ok {
		return
	}
	if bk.Status == booking.StatusCancelled {
		p.cannotChange(w, pg, p.viewBooking(pg.Lang, bk))
		return
	}
	p.serveCalendar(w, bk, pg.Lang)
}

// GET /booking/cancel: are you sure?
func (p *Pages) cancelConfirm(w http.ResponseWriter, r *http.Request) {
	pg, _, v, ok := p.changeable(w, r, "cancel.h1", "/booking/view")
	if !ok {
		return
	}
	pg.D = bookingPage{H1: pg.T("cancel.h1"), Text: pg.T("cancel.warn"), B: v, Idempotency: randid.New(18)}
	p.render(w, http.StatusOK, "cancel", pg)
}

// changeable is looked for a step that changes or cancels the booking: ok
// only if it may still be changed or cancelled online; otherwise it has
// answered (look up again, or why not).
func (p *Pages) changeable(w http.ResponseWriter, r *http.Request, titleKey, back string) (*page, booking.Booking, bookingView, bool) {
	pg, _, bk, ok := p.looked(w, r, titleKey, back)
	if !ok {
		return pg, booking.Booking{}, bookingView{}, false
	}
	v := p.viewBooking(pg.Lang, bk)
	if !v.CanChange {
		p.cannotChange(w, pg, v)
		return pg, booking.Booking{}, bookingView{}, false
	}
	return pg, bk, v, true
}

// cannotChange shows the booking with why it cannot be changed online.
func (p *Pages) cannotChange(w http.ResponseWriter, pg *page, v bookingView) {
	err := booking.ErrTooLate
	if v.Cancelled {
		err = booking.ErrCancelled
	}
	var status int
	pg.Problem, status = problemOf(pg.Lang, err, "")
	pg.Problem.Link = ""
	pg.D = bookingPage{H1: pg.T("view.h1"), B: v, Actions: true}
	p.render(w, status, "booking", pg)
}

// POST /booking/cancel
func (p *Pages) cancelSubmit(w http.ResponseWriter, r *http.Request) {
	pg, ref, _, ok := p.looked(w, r, "cancelled.h1", "/booking/view")
	if !ok {
		return
	}
	bk, err := p.Booking.Cancel(r.Context(), ref, idempotencyKey(r))
	if err != nil {
		p.renderError(w, pg, "view.cancel", err, "/booking/change")
		return
	}
	pg.D = bookingPage{H1: pg.T("cancelled.h1"), Text: pg.T("cancelled.text"), B: p.viewBooking(pg.Lang, bk)}
	p.render(w, http.StatusOK, "booking", pg)
}

// GET /booking/change: choose a new first-dose slot.
func (p *Pages) changeSearch(w http.ResponseWriter, r *http.Request) {
	pg, bk, v, ok := p.changeable(w, r, "change.h1", "/booking/view")
	if !ok {
		return
	}
	var vax []*booking.Vaccine
	if vx := p.Booking.Programme().Vaccine(bk.VaccineID); vx != nil {
		vax = append(vax, vx)
	}
	d := p.search(r, pg.Lang, vax, "/booking/change", "/booking/change/confirm", p.Booking.ChangeShareView(bk, pg.Now))
	d.H1 = pg.T("change.h1")
	d.Intro = pg.T("change.intro", v.Doses[0].Clinic+", "+v.Doses[0].When)
	pg.Scripts, pg.D = []string{"book.js"}, d
	p.render(w, http.StatusOK, "clinics", pg)
}

// GET /booking/change/confirm?clinic=&date=&block=
func (p *Pages) changeConfirm(w http.ResponseWriter, r *http.Request) {
	pg, bk, v, ok := p.changeable(w, r, "change.confirm.h1", "/booking/change")
	if !ok {
		return
	}
	q := r.URL.Query()
	q.Set("vaccine", bk.VaccineID)
	s, err := p.parseSlot(q, []string{bk.VaccineID})
	back := searchURL("/booking/change", s.clinic, q.Get("date"), "")
	if err != nil {
		p.renderError(w, pg, "change.confirm.h1", err, back)
		return
	}
	if share := p.Booking.ChangeShareView(bk, pg.Now); share != nil {
		s.free = s.sharedFree(share)
	}
	if s.free <= 0 && (booking.Slot{ClinicID: s.clinic.ID, Date: s.date, Block: s.block}) != bk.Dose1.Slot {
		p.renderError(w, pg, "change.confirm.h1", booking.ErrSlotFull, back)
		return
	}
	l := pg.Lang
	pg.D = confirmSlot(l, s, confirmData{
		H1: l.T("change.confirm.h1"), Action: "/booking/change", Submit: l.T("change.submit"), Back: back,
		Person: bk.Name, Vaccine: v.Vaccine, Old: v.Doses, VaccineID: bk.VaccineID,
		Idempotency: randid.New(18),
	})
	p.render(w, http.StatusOK, "confirm", pg)
}

// POST /booking/change
func (p *Pages) changeSubmit(w http.ResponseWriter, r *http.Request) {
	pg, ref, _, ok := p.looked(w, r, "changed.h1", "/booking/view")
	if !ok {
		return
	}
	s := p.postedSlot(r)
	back := searchURL("/booking/change", s.clinic, r.PostFormValue("date"), "")
	if !s.ok {
		p.renderError(w, pg, "change.confirm.h1", booking.ErrInvalidSlot, back)
		return
	}
	bk, err := p.Booking.Change(r.Context(), ref, booking.Slot{ClinicID: s.clinicID, Date: s.date, Block: s.block},
		idempotencyKey(r))
	if err != nil {
		p.renderError(w, pg, "change.confirm.h1", err, back)
		return
	}
	pg.D = bookingPage{H1: pg.T("changed.h1"), Text: pg.T("changed.text"), B: p.viewBooking(pg.Lang, bk), CalendarURL: "/booking/calendar.ics"}
	p.render(w, http.StatusOK, "booking", pg)
}
