package booking

import (
	"errors"
	"fmt"
	"time"
)

// Every error the booking service returns to a caller is one of these (test
// them with errors.Is), a *NotEligibleError or an *InputError wrapping one
// of the input kinds. Each is declared with def, which gives it its stable
// machine code (ErrorCode, the problem documents' "code", part of the
// public API) and the sentences to show a person (ErrorMessage); the HTTP
// layer maps codes to statuses in one table of its own. An error declared
// otherwise fails TestEveryErrorHasACode.

// Errors of the booking service.
var (
	// ErrSessionExpired: the booking session is unknown or has expired;
	// verify again.
	ErrSessionExpired = def("session_expired", "booking session expired or unknown; verify your identity again",
		"본인확인 시간이 지났습니다. 다시 본인확인을 해 주세요.",
		"Your session has expired. Please verify your identity again.")
	// ErrNotEligible: the person may not book now. The error is a
	// *NotEligibleError carrying the Eligibility (when to come back).
	ErrNotEligible = def(CodeNotEligible, "not eligible to book now",
		"지금은 예약 대상이 아닙니다.",
		"You cannot book now.")
	// ErrProxyNotAllowed: the other person's cohort does not allow booking
	// on someone else's behalf (18-49 in 2021).
	ErrProxyNotAllowed = def("proxy_not_allowed", "booking for another person is not allowed for this age group",
		"이 연령대는 대리 예약을 할 수 없습니다. 본인이 직접 예약해 주세요.",
		"Booking for another person is not allowed for this age group. The person must book themselves.")
	// ErrClinicNotFound: no clinic with this id.
	ErrClinicNotFound = def("clinic_not_found", "clinic not found",
		"접종기관을 찾을 수 없습니다.",
		"The clinic was not found.")
	// ErrInvalidSlot: the date does not exist or the time block is outside
	// the clinic day (0..BlocksPerDay-1).
	ErrInvalidSlot = def("invalid_slot", "invalid appointment date or time block",
		"접종 날짜나 시간이 올바르지 않습니다.",
		"The appointment date or time is not valid.")
	// ErrPastDate: the appointment date is before today, or today and the
	// block has already started.
	ErrPastDate = def("past_date", "appointment time is in the past",
		"이미 지난 시간은 예약할 수 없습니다.",
		"That appointment time has passed.")
	// ErrBeyondHorizon: the appointment date is more than the booking
	// horizon (ServiceConfig.BookingHorizonDays) after today.
	ErrBeyondHorizon = def("beyond_horizon", "appointment date is too far ahead",
		"그 날짜는 아직 예약할 수 없습니다. 더 가까운 날짜를 골라 주세요.",
		"That date cannot be booked yet. Please choose an earlier date.")
	// ErrClinicClosed: the clinic does not vaccinate on that date.
	ErrClinicClosed = def("clinic_closed", "clinic is closed on that date",
		"접종기관이 그날 쉽니다. 다른 날짜를 골라 주세요.",
		"The clinic is closed on that day. Please choose another date.")
	// ErrVaccineNotOffered: the vaccine is not offered by the campaign, the
	// person's cohort or the clinic (or, with no vaccine asked for, the
	// clinic offers none of the cohort's vaccines).
	ErrVaccineNotOffered = def("vaccine_not_offered", "vaccine not offered",
		"선택한 백신은 이 접종기관이나 연령대에 제공되지 않습니다.",
		"That vaccine is not offered at this clinic or for your age group.")
	// ErrTooLate: online cancellation/change closes at 00:00 (Seoul) of the
	// day before the appointment (see ChangeDeadline).
	ErrTooLate = def("too_late", "too late to cancel or change online",
		"접종일 2일 전까지만 온라인으로 변경·취소할 수 있습니다. 접종기관에 문의해 주세요.",
		"Online changes and cancellations close two days before the appointment. Please contact the clinic.")
	// ErrInvalidRequest: a malformed request (e.g. an over-long
	// idempotency key).
	ErrInvalidRequest = def("invalid_request", "invalid request",
		"요청이 올바르지 않습니다.",
		"The request is not valid.")
	// ErrUnavailable: the booking database did not answer (down, refusing
	// connections, locked, or slower than the request's deadline). A
	// change asked for may or may not have been made: asked again with the
	// same idempotency key it is made once, or its result returned.
	ErrUnavailable = def("unavailable", "booking database unavailable",
		"예약 시스템이 잠시 응답하지 않습니다. 몇 초 후 같은 요청을 다시 보내 주세요. 다시 보내도 두 번 예약되지 않습니다.",
		"The booking system is not answering right now. Please send the same request again in a few seconds: it will not book twice.")
	// ErrProxySelf: a booking "for another person" names the booker
	// themself; book without for_person.
	ErrProxySelf = def("proxy_self", "for_person names the verified person themself",
		"본인 예약은 대리 예약이 아닙니다. 본인 예약으로 진행해 주세요.",
		"That is you: book for yourself without naming another person.")
	// ErrLookupExpired: the look-up the pages' change and cancel steps act
	// on is unknown or has expired; look the booking up again.
	ErrLookupExpired = def("lookup_expired", "look-up expired or unknown; look the booking up again",
		"예약 조회 시간이 지났습니다. 다시 조회해 주세요.",
		"Your look-up has expired. Please look your booking up again.")
)

