// Citizen pages, booking steps 4-5: confirm and book.

package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/internal/randid"
)

type doseRow struct {
	Label   string
	Clinic  string
	Address string
	When    string
	Note    string
}

type confirmData struct {
	H1, Intro   string
	Action      string
	Submit      string
	Back        string
	Person      string
	ProxyFor    string // "booking for X (booked by Y)", when booking for someone else
	Vaccine     string
	Old         []doseRow // change: the booking as it is
	Doses       []doseRow
	Free        int
	ClinicID    int64
	Date        string
	Block       int
	VaccineID   string
	Idempotency string
}

// slotChoice is a first-dose slot chosen on a search page, checked against
// the clinic data and the index.
type slotChoice struct {
	clinic  *booking.Clinic
	date    booking.Date
	block   booking.TimeBlock
	vaccine *booking.Vaccine
	free    int
}

// sharedFree is the slot's free places lowered to what is left of the
// person's share (booking.Service.ShareView, ChangeShareView).
func (s slotChoice) sharedFree(share func(*booking.ClinicAvailability)) int {
	ca := booking.ClinicAvailability{Clinic: s.clinic, DayAvailability: booking.DayAvailability{Date: s.date}}
	ca.Free[s.block] = s.free
	share(&ca)
	return ca.Free[s.block]
}

func (p *Pages) parseSlot(v url.Values, vaccineIDs []string) (slotChoice, error) {
	var s slotChoice
	// An id that is not a number names no clinic, as in the API.
	id, _ := strconv.ParseInt(v.Get("clinic"), 10, 64)
	c, ok := p.Booking.Availability().Clinic(id)
	if !ok {
		return s, booking.ErrClinicNotFound
	}
	s.clinic = c
	var err error
	if s.date, err = booking.ParseDate(v.Get("date")); err != nil {
		return s, booking.ErrInvalidSlot
	}
	b, err := strconv.Atoi(v.Get("block"))
	if err != nil || b < 0 || b >= booking.BlocksPerDay {
		return s, booking.ErrInvalidSlot
	}
	s.block = booking.TimeBlock(b)
	want := v.Get("vaccine")
	for _, id := range vaccineIDs {
		if (want == "" || want == id) && c.Offers(id) {
			s.vaccine = p.Booking.Programme().Vaccine(id)
			break
		}
	}
	if s.vaccine == nil {
		return s, booking.ErrVaccineNotOffered
	}
	s.free = p.Booking.Availability().Free(booking.Slot{ClinicID: c.ID, Date: s.date, Block: s.block})
	return s, nil
}

// postedSlot is the first-dose slot a confirmation form sends back.
type postedSlot struct {
	clinicID int64
	clinic   *booking.Clinic // nil: no such clinic
	date     booking.Date
	block    booking.TimeBlock
	ok       bool // date and block parse
}

func (p *Pages) postedSlot(r *http.Request) postedSlot {
	var s postedSlot
	s.clinicID, _ = strconv.ParseInt(r.PostFormValue("clinic"), 10, 64)
	if c, ok := p.Booking.Availability().Clinic(s.clinicID); ok {
		s.clinic = c
	}
	date, derr := booking.ParseDate(r.PostFormValue("date"))
	block, berr := strconv.Atoi(r.PostFormValue("block"))
	s.date, s.block, s.ok = date, booking.TimeBlock(block), derr == nil && berr == nil
	return s
}

// confirmSlot fills in the chosen slot of a confirmation page: both doses
// (the second one's date to be set on booking) and the form's fields.
func confirmSlot(l Lang, s slotChoice, d confirmData) confirmData {
	clinic := l.Pick(s.clinic.Name, s.clinic.NameEN)
	dose2 := doseRow{Label: l.T("confirm.dose2"), Clinic: clinic, When: l.T("confirm.dose2.auto")}
	if dates := s.vaccine.SecondDoseDates(s.date); len(dates) > 0 {
		dose2.Note = l.T("confirm.dose2.hint", l.Date(dates[0]))
	}
	d.Doses = []doseRow{
		{Label: l.T("confirm.dose1"), Clinic: clinic, Address: l.Pick(s.clinic.Address, s.clinic.AddressEN), When: l.Date(s.date) + " " + l.Block(s.block)},
		dose2,
	}
	d.Free, d.ClinicID, d.Date, d.Block = s.free, s.clinic.ID, s.date.String(), int(s.block)
	return d
}

func cohortVaccineIDs(c *booking.Campaign, co *booking.Cohort) []string {
	var ids []string
	for _, v := range c.VaccinesFor(co) {
		ids = append(ids, v.ID)
	}
	return ids
}

// GET /book/confirm?clinic=&date=&block=&vaccine=
func (p *Pages) bookConfirm(w http.ResponseWriter, r *http.Request) {
	pg, sess, e, ok := p.eligibleStep(w, r, "confirm.h1", "/book/clinics", 4)
	if !ok {
		return
	}
	q := r.URL.Query()
	s, err := p.parseSlot(q, cohortVaccineIDs(e.Campaign, e.Cohort))
	back := searchURL("/book/clinics", s.clinic, q.Get("date"), q.Get("vaccine"))
	if err != nil {
		p.renderError(w, pg, "confirm.h1", err, back)
		return
	}
	if share := p.Booking.ShareView(e, pg.Now); share != nil {
		s.free = s.sharedFree(share)
	}
	if s.free <= 0 {
		p.renderError(w, pg, "confirm.h1", booking.ErrSlotFull, back)
		return
	}
	l := pg.Lang
	pg.D = confirmSlot(l, s, confirmData{
		H1: l.T("confirm.h1"), Intro: l.T("confirm.intro"), Action: "/book", Submit: l.T("confirm.submit"), Back: back,
		Person: sess.bookee(), Vaccine: l.Pick(s.vaccine.Name, s.vaccine.NameEN), VaccineID: s.vaccine.ID,
		Idempotency: randid.New(18), ProxyFor: proxyNote(l, sess),
	})
	p.render(w, http.StatusOK, "confirm", pg)
}

