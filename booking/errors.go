package booking

import "errors"

// Every error the booking service returns to a caller is one of these (test
// them with errors.Is), a *NotEligibleError or an *InputError wrapping one
// of the input kinds. Each has a stable machine code (ErrorCode) and the
// sentences to show a person (ErrorMessage), both in errorTable below; the
// HTTP layer maps codes to statuses in one table of its own. A new error
// needs an entry in errorTable: TestEveryErrorHasACode fails without one.

// Errors of the booking service.
var (
	// ErrSessionExpired: the booking session is unknown or has expired;
	// verify again.
	ErrSessionExpired = errors.New("booking session expired or unknown; verify your identity again")
	// ErrNotEligible: the person may not book now. The error is a
	// *NotEligibleError carrying the Eligibility (when to come back).
	ErrNotEligible = errors.New("not eligible to book now")
	// ErrProxyNotAllowed: the other person's cohort does not allow booking
	// on someone else's behalf (18-49 in 2021).
	ErrProxyNotAllowed = errors.New("booking for another person is not allowed for this age group")
	// ErrClinicNotFound: no clinic with this id.
	ErrClinicNotFound = errors.New("clinic not found")
	// ErrInvalidSlot: the date does not exist or the time block is outside
	// the clinic day (0..BlocksPerDay-1).
	ErrInvalidSlot = errors.New("invalid appointment date or time block")
	// ErrPastDate: the appointment date is before today, or today and the
	// block has already started.
	ErrPastDate = errors.New("appointment time is in the past")
	// ErrBeyondHorizon: the appointment date is more than the booking
	// horizon (ServiceConfig.BookingHorizonDays) after today.
	ErrBeyondHorizon = errors.New("appointment date is too far ahead")
	// ErrClinicClosed: the clinic does not vaccinate on that date.
	ErrClinicClosed = errors.New("clinic is closed on that date")
	// ErrVaccineNotOffered: the vaccine is not offered by the campaign, the
	// person's cohort or the clinic (or, with no vaccine asked for, the
	// clinic offers none of the cohort's vaccines).
	ErrVaccineNotOffered = errors.New("vaccine not offered")
	// ErrTooLate: online cancellation/change closes at 00:00 (Seoul) of the
	// day before the appointment (see ChangeDeadline).
	ErrTooLate = errors.New("too late to cancel or change online")
	// ErrInvalidRequest: a malformed request (e.g. an over-long
	// idempotency key).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrOverloaded: too many sessions or verifications in progress on this
	// node; try again shortly.
	ErrOverloaded = errors.New("too many sessions in progress; try again shortly")
)

// Errors of identity verification (CompleteVerification): ErrWrongCode may
// be retried on the same challenge; after the other two the person starts
// again.
var (
	ErrChallengeExpired = errors.New("verification expired or unknown; start again")
	ErrWrongCode        = errors.New("wrong verification code")
	ErrTooManyAttempts  = errors.New("too many wrong verification codes; start again")
)

// Errors a Store returns for the booking it was asked to commit or find;
// the service passes them on unchanged.
var (
	ErrNotFound         = errors.New("not found")
	ErrSlotFull         = errors.New("slot full")
	ErrNoSecondDose     = errors.New("no free second-dose date in the allowed window")
	ErrAlreadyBooked    = errors.New("person already has a booking")
	ErrSupplyExhausted  = errors.New("vaccine supply exhausted")
	ErrSessionHeld      = errors.New("identity in use by another session")
	ErrCancelled        = errors.New("booking is cancelled")
	ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")
)

// Kinds of bad input. Errors returned by ParseRRN, RRN.Strict, ParsePhone and
// ValidName are *InputError values wrapping one of these, so test them with
// errors.Is.
var (
	ErrRRNFormat   = errors.New("resident registration number: not 13 digits in the form YYMMDD-GNNNNNC")
	ErrRRNSexDigit = errors.New("resident registration number: invalid sex/century digit")
	ErrRRNDate     = errors.New("resident registration number: birth date does not exist")
	ErrRRNChecksum = errors.New("resident registration number: check digit does not match")
	ErrPhone       = errors.New("not a Korean mobile phone number")
	ErrName        = errors.New("not a valid name")
)

// CodeNotEligible is the code of a *NotEligibleError.
const CodeNotEligible = "not_eligible"

type errorInfo struct {
	err    error
	code   string
	ko, en string
}

