package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// The booking API's journey: identity verification, the booking session,
// booking, look-up, change and cancel. Nothing here is kept in this
// node's memory: the service keeps it in the store, so that a person's
// requests may land on any node.

// IdempotencyHeader carries a request's idempotency key (booking, change,
// cancel): sent again with the same key after a lost answer, a request
// returns the booking and changes nothing twice.
const IdempotencyHeader = "Idempotency-Key"

// POST /api/v1/identity/verifications {name, rrn, phone}
func (b *BookingAPI) handleStartVerification(w http.ResponseWriter, r *http.Request) {
	if b.Server.limited(w, r, kindJoin) {
		return
	}
	var in struct {
		Name  string `json:"name"`
		RRN   string `json:"rrn"`
		Phone string `json:"phone"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := b.Service.StartVerification(r.Context(), in.Name, in.RRN, in.Phone)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// POST /api/v1/identity/verifications/{id}/confirm {code}
func (b *BookingAPI) handleConfirm(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code string `json:"code"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	sess, err := b.Service.CompleteVerification(r.Context(), r.PathValue("id"), in.Code)
	if err != nil {
		b.problem(w, err)
		return
	}
	e := b.Service.Programme().Eligibility(sess.BirthDate, b.now())
	writeJSON(w, http.StatusOK, map[string]any{"session": sess, "eligibility": eligibilityJSON(e)})
}

// sessionID is the booking session a request names (header or cookie);
// without one it answers 401 session_missing.
func (b *BookingAPI) sessionID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := strings.TrimSpace(r.Header.Get(SessionHeader))
	if id == "" {
		if c, err := r.Cookie(SessionCookie); err == nil {
			id = c.Value
		}
	}
	if id == "" {
		problem(w, http.StatusUnauthorized, "session_missing", "Verify your identity first; then send the session id in the "+SessionHeader+" header.", "먼저 본인확인을 해 주세요.")
		return "", false
	}
	return id, true
}

// GET /api/v1/session: the verified person and their eligibility now.
func (b *BookingAPI) handleSession(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	sess, err := b.Service.Session(r.Context(), id)
	if err != nil {
		b.problem(w, err)
		return
	}
	e := b.Service.Programme().Eligibility(sess.BirthDate, b.now())
	writeJSON(w, http.StatusOK, map[string]any{"session": sess, "eligibility": eligibilityJSON(e)})
}

