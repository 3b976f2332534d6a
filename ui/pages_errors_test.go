package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/web"
)

// TestPagesAndAPIAgree: for every booking error code the citizen pages
// answer with the status the JSON API answers with (web.BookingProblem),
// tell the person the same thing, and add a next step.
func TestPagesAndAPIAgree(t *testing.T) {
	errs := append(booking.Errors(), &booking.NotEligibleError{}, errors.New("disk on fire"), context.Canceled)
	for _, err := range errs {
		for _, e := range []error{err, fmt.Errorf("wrapped: %w", err)} {
			api := web.BookingProblem(e)
			t.Run(api.Code, func(t *testing.T) {
				for _, l := range []Lang{LangKO, LangEN} {
					pr, status := problemOf(l, e, "/book/clinics")
					if status != api.Status {
						t.Errorf("%v: the pages answer %d, the API %d", e, status, api.Status)
					}
					if want := l.Pick(api.DetailKO, api.Detail); pr.Text != want {
						t.Errorf("%v (%s): the pages say %q, the API %q", e, l, pr.Text, want)
					}
					if pr.Next == "" && pr.Link == "" {
						t.Errorf("%v (%s): no next step", e, l)
					}
					if pr.Link != "" && pr.LinkText == "" {
						t.Errorf("%v (%s): link %q without a text", e, l, pr.Link)
					}
				}
			})
		}
	}
}

// TestEveryCodeHasANextStep: a booking error code the pages do not word
// from the error itself has its entry in nextSteps (and no entry names a
// code booking does not have).
func TestEveryCodeHasANextStep(t *testing.T) {
	codes := map[string]bool{}
	for _, err := range booking.Errors() {
		code := booking.ErrorCode(err)
		codes[code] = true
		var ie *booking.InputError
		if _, ok := nextSteps[code]; !ok && !errors.As(err, &ie) && !errors.Is(err, booking.ErrNotEligible) && !isInputKind(err) {
			t.Errorf("booking error %q has no next step in nextSteps", code)
		}
	}
	for code := range nextSteps {
		if !codes[code] {
			t.Errorf("nextSteps names %q, which is no booking error code", code)
		}
	}
}

// isInputKind reports whether err is one of the kinds of bad input, which
// reach the pages as *InputError (with the field to fix).
func isInputKind(err error) bool {
	for _, k := range []error{booking.ErrRRNFormat, booking.ErrRRNSexDigit, booking.ErrRRNDate, booking.ErrRRNChecksum, booking.ErrPhone, booking.ErrName} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// TestPageStatuses: a few statuses spelled out (the API's, by design).
func TestPageStatuses(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{booking.ErrTooManyAttempts, http.StatusTooManyRequests},
		{booking.ErrPastDate, http.StatusUnprocessableEntity},
		{booking.ErrClinicNotFound, http.StatusNotFound},
	} {
		if _, status := problemOf(LangKO, tc.err, "/book/clinics"); status != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, status, tc.want)
		}
	}
}