// errorTable gives each error its stable code (part of the public API: the
// problem documents' "code") and the Korean and English sentences for
// people. An *InputError carries a more precise sentence of its own.
var errorTable = []errorInfo{
	{ErrSessionExpired, "session_expired", "본인확인 시간이 지났습니다. 다시 본인확인을 해 주세요.", "Your session has expired. Please verify your identity again."},
	{ErrNotEligible, CodeNotEligible, "지금은 예약 대상이 아닙니다.", "You cannot book now."},
	{ErrProxyNotAllowed, "proxy_not_allowed", "이 연령대는 대리 예약을 할 수 없습니다. 본인이 직접 예약해 주세요.", "Booking for another person is not allowed for this age group. The person must book themselves."},
	{ErrClinicNotFound, "clinic_not_found", "접종기관을 찾을 수 없습니다.", "The clinic was not found."},
	{ErrInvalidSlot, "invalid_slot", "접종 날짜나 시간이 올바르지 않습니다.", "The appointment date or time is not valid."},
	{ErrPastDate, "past_date", "이미 지난 시간은 예약할 수 없습니다.", "That appointment time has passed."},
	{ErrBeyondHorizon, "beyond_horizon", "그 날짜는 아직 예약할 수 없습니다. 더 가까운 날짜를 골라 주세요.", "That date cannot be booked yet. Please choose an earlier date."},
	{ErrClinicClosed, "clinic_closed", "접종기관이 그날 쉽니다. 다른 날짜를 골라 주세요.", "The clinic is closed on that day. Please choose another date."},
	{ErrVaccineNotOffered, "vaccine_not_offered", "선택한 백신은 이 접종기관이나 연령대에 제공되지 않습니다.", "That vaccine is not offered at this clinic or for your age group."},
	{ErrTooLate, "too_late", "접종일 2일 전까지만 온라인으로 변경·취소할 수 있습니다. 접종기관에 문의해 주세요.", "Online changes and cancellations close two days before the appointment. Please contact the clinic."},
	{ErrInvalidRequest, "invalid_request", "요청이 올바르지 않습니다.", "The request is not valid."},
	{ErrOverloaded, "overloaded", "접속이 많습니다. 잠시 후 다시 시도해 주세요.", "The service is busy. Please try again shortly."},
	{ErrChallengeExpired, "challenge_expired", "인증 시간이 지났습니다. 인증번호를 다시 받아 주세요.", "The verification has expired. Please request a new code."},
	{ErrWrongCode, "wrong_code", "인증번호가 맞지 않습니다. 다시 입력해 주세요.", "The verification code is wrong. Please try again."},
	{ErrTooManyAttempts, "too_many_attempts", "인증번호를 여러 번 잘못 입력했습니다. 인증번호를 다시 받아 주세요.", "Too many wrong codes. Please request a new code."},
	{ErrSessionHeld, "session_held", "다른 기기에서 같은 분의 예약이 진행 중입니다. 10분 후 다시 시도해 주세요.", "A booking for this person is in progress on another device. Please try again in 10 minutes."},
	{ErrSlotFull, "slot_full", "선택한 시간은 예약이 마감되었습니다. 다른 시간을 골라 주세요.", "That time is fully booked. Please choose another."},
	{ErrNoSecondDose, "no_second_dose", "2차 접종 가능한 날짜가 없습니다. 다른 날짜나 접종기관을 골라 주세요.", "No second-dose date is free. Please choose another date or clinic."},
	{ErrAlreadyBooked, "already_booked", "이미 예약이 있습니다. 예약 조회에서 확인해 주세요.", "You already have a booking. Please look it up."},
	{ErrSupplyExhausted, "supply_exhausted", "이 백신의 예약이 마감되었습니다.", "Booking for this vaccine has closed: the supply is used up."},
	{ErrCancelled, "cancelled", "이미 취소된 예약입니다.", "This booking has been cancelled."},
	{ErrIdempotencyReuse, "idempotency_key_reused", "같은 요청 번호로 다른 예약을 할 수 없습니다.", "The request id was already used for a different booking."},
	{ErrNotFound, "booking_not_found", "예약을 찾을 수 없습니다. 이름, 주민등록번호, 예약번호를 확인해 주세요.", "No booking found. Please check the name, registration number and booking number."},
	{ErrRRNFormat, "rrn_format", "주민등록번호 13자리를 확인해 주세요.", "Please check the 13-digit resident registration number."},
	{ErrRRNSexDigit, "rrn_sex_digit", "주민등록번호 뒷자리 첫 숫자가 올바르지 않습니다.", "The first digit after the dash is not valid."},
	{ErrRRNDate, "rrn_date", "주민등록번호의 생년월일이 올바르지 않습니다.", "The birth date in the resident registration number does not exist."},
	{ErrRRNChecksum, "rrn_checksum", "주민등록번호가 올바르지 않습니다.", "The resident registration number is not valid."},
	{ErrPhone, "phone", "휴대전화 번호를 확인해 주세요.", "Please check the mobile phone number."},
	{ErrName, "name", "이름을 확인해 주세요.", "Please check the name."},
}

// ErrorCode returns the stable code of a booking error ("slot_full",
// "rrn_date", "not_eligible", ...), or "" for an error that is not one of
// the booking errors (a failure of the store, a cancelled context ...).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Code
	}
	if e, ok := lookupError(err); ok {
		return e.code
	}
	return ""
}

// Errors returns one error of each code ErrorCode knows, in a stable order:
// for tables that map every code (the HTTP statuses) and their tests.
func Errors() []error {
	out := make([]error, len(errorTable))
	for i, e := range errorTable {
		out[i] = e.err
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
	if e, ok := lookupError(err); ok {
		return e.ko, e.en
	}
	return "입력 내용을 확인해 주세요.", "Please check your input."
}

func lookupError(err error) (errorInfo, bool) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e, true
		}
	}
	return errorInfo{}, false
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

func inputErr(kind error, field, ko, en string) *InputError {
	return &InputError{Code: ErrorCode(kind), Field: field, Message: ko, MessageEN: en, kind: kind}
}
