package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

// TestBookingStatusesCoverEveryCode: every booking error has a status in
// the one table, the table names no code booking does not have, and
// BookingProblem answers each error with its code, status and sentences.
func TestBookingStatusesCoverEveryCode(t *testing.T) {
	codes := map[string]bool{}
	for _, err := range booking.Errors() {
		code := booking.ErrorCode(err)
		codes[code] = true
		t.Run(code, func(t *testing.T) {
			status, ok := bookingStatuses[code]
			if !ok {
				t.Fatalf("booking error %q (%v) has no HTTP status in bookingStatuses", code, err)
			}
			if status < 400 || status > 599 {
				t.Fatalf("status %d is not an error status", status)
			}
			for _, e := range []error{err, fmt.Errorf("wrapped: %w", err)} {
				p := BookingProblem(e)
				if p.Status != status || p.Code != code || p.Detail == "" || p.DetailKO == "" {
					t.Errorf("BookingProblem(%v) = %+v, want status %d code %q with sentences", e, p, status, code)
				}
			}
		})
	}
	for code := range bookingStatuses {
		if !codes[code] {
			t.Errorf("bookingStatuses maps %q, which is no booking error code", code)
		}
	}
}

func TestBookingProblemDetails(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-07-50s")
	if err != nil {
		t.Fatal(err)
	}
	e := c.Eligibility(booking.Date{Year: 1971, Month: 1, Day: 1}, time.Date(2021, 7, 19, 21, 0, 0, 0, booking.Seoul))
	_, rrnErr := booking.ParseRRN("680132-1234561")
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		extraKey   string
		extraValue string
	}{
		{"not eligible carries the eligibility", &booking.NotEligibleError{Eligibility: e}, 403, "not_eligible", "eligibility", ""},
		{"input error carries the field", rrnErr, 400, "rrn_date", "field", "rrn"},
		{"cancelled request", fmt.Errorf("store: %w", context.Canceled), 503, "unavailable", "", ""},
		{"timed-out request", context.DeadlineExceeded, 503, "unavailable", "", ""},
		{"database unavailable", fmt.Errorf("postgres: book: %w: dial tcp: connection refused", booking.ErrUnavailable), 503, "unavailable", "", ""},
		{"already booked tells the number", &booking.AlreadyBookedError{Booking: booking.Booking{Number: "SLC-AAAA-BBBB"}}, 409, "already_booked", "booking_number", "SLC-AAAA-BBBB"},
		{"anything else", errors.New("disk on fire"), 500, "internal", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteProblem(w, BookingProblem(tc.err))
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || doc["code"] != tc.code || doc["detail"] == "" {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			if ra := w.Header().Get("Retry-After"); (tc.status == 503) != (ra != "") {
				t.Errorf("status %d with Retry-After %q: a 503, and only a 503, says when to come back", w.Code, ra)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.extraKey != "" {
				v, ok := doc[tc.extraKey]
				if !ok || tc.extraValue != "" && v != tc.extraValue {
					t.Errorf("%s = %v, want %q", tc.extraKey, v, tc.extraValue)
				}
			}
			if b := w.Body.String(); tc.status == 500 && (strings.Contains(b, "disk") || strings.Contains(b, "fire")) {
				t.Errorf("an internal error leaked into the answer: %s", b)
			}
		})
	}
}

func TestRoomProblems(t *testing.T) {
	opens := time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		err      error
		status   int
		code     string
		internal bool
	}{
		{room.ErrNotYetOpen, http.StatusForbidden, "room_not_open", false},
		{room.ErrRoomClosed, http.StatusGone, "room_closed", false},
		{room.ErrTurnOver, http.StatusGone, "turn_over", false},
		{fmt.Errorf("save: %w", room.ErrPersist), http.StatusServiceUnavailable, "unavailable", false},
		{errors.New("bug"), http.StatusInternalServerError, "internal", true},
	}
	for _, tc := range tests {
		p, internal := roomProblem(tc.err, opens)
		if p.Status != tc.status || p.Code != tc.code || internal != tc.internal || p.Detail == "" {
			t.Errorf("roomProblem(%v) = %+v, %v", tc.err, p, internal)
		}
	}
	for _, tc := range []struct {
		err  error
		code string
	}{
		{room.ErrWrongRoom, "ticket_wrong_room"},
		{room.ErrWrongKind, "ticket_wrong_kind"},
		{room.ErrUnknownKey, "ticket_unknown_key"},
		{errors.New("forged"), "ticket_invalid"},
	} {
		if p := ticketProblem(tc.err); p.Status != http.StatusUnauthorized || p.Code != tc.code {
			t.Errorf("ticketProblem(%v) = %+v", tc.err, p)
		}
	}
}
