// Citizen pages: what to tell a person when a booking step fails, and what
// to do next.

package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/web"
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

// problemOf turns a booking error into what to tell the person and the
// HTTP status. Both come from web.BookingProblem, the table the JSON API
// answers with, so that the pages and the API never disagree; the pages add
// only the next step (nextSteps). search is where to choose another time.
func problemOf(l Lang, err error, search string) (*problem, int) {
	bp := web.BookingProblem(err)
	pr := &problem{Text: l.Pick(bp.DetailKO, bp.Detail)}
	var ie *booking.InputError
	var ne *booking.NotEligibleError
	var wc *booking.WrongCodeError
	switch {
	case errors.As(err, &ie):
		pr.Field, pr.Next = ie.Field, l.T("next.fix")
	case errors.As(err, &ne):
		if e := ne.Eligibility; e.WindowOpensAt != nil {
			pr.Next = l.T("check.opens", l.When(*e.WindowOpensAt)) + " " + l.T("check.come_back")
		} else {
			pr.Next = l.T(noMoreKey(e))
		}
		pr.Link, pr.LinkText = "/", l.T("next.home")
	case errors.As(err, &wc):
		pr.Field, pr.Next = "code", l.T("next.tries_left", wc.TriesLeft)
	default:
		step, ok := nextSteps[bp.Code]
		if !ok {
			step = nextStep{next: "next.retry"}
		}
		pr.Field = step.field
		if step.next != "" {
			pr.Next = l.T(step.next)
		}
		if step.linkText != "" {
			pr.Link, pr.LinkText = step.link, l.T(step.linkText)
			if pr.Link == "" {
				pr.Link = search
			}
		}
	}
	return pr, bp.Status
}

// nextStep is what the pages add to a booking error of one code: a
// sentence (a catalogue key), a link (empty: the search page the caller
// names) with its text, and the form field the error is about.
type nextStep struct {
	next, link, linkText, field string
}

// nextSteps gives every booking error code its next step, except those
// the person fixes in the form (input errors), refusals on eligibility and
// wrong codes, which problemOf words from the error itself. TestEveryCodeHasANextStep
// fails for a code without one.
var nextSteps = func() map[string]nextStep {
	m := map[string]nextStep{}
	for _, g := range []struct {
		step  nextStep
		codes []string
	}{
		{nextStep{linkText: "next.search"}, []string{"slot_full", "no_second_dose", "past_date", "clinic_closed",
			"beyond_horizon", "vaccine_not_offered", "invalid_slot", "clinic_not_found", "idempotency_key_reused", "leftover_gone"}},
		{nextStep{link: "/book", linkText: "next.verify"}, []string{"session_expired"}},
		{nextStep{link: "/book", linkText: "next.newcode"}, []string{"challenge_expired", "too_many_attempts"}},
		{nextStep{next: "next.fix", field: "code"}, []string{"wrong_code"}},
		{nextStep{link: "/", linkText: "wait.home"}, []string{"session_held"}},
		{nextStep{link: "/booking", linkText: "next.lookup"}, []string{"already_booked"}},
		{nextStep{link: "/", linkText: "next.home"}, []string{"supply_exhausted", "proxy_not_allowed", "proxy_self"}},
		{nextStep{link: "/booking", linkText: "next.lookup_again"}, []string{"lookup_expired"}},
		{nextStep{link: "/booking/view", linkText: "back.view"}, []string{"too_late", "cancelled"}},
		{nextStep{next: "next.lookup_check", link: "/book", linkText: "next.find_by_identity"}, []string{"booking_not_found"}},
		{nextStep{next: "next.wait"}, []string{"unavailable"}},
		{nextStep{next: "next.retry"}, []string{"invalid_request"}},
		{nextStep{next: "next.fix", field: "token"}, []string{"clinic_token_invalid"}},
	} {
		for _, code := range g.codes {
			m[code] = g.step
		}
	}
	return m
}()
