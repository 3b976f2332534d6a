// Package web is Sluice's HTTP layer: the published JSON API, the admin API,
// the gate and reverse proxy wiring, health and metrics endpoints and the
// waiting page. Domain logic lives in room/ and booking/; this package maps
// it to HTTP. Every domain error is mapped to its status and problem
// document in this file: the room's errors in roomProblem and
// ticketProblem, the booking's in bookingStatuses (BookingProblem), which
// the citizen pages use too.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Detail   string `json:"detail,omitempty"`
	DetailKO string `json:"detail_ko,omitempty"`
	// Extra members (e.g. opens_at, booking_number).
	Extra map[string]any `json:"-"`
	// RetryAfter, if not zero, is sent as the Retry-After header (whole
	// seconds, rounded up): when to ask again.
	RetryAfter time.Duration `json:"-"`
}

func (p Problem) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code,
	}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.DetailKO != "" {
		m["detail_ko"] = p.DetailKO
	}
	for k, v := range p.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// WriteProblem writes a problem+json response.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "https://sluice.dev/problems/" + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil {
		b = []byte(`{"type":"about:blank","status":500,"title":"Internal Server Error"}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(p.Status)
	w.Write(b)
}

func problem(w http.ResponseWriter, status int, code, detail, detailKO string) {
	WriteProblem(w, Problem{Status: status, Code: code, Detail: detail, DetailKO: detailKO})
}

// --- the waiting room's errors -------------------------------------------------

// FinalTicketError reports whether a ticket's verification error is final:
// a fact about the ticket itself (damaged, forged, another room's, not a
// ticket) that no other node and no later try can change, so that a
// client may forget the ticket. A ticket signed with a key this node does
// not know (ErrUnknownKey) is not: a node configured without the newest
// key says so of valid tickets. The API's codes of final answers are
// ticket_invalid, ticket_wrong_room and ticket_wrong_kind (docs/API.md).
func FinalTicketError(err error) bool {
	return err != nil && !errors.Is(err, room.ErrUnknownKey)
}

// ticketProblem is the answer to a ticket that does not verify.
func ticketProblem(err error) Problem {
	p := Problem{Status: http.StatusUnauthorized}
	switch {
	case errors.Is(err, room.ErrWrongRoom):
		p.Code, p.Detail, p.DetailKO = "ticket_wrong_room", "This ticket belongs to another waiting room.", "다른 대기실의 대기표입니다."
	case errors.Is(err, room.ErrWrongKind):
		p.Code, p.Detail, p.DetailKO = "ticket_wrong_kind", "That is a pass, not a ticket.", "대기표가 아닙니다."
	case errors.Is(err, room.ErrUnknownKey):
		p.Code, p.Detail, p.DetailKO = "ticket_unknown_key", "This ticket was signed with a key this server no longer accepts. Join the line again.", "더 이상 유효하지 않은 대기표입니다. 다시 참여하세요."
	default:
		p.Code, p.Detail, p.DetailKO = "ticket_invalid", "The ticket is not valid (damaged or forged). Join the line again without it.", "유효하지 않은 대기표입니다. 다시 참여하세요."
	}
	return p
}

// roomProblem is the answer to an error of Room.Join or Room.Status;
// opensAt is the room's opening (st.OpensAt). internal reports an error
// that is none of the room's (the caller logs it). A 503 asks the client to
// come back after RetryUnavailable (the caller sets RetryAfter).
func roomProblem(err error, opensAt time.Time) (p Problem, internal bool) {
	switch {
	case errors.Is(err, room.ErrNotYetOpen):
		return Problem{Status: http.StatusForbidden, Code: "room_not_open",
			Detail:   "The waiting room does not take people yet. Come back at " + opensAt.Format(time.RFC3339) + ".",
			DetailKO: "아직 대기열이 열리지 않았습니다.",
			Extra:    map[string]any{"opens_at": opensAt.Format(time.RFC3339)}}, false
	case errors.Is(err, room.ErrRoomClosed):
		return Problem{Status: http.StatusGone, Code: "room_closed", Detail: "The waiting room is closed.", DetailKO: "대기실이 닫혔습니다."}, false
	case errors.Is(err, room.ErrTurnOver):
		return Problem{Status: http.StatusGone, Code: "turn_over",
			Detail:   "Your turn has passed: your pass was returned or expired. Join the line again for a new turn.",
			DetailKO: "입장 시간이 지났습니다. 다시 대기열에 참여하세요."}, false
	case errors.Is(err, room.ErrPersist):
		return Problem{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Detail:   "The waiting room cannot record new places right now. Try again in a few seconds.",
			DetailKO: "잠시 후 다시 시도하세요."}, false
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal",
		Detail: "Something went wrong on our side. Your place is kept; try again.", DetailKO: "일시적인 오류입니다. 다시 시도하세요."}, true
}

// settingsProblem answers room settings that Room.Update, or the
// validation of a new room's, refused: 422 invalid_settings naming the
// field (room.SettingError), 503 with Retry-After when the change could not
// be recorded (several nodes: Redis), else 400.
func settingsProblem(w http.ResponseWriter, err error) {
	var se *room.SettingError
	switch {
	case errors.As(err, &se):
		WriteProblem(w, Problem{Status: http.StatusUnprocessableEntity, Code: "invalid_settings", Detail: err.Error(),
			DetailKO: "설정 값이 허용 범위를 벗어났습니다: " + se.Field, Extra: map[string]any{"field": se.Field}})
	case errors.Is(err, room.ErrPersist):
		WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: RetryUnavailable,
			Detail: "The change could not be recorded right now; nothing changed. Try again in a few seconds.", DetailKO: "잠시 후 다시 시도하세요. 바뀐 것은 없습니다."})
	default:
		problem(w, http.StatusBadRequest, "invalid_settings", err.Error(), "설정 값이 올바르지 않습니다.")
	}
}

// --- the booking's errors ---------------------------------------------------------

// bookingStatuses is the HTTP status of every booking error code
// (booking.ErrorCode). The JSON API and the citizen pages both answer with
// it; TestBookingStatusesCoverEveryCode fails for a code without one.
var bookingStatuses = map[string]int{
	booking.CodeNotEligible:  http.StatusForbidden,
	"proxy_not_allowed":      http.StatusForbidden,
	"session_expired":        http.StatusUnauthorized,
	"session_held":           http.StatusConflict,
	"clinic_not_found":       http.StatusNotFound,
	"booking_not_found":      http.StatusNotFound,
	"invalid_slot":           http.StatusBadRequest,
	"invalid_request":        http.StatusBadRequest,
	"wrong_code":             http.StatusBadRequest,
	"rrn_format":             http.StatusBadRequest,
	"rrn_sex_digit":          http.StatusBadRequest,
	"rrn_date":               http.StatusBadRequest,
	"rrn_checksum":           http.StatusBadRequest,
	"phone":                  http.StatusBadRequest,
	"name":                   http.StatusBadRequest,
	"past_date":              http.StatusUnprocessableEntity,
	"beyond_horizon":         http.StatusUnprocessableEntity,
	"clinic_closed":          http.StatusUnprocessableEntity,
	"vaccine_not_offered":    http.StatusUnprocessableEntity,
	"idempotency_key_reused": http.StatusUnprocessableEntity,
	"too_late":               http.StatusConflict,
	"slot_full":              http.StatusConflict,
	"leftover_gone":          http.StatusConflict,
	"clinic_token_invalid":   http.StatusUnauthorized,
	"no_second_dose":         http.StatusConflict,
	"already_booked":         http.StatusConflict,
	"supply_exhausted":       http.StatusConflict,
	"cancelled":              http.StatusConflict,
	"challenge_expired":      http.StatusGone,
	"too_many_attempts":      http.StatusTooManyRequests,
	"unavailable":            http.StatusServiceUnavailable,
	"proxy_self":             http.StatusUnprocessableEntity,
	"lookup_expired":         http.StatusUnauthorized,
}

// RetryUnavailable is the Retry-After of a 503: the booking database, or
// the line's shared state (Redis), did not answer in time.
const RetryUnavailable = 2 * time.Second

// BookingProblem is the answer to an error of the booking service: its
// status (bookingStatuses), its code (booking.ErrorCode), the person-facing
// sentences (booking.ErrorMessage) and, for a refusal on eligibility, the
// eligibility (when to come back), for bad input the field, and for a
// person who already has a booking its number. A 503 carries Retry-After.
// An error that is not a booking error is 503 unavailable (a request
// cancelled or out of time: booking.ErrUnavailable's sentences, which
// say to send it again) or 500 internal, saying that nothing was booked.
func BookingProblem(err error) Problem {
	if booking.ErrorCode(err) == "" && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		err = fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
	}
	ko, en := booking.ErrorMessage(err)
	p := Problem{Code: booking.ErrorCode(err), Detail: en, DetailKO: ko}
	if status, ok := bookingStatuses[p.Code]; ok {
		p.Status = status
		var ne *booking.NotEligibleError
		var ie *booking.InputError
		var ab *booking.AlreadyBookedError
		switch {
		case errors.As(err, &ne):
			p.Extra = map[string]any{"eligibility": eligibilityJSON(ne.Eligibility)}
		case errors.As(err, &ie):
			p.Extra = map[string]any{"field": ie.Field}
		case errors.As(err, &ab):
			p.Extra = map[string]any{"booking_number": ab.Booking.Number}
		}
		if status == http.StatusServiceUnavailable {
			p.RetryAfter = RetryUnavailable
		}
		return p
	}
	p.Status, p.Code = http.StatusInternalServerError, "internal"
	p.Detail, p.DetailKO = "Something went wrong on our side; nothing was booked. Please try again.", "일시적인 오류입니다. 예약되지 않았습니다. 다시 시도해 주세요."
	return p
}