// Errors of identity verification (CompleteVerification): ErrWrongCode may
// be retried on the same challenge; after the other two the person starts
// again.
var (
	ErrChallengeExpired = def("challenge_expired", "verification expired or unknown; start again",
		"인증 시간이 지났습니다. 인증번호를 다시 받아 주세요.",
		"The verification has expired. Please request a new code.")
	ErrWrongCode = def("wrong_code", "wrong verification code",
		"인증번호가 맞지 않습니다. 다시 입력해 주세요.",
		"The verification code is wrong. Please try again.")
	ErrTooManyAttempts = def("too_many_attempts", "too many wrong verification codes; start again",
		"인증번호를 여러 번 잘못 입력했습니다. 인증번호를 다시 받아 주세요.",
		"Too many wrong codes. Please request a new code.")
)

// ErrClinicToken: the clinic credential is unknown or revoked.
var ErrClinicToken = def("clinic_token_invalid", "clinic credential unknown or revoked",
	"접종기관 인증키가 올바르지 않거나 폐기되었습니다. 관리자에게 새 인증키를 받으세요.",
	"The clinic key is wrong or revoked. Ask the operator for a new one.")

// Errors a Store returns for the booking it was asked to commit or find;
// the service passes them on unchanged.
var (
	ErrNotFound = def("booking_not_found", "not found",
		"예약을 찾을 수 없습니다. 이름, 주민등록번호, 예약번호를 확인해 주세요.",
		"No booking found. Please check the name, registration number and booking number.")
	ErrSlotFull = def("slot_full", "slot full",
		"선택한 시간은 예약이 마감되었습니다. 다른 시간을 골라 주세요.",
		"That time is fully booked. Please choose another.")
	ErrNoSecondDose = def("no_second_dose", "no free second-dose date in the allowed window",
		"2차 접종 가능한 날짜가 없습니다. 다른 날짜나 접종기관을 골라 주세요.",
		"No second-dose date is free. Please choose another date or clinic.")
	ErrAlreadyBooked = def("already_booked", "person already has a booking",
		"이미 예약이 있습니다. 예약 조회에서 확인해 주세요.",
		"You already have a booking. Please look it up.")
	// ErrLeftoverGone: the leftover doses asked for are all booked, or
	// their time is over.
	ErrLeftoverGone = def("leftover_gone", "leftover doses gone",
		"남은 백신이 모두 예약되었거나 접수 시간이 지났습니다. 다른 접종기관의 잔여백신을 확인해 주세요.",
		"Those leftover doses are all booked or no longer on offer. Please look at another clinic's.")
	ErrSupplyExhausted = def("supply_exhausted", "vaccine supply exhausted",
		"이 백신의 예약이 마감되었습니다.",
		"Booking for this vaccine has closed: the supply is used up.")
	// ErrSessionHeld: another device verified this person less than their
	// cohort's session lock ago. CompleteVerification returns it as a
	// *SessionHeldError, whose sentences say how long the lock lasts
	// (the cohort's, not a fixed ten minutes).
	ErrSessionHeld = def("session_held", "identity in use by another session",
		"다른 기기에서 같은 분의 예약이 진행 중입니다. 잠시 후 다시 시도해 주세요.",
		"A booking for this person is in progress on another device. Please try again later.")
	ErrCancelled = def("cancelled", "booking is cancelled",
		"이미 취소된 예약입니다.",
		"This booking has been cancelled.")
	ErrIdempotencyReuse = def("idempotency_key_reused", "idempotency key reused with a different request",
		"같은 요청 번호로 다른 예약을 할 수 없습니다.",
		"The request id was already used for a different booking.")
)

// Kinds of bad input. Errors returned by ParseRRN, RRN.Strict, ParsePhone and
// ValidName are *InputError values wrapping one of these, so test them with
// errors.Is.
var (
	ErrRRNFormat = def("rrn_format", "resident registration number: not 13 digits in the form YYMMDD-GNNNNNC",
		"주민등록번호 13자리를 확인해 주세요.",
		"Please check the 13-digit resident registration number.")
	ErrRRNSexDigit = def("rrn_sex_digit", "resident registration number: invalid sex/century digit",
		"주민등록번호 뒷자리 첫 숫자가 올바르지 않습니다.",
		"The first digit after the dash is not valid.")
	ErrRRNDate = def("rrn_date", "resident registration number: birth date does not exist",
		"주민등록번호의 생년월일이 올바르지 않습니다.",
		"The birth date in the resident registration number does not exist.")
	ErrRRNChecksum = def("rrn_checksum", "resident registration number: check digit does not match",
		"주민등록번호가 올바르지 않습니다.",
		"The resident registration number is not valid.")
	ErrPhone = def("phone", "not a Korean mobile phone number",
		"휴대전화 번호를 확인해 주세요.",
		"Please check the mobile phone number.")
	ErrName = def("name", "not a valid name",
		"이름을 확인해 주세요.",
		"Please check the name.")
)