// DELETE /api/v1/session: the person is done; the session ends on every
// node and the identity may verify again at once.
func (b *BookingAPI) handleEndSession(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	if err := b.Service.EndSession(r.Context(), id); err != nil {
		b.problem(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/session/booking: the verified person's booking ("my
// booking"), 404 booking_not_found if they have none.
func (b *BookingAPI) handleSessionBooking(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	bk, err := b.Service.BookingOf(r.Context(), id)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b.view(bk))
}

type appointmentView struct {
	Dose       int    `json:"dose"`
	ClinicID   int64  `json:"clinic_id"`
	ClinicName string `json:"clinic_name"`
	Date       string `json:"date"`
	Block      int    `json:"block"`
	Time       string `json:"time"`
}

type bookingView struct {
	Number       string            `json:"booking_number"`
	Status       string            `json:"status"`
	CampaignID   string            `json:"campaign_id"`
	CohortID     string            `json:"cohort_id"`
	VaccineID    string            `json:"vaccine_id"`
	Name         string            `json:"name"`
	Phone        string            `json:"phone"`
	BirthDate    string            `json:"birth_date"`
	ProxyBooking bool              `json:"proxy_booking"`
	Doses        []appointmentView `json:"doses"`
	ChangeUntil  *time.Time        `json:"change_until"`
	CreatedAt    time.Time         `json:"created_at"`
}

func (b *BookingAPI) view(bk booking.Booking) bookingView {
	v := bookingView{Number: bk.Number, Status: string(bk.Status), CampaignID: bk.CampaignID, CohortID: bk.CohortID,
		VaccineID: bk.VaccineID, Name: bk.Name, Phone: booking.MaskPhone(bk.Phone), BirthDate: bk.BirthDate.String(),
		ProxyBooking: bk.BookedBy != "" && bk.BookedBy != bk.PersonKey, CreatedAt: bk.CreatedAt.In(booking.Seoul)}
	for _, a := range []booking.Appointment{bk.Dose1, bk.Dose2} {
		name := ""
		if c, ok := b.Service.Availability().Clinic(a.ClinicID); ok {
			name = c.Name
		}
		v.Doses = append(v.Doses, appointmentView{a.Dose, a.ClinicID, name, a.Date.String(), int(a.Block), booking.AppointmentText(a.Date, a.Block)})
	}
	if bk.Status == booking.StatusBooked {
		if d, ok := booking.ChangeDeadline(bk, b.now()); ok {
			d = d.In(booking.Seoul)
			v.ChangeUntil = &d
		}
	}
	return v
}

// POST /api/v1/bookings  (Sluice-Session header; optional Idempotency-Key)
func (b *BookingAPI) handleBook(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	var in struct {
		ClinicID  int64                `json:"clinic_id"`
		Date      string               `json:"date"`
		Block     *int                 `json:"block"`
		VaccineID string               `json:"vaccine_id"`
		ForPerson *booking.PersonInput `json:"for_person"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	d, block, ok := slotInput(w, in.Date, in.Block)
	if !ok {
		return
	}
	bk, err := b.Service.Book(r.Context(), booking.BookInput{
		SessionID: id, ClinicID: in.ClinicID, Date: d, Block: block,
		VaccineID: in.VaccineID, IdempotencyKey: r.Header.Get(IdempotencyHeader), ForPerson: in.ForPerson,
	})
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, b.view(bk))
}

// identityBody names a booking as its person shows it is theirs.
type identityBody struct {
	Name   string `json:"name"`
	RRN    string `json:"rrn"`
	Number string `json:"booking_number"`
}

func (in identityBody) ref() booking.BookingRef {
	return booking.BookingRef{Name: in.Name, RRN: in.RRN, Number: in.Number}
}

// POST /api/v1/bookings/lookup {name, rrn, booking_number}. Look-up,
// change and cancel are rate limited like joins: guessing booking numbers
// must be slow.
func (b *BookingAPI) handleLookup(w http.ResponseWriter, r *http.Request) {
	var in identityBody
	if !decodeBody(w, r, &in) || b.Server.limited(w, r, kindJoin) {
		return
	}
	bk, err := b.Service.Lookup(r.Context(), in.Name, in.RRN, in.Number)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b.view(bk))
}

// POST /api/v1/bookings/cancel {name, rrn, booking_number} (optional
// Idempotency-Key)
func (b *BookingAPI) handleCancel(w http.ResponseWriter, r *http.Request) {
	var in identityBody
	if !decodeBody(w, r, &in) || b.Server.limited(w, r, kindJoin) {
		return
	}
	bk, err := b.Service.Cancel(r.Context(), in.ref(), r.Header.Get(IdempotencyHeader))
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b.view(bk))
}

// POST /api/v1/bookings/change {name, rrn, booking_number, clinic_id,
// date, block} (optional Idempotency-Key)
func (b *BookingAPI) handleChange(w http.ResponseWriter, r *http.Request) {
	var in struct {
		identityBody
		ClinicID int64  `json:"clinic_id"`
		Date     string `json:"date"`
		Block    *int   `json:"block"`
	}
	if !decodeBody(w, r, &in) || b.Server.limited(w, r, kindJoin) {
		return
	}
	d, block, ok := slotInput(w, in.Date, in.Block)
	if !ok {
		return
	}
	to := booking.Slot{ClinicID: in.ClinicID, Date: d, Block: block}
	bk, err := b.Service.Change(r.Context(), in.ref(), to, r.Header.Get(IdempotencyHeader))
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b.view(bk))
}
