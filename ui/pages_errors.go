// Citizen pages: what to tell a person when a booking step fails, and what
// to do next.

package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// problem is an error shown to a person: what went wrong and what to do
// next.
type problem struct {
	Text     string
	Next     string
	Link     string
	LinkText string
	Field    string // the form field it is about ("name", "rrn", ...)
}

// renderError shows what went wrong with a booking step under the heading
// h1Key, with the next step; search is where to choose another time.
func (p *Pages) renderError(w http.ResponseWriter, pg *page, h1Key string, err error, search string) {
	pr, status := problemOf(pg.Lang, err, search)
	p.renderMessage(w, status, pg, pg.T(h1Key), pr)
}

// renderFormError shows the form page name again (pg.D holds what the
// person typed) with what went wrong; search is where to choose another
// time.
func (p *Pages) renderFormError(w http.ResponseWriter, pg *page, name string, err error, search string) {
	var status int
	pg.Problem, status = problemOf(pg.Lang, err, search)
	p.render(w, status, name, pg)
}

// renderSlotInvalid answers a confirmation step whose clinic, date or time
// does not parse, with the way back to the search.
func (p *Pages) renderSlotInvalid(w http.ResponseWriter, pg *page, h1Key, back string) {
	p.renderMessage(w, http.StatusBadRequest, pg, pg.T(h1Key), &problem{Text: pg.T("error.slot_invalid"), Link: back, LinkText: pg.T("next.search")})
}

// refusedAsBusy answers a form that starts expensive work (a text message,
// a look-up) with the form page again, saying when to try again, if the
// join limiter refuses the request; pg.D already holds the form.
func (p *Pages) refusedAsBusy(w http.ResponseWriter, r *http.Request, pg *page, name string) bool {
	ok, wait := p.Server.AllowJoin(r)
	if ok {
		return false
	}
	pg.Problem = &problem{Text: pg.T("error.busy", int(wait/time.Second)+1), Next: pg.T("next.wait")}
	p.render(w, http.StatusTooManyRequests, name, pg)
	return true
}

// problemOf turns a booking error into what to tell the person, with the
// next step, and the HTTP status. search is where to choose another time.
func problemOf(l Lang, err error, search string) (*problem, int) {
	ko, en := booking.ErrorMessage(err)
	pr := &problem{Text: l.Pick(ko, en)}
	var ie *booking.InputError
	var ne *booking.NotEligibleError
	switch {
	case errors.As(err, &ie):
		pr.Field, pr.Next = ie.Field, l.T("next.fix")
		return pr, http.StatusBadRequest
	case errors.As(err, &ne):
		if e := ne.Eligibility; e.WindowOpensAt != nil {
			pr.Next = l.T("check.opens", l.When(*e.WindowOpensAt)) + " " + l.T("check.come_back")
		} else {
			pr.Next = l.T("check.none_next")
		}
		pr.Link, pr.LinkText = "/", l.T("next.home")
		return pr, http.StatusForbidden
	case errors.Is(err, booking.ErrSessionExpired):
		pr.Link, pr.LinkText = "/book", l.T("next.verify")
		return pr, http.StatusUnauthorized
	case errors.Is(err, booking.ErrWrongCode):
		pr.Field, pr.Next = "code", l.T("next.fix")
		return pr, http.StatusBadRequest
	case errors.Is(err, booking.ErrChallengeExpired), errors.Is(err, booking.ErrTooManyAttempts):
		pr.Link, pr.LinkText = "/book", l.T("next.newcode")
		return pr, http.StatusGone
	case errors.Is(err, booking.ErrSessionHeld):
		pr.Link, pr.LinkText = "/", l.T("wait.home")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrSlotFull), errors.Is(err, booking.ErrNoSecondDose), errors.Is(err, booking.ErrPastDate),
		errors.Is(err, booking.ErrClinicClosed), errors.Is(err, booking.ErrBeyondHorizon), errors.Is(err, booking.ErrVaccineNotOffered),
		errors.Is(err, booking.ErrInvalidSlot), errors.Is(err, booking.ErrClinicNotFound), errors.Is(err, booking.ErrIdempotencyReuse):
		pr.Link, pr.LinkText = search, l.T("next.search")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrAlreadyBooked):
		pr.Link, pr.LinkText = "/booking", l.T("next.lookup")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrSupplyExhausted), errors.Is(err, booking.ErrProxyNotAllowed):
		pr.Link, pr.LinkText = "/", l.T("next.home")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrTooLate):
		pr.Link, pr.LinkText = "/booking/view", l.T("back.view")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrCancelled):
		pr.Link, pr.LinkText = "/booking/view", l.T("back.view")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrNotFound):
		pr.Next = l.T("next.fix")
		return pr, http.StatusNotFound
	case errors.Is(err, booking.ErrOverloaded):
		pr.Next = l.T("next.wait")
		return pr, http.StatusServiceUnavailable
	}
	pr.Text, pr.Next = l.T("error.generic"), l.T("next.retry")
	return pr, http.StatusInternalServerError
}