// AlreadyBookedError is ErrAlreadyBooked told to the person it is about:
// it carries their booking, so that someone whose first answer was lost
// learns their booking number.
type AlreadyBookedError struct {
	Booking Booking
}

func (e *AlreadyBookedError) Error() string {
	return ErrAlreadyBooked.Error() + " (" + e.Booking.Number + ")"
}

// Unwrap returns ErrAlreadyBooked.
func (e *AlreadyBookedError) Unwrap() error { return ErrAlreadyBooked }

// CodeNotEligible is the code of a *NotEligibleError.
const CodeNotEligible = "not_eligible"

// Error is a booking error: its message (for logs and Go callers), its
// code and its sentences for people. Compare errors with errors.Is.
type Error struct {
	msg, code, ko, en string
}

func (e *Error) Error() string { return e.msg }

// Code is the error's stable code (as ErrorCode).
func (e *Error) Code() string { return e.code }

// declared lists every Error in the order of declaration (Errors).
var declared []*Error

// def declares a booking error.
func def(code, msg, ko, en string) *Error {
	e := &Error{msg: msg, code: code, ko: ko, en: en}
	declared = append(declared, e)
	return e
}

// ErrorCode returns the stable code of a booking error ("slot_full",
// "rrn_date", "not_eligible", ...), wrapped or not, or "" for an error that
// is not a booking error (a failure of the store, a cancelled context ...).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return ""
}

// Errors returns every booking error, one per code, in a stable order: for
// tables that map every code (the HTTP statuses) and their tests.
func Errors() []error {
	out := make([]error, len(declared))
	for i, e := range declared {
		out[i] = e
	}
	return out
}

// ErrorMessage returns the Korean and English sentences to show a person for
// a booking error (the eligibility's own for a *NotEligibleError, the
// precise one of an *InputError), or generic ones for anything else.
func ErrorMessage(err error) (ko, en string) {
	var ne *NotEligibleError
	var ie *InputError
	switch {
	case errors.As(err, &ne):
		return ne.Eligibility.Message, ne.Eligibility.MessageEN
	case errors.As(err, &ie):
		return ie.Message, ie.MessageEN
	}
	var he *SessionHeldError
	if errors.As(err, &he) {
		m := he.minutes()
		return fmt.Sprintf("다른 기기에서 같은 분의 예약이 진행 중입니다. 늦어도 %d분 후에는 다시 시도할 수 있습니다.", m),
			fmt.Sprintf("A booking for this person is in progress on another device. You can try again in %d minutes at the latest.", m)
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ko, e.en
	}
	return "입력 내용을 확인해 주세요.", "Please check your input."
}

// NotEligibleError is returned (as an error matching ErrNotEligible) when a
// person may not book at the server's current time. Eligibility says why and
// when their window opens (NextWindowOpensAt, WindowOpensAt).
type NotEligibleError struct {
	Eligibility Eligibility
}

func (e *NotEligibleError) Error() string {
	return "not eligible to book now (" + e.Eligibility.Reason + "): " + e.Eligibility.MessageEN
}

// Unwrap returns ErrNotEligible.
func (e *NotEligibleError) Unwrap() error { return ErrNotEligible }

// WrongCodeError is returned (as an error matching ErrWrongCode) for a
// wrong verification code: the person may try again, TriesLeft more times
// (of MaxCodeAttempts) before the code is used up.
type WrongCodeError struct {
	TriesLeft int
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("%v (%d tries left)", ErrWrongCode, e.TriesLeft)
}

// Unwrap returns ErrWrongCode.
func (e *WrongCodeError) Unwrap() error { return ErrWrongCode }

// SessionHeldError is returned (as an error matching ErrSessionHeld) when
// another device holds this person's session: Lock is how long a session
// holds its person (the cohort's SessionLock), so the other device's hold
// ends within it.
type SessionHeldError struct {
	Lock time.Duration
}

func (e *SessionHeldError) Error() string {
	return fmt.Sprintf("%v (held for up to %v)", ErrSessionHeld, e.Lock)
}

// Unwrap returns ErrSessionHeld.
func (e *SessionHeldError) Unwrap() error { return ErrSessionHeld }

// minutes is Lock in whole minutes, rounded up: a person told "in 2
// minutes" for a lock of 90 s is not turned away again.
func (e *SessionHeldError) minutes() int {
	return int((e.Lock + time.Minute - 1) / time.Minute)
}

// InputError is a precise, displayable validation error. It never contains
// the rejected input itself (it may be personal data).
type InputError struct {
	Code      string // stable machine code of the kind (ErrorCode), e.g. "rrn_date"
	Field     string // "rrn", "phone", "name"
	Message   string // Korean, for people
	MessageEN string // English, for people
	kind      error
}

func (e *InputError) Error() string { return e.kind.Error() + ": " + e.MessageEN }

// Unwrap returns the kind (ErrRRNFormat, ...).
func (e *InputError) Unwrap() error { return e.kind }

func inputErr(kind *Error, field, ko, en string) *InputError {
	return &InputError{Code: kind.code, Field: field, Message: ko, MessageEN: en, kind: kind}
}