type bookingView struct {
	Number      string
	Cancelled   bool
	Name        string
	Phone       string
	Vaccine     string
	Doses       []doseRow
	ChangeUntil string
	CanChange   bool
}

func (p *Pages) viewBooking(l Lang, b booking.Booking) bookingView {
	v := bookingView{Number: b.Number, Cancelled: b.Status == booking.StatusCancelled, Name: b.Name, Phone: booking.MaskPhone(b.Phone)}
	if vx := p.Booking.Programme().Vaccine(b.VaccineID); vx != nil {
		v.Vaccine = l.Pick(vx.Name, vx.NameEN)
	}
	for _, a := range []booking.Appointment{b.Dose1, b.Dose2} {
		label := l.T("confirm.dose1")
		if a.Dose == 2 {
			label = l.T("confirm.dose2")
		}
		row := doseRow{Label: label, When: l.Date(a.Date) + " " + l.Block(a.Block)}
		if c, ok := p.Booking.Availability().Clinic(a.ClinicID); ok {
			row.Clinic, row.Address = l.Pick(c.Name, c.NameEN), l.Pick(c.Address, c.AddressEN)
		}
		v.Doses = append(v.Doses, row)
	}
	if !v.Cancelled {
		now := p.now()
		if dl, ok := booking.ChangeDeadline(b, now); ok && now.Before(dl) {
			v.ChangeUntil, v.CanChange = l.When(dl.Add(-time.Minute)), true
		}
	}
	return v
}

type doneData struct {
	B           bookingView
	LeaveTo     string
	CalendarURL string
}

// POST /book: book (once, whatever the number of submits: the form's
// idempotency key), then show the booking number and both doses.
func (p *Pages) bookSubmit(w http.ResponseWriter, r *http.Request) {
	pg, sess, ok := p.verifiedStep(w, r, "done.h1", "/book/clinics", 4)
	if !ok {
		return
	}
	s := p.postedSlot(r)
	back := searchURL("/book/clinics", s.clinic, r.PostFormValue("date"), r.PostFormValue("vaccine"))
	if !s.ok {
		p.renderError(w, pg, "confirm.h1", booking.ErrInvalidSlot, back)
		return
	}
	// The service says whether the clinic exists (ErrClinicNotFound).
	in := booking.BookInput{
		SessionID: sess.ID, ClinicID: s.clinicID, Date: s.date, Block: s.block,
		VaccineID: r.PostFormValue("vaccine"), IdempotencyKey: idempotencyKey(r),
	}
	if c, err := r.Cookie(ProxyCookie); err == nil && c.Value != "" {
		// Booking for someone else: the person the cookie names, or
		// nobody if it no longer opens (never the booker by mistake).
		other, _, err := p.Booking.OpenProxy(r.Context(), sess.ID, c.Value)
		if err != nil {
			clearProxy(w, r)
			p.renderError(w, pg, "confirm.h1", err, "/book/for")
			return
		}
		in.ForPerson = &other
	}
	_, err := p.Booking.Book(r.Context(), in)
	if err != nil {
		p.renderError(w, pg, "confirm.h1", err, back)
		return
	}
	// The done page has its own address: it can be reloaded, bookmarked
	// and come back to (a form's answer cannot).
	http.Redirect(w, r, "/book/done", http.StatusSeeOther)
}

// ownBooking returns the booking of the verified person of the request,
// or answers the request itself: no session, or no booking (then the
// eligibility page says what they may do).
func (p *Pages) ownBooking(w http.ResponseWriter, r *http.Request, pg *page) (booking.Booking, bool) {
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return booking.Booking{}, false
	}
	var bk booking.Booking
	var err error
	if c, cerr := r.Cookie(ProxyCookie); cerr == nil && c.Value != "" {
		bk, err = p.Booking.ProxyBookingOf(r.Context(), sess.ID, c.Value)
	} else {
		bk, err = p.Booking.BookingOf(r.Context(), sess.ID)
	}
	switch {
	case errors.Is(err, booking.ErrNotFound):
		http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
		return bk, false
	case err != nil:
		p.renderError(w, pg, "done.h1", err, "/book/clinics")
		return bk, false
	}
	return bk, true
}

// GET /book/done: the verified person's booking, after booking.
func (p *Pages) bookDone(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "done.h1", "/book/done")
	pg.Step = 5
	bk, ok := p.ownBooking(w, r, pg)
	if !ok {
		return
	}
	pg.D = doneData{B: p.viewBooking(pg.Lang, bk), LeaveTo: "/wait/" + p.Room + "/leave", CalendarURL: "/book/calendar.ics"}
	p.render(w, http.StatusOK, "done", pg)
}

// GET /book/calendar.ics: the verified person's booking as a calendar file.
func (p *Pages) bookCalendar(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "done.h1", "/book/done")
	if bk, ok := p.ownBooking(w, r, pg); ok {
		p.serveCalendar(w, bk, pg.Lang)
	}
}

// proxyNote says whom the booker books for, "" when for themselves.
func proxyNote(l Lang, sess bookerSession) string {
	if sess.proxyFor == nil {
		return ""
	}
	return l.T("proxy.for", sess.proxyFor.Name, sess.Name)
}
