package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// TestPagesReadTheRRNAsTheAPI: a registration number pasted whole into the
// first box, with any dash or blank booking.ParseRRN (the API) accepts,
// is read by the pages too rather than refused as "digits only" (the
// pages kept their own, shorter list: no minus sign, em dash, tab or
// no-break space).
func TestPagesReadTheRRNAsTheAPI(t *testing.T) {
	for _, in := range []string{"680101-1234561", "680101–1234561", "680101—1234561", "680101‐1234561",
		"680101−1234561", "680101－1234561", "６８０１０１－１２３４５６１", "\t680101-1234561\u00a0", "\ufeff680101\u3000-1234561"} {
		if _, err := booking.ParseRRN(in); err != nil {
			t.Fatalf("%q: the API refuses it: %v", in, err)
		}
		r, _ := http.NewRequest(http.MethodPost, "/book/verify", strings.NewReader(url.Values{"rrn1": {in}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		f := readRRN(r, LangKO)
		if f.problem != nil || f.rrn != "6801011234561" {
			t.Errorf("%q: the pages read %q (problem %+v)", in, f.rrn, f.problem)
		}
	}
}
