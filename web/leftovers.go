package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Leftover doses (잔여백신): clinics post them with their own credential
// (a clinic token the operator issues), verified people see them near
// them and book them first come, first served.

// leftoverView is a leftover offer as the API shows it.
type leftoverView struct {
	ID       int64      `json:"id"`
	Clinic   clinicView `json:"clinic"`
	Vaccine  string     `json:"vaccine_id"`
	Doses    int        `json:"doses"`
	Left     int        `json:"left"`
	Until    string     `json:"until"`
	PostedAt string     `json:"posted_at"`
}

func (b *BookingAPI) leftoverView(l booking.Leftover) leftoverView {
	v := leftoverView{ID: l.ID, Vaccine: l.VaccineID, Doses: l.Doses, Left: l.Left(),
		Until: l.Until.In(booking.Seoul).Format(time.RFC3339), PostedAt: l.PostedAt.In(booking.Seoul).Format(time.RFC3339)}
	if c, ok := b.Service.Availability().Clinic(l.ClinicID); ok {
		v.Clinic = viewClinic(c)
	}
	return v
}

func (b *BookingAPI) registerLeftovers(mux *http.ServeMux, gated func(string, http.HandlerFunc)) {
	s := b.Server
	gated("GET /api/v1/leftovers", b.handleLeftovers)
	gated("POST /api/v1/leftovers/{id}/bookings", b.handleBookLeftover)
	mux.Handle("POST /api/v1/clinic/leftovers", s.WithDeadline(http.HandlerFunc(b.handlePostLeftover)))
	mux.Handle("GET /api/v1/clinic/today", s.WithDeadline(http.HandlerFunc(b.handleClinicToday)))
	mux.Handle("POST /api/v1/admin/clinics/{id}/tokens", s.WithDeadline(s.admin(b.handleIssueClinicToken)))
	mux.Handle("DELETE /api/v1/admin/clinics/{id}/tokens", s.WithDeadline(s.admin(b.handleRevokeClinicTokens)))
}

// GET /api/v1/leftovers[?district=CODE]: today's leftover doses still
// bookable, newest first (a verified session is required).
func (b *BookingAPI) handleLeftovers(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	if _, err := b.Service.Session(r.Context(), id); err != nil {
		b.problem(w, err)
		return
	}
	ls, err := b.Service.LeftoversNear(r.Context(), r.URL.Query().Get("district"))
	if err != nil {
		b.problem(w, err)
		return
	}
	out := []leftoverView{}
	for _, l := range ls {
		out = append(out, b.leftoverView(l))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"leftovers": out})
}

// POST /api/v1/leftovers/{id}/bookings: book one of the doses.
func (b *BookingAPI) handleBookLeftover(w http.ResponseWriter, r *http.Request) {
	id, ok := b.sessionID(w, r)
	if !ok {
		return
	}
	lid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || lid <= 0 {
		b.problem(w, booking.ErrLeftoverGone)
		return
	}
	bk, err := b.Service.BookLeftover(r.Context(), id, lid)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, b.view(bk))
}

// POST /api/v1/clinic/leftovers {"vaccine_id","doses","until"}: a clinic
// posts leftover doses for today.
func (b *BookingAPI) handlePostLeftover(w http.ResponseWriter, r *http.Request) {
	var in booking.LeftoverInput
	if !decodeBody(w, r, &in) {
		return
	}
	l, err := b.Service.PostLeftover(r.Context(), bearer(r), in)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, b.leftoverView(l))
}

// GET /api/v1/clinic/today: the clinic's leftover offers and who is coming
// for a first dose today.
func (b *BookingAPI) handleClinicToday(w http.ResponseWriter, r *http.Request) {
	d, err := b.Service.ClinicToday(r.Context(), bearer(r))
	if err != nil {
		b.problem(w, err)
		return
	}
	ls := []leftoverView{}
	for _, l := range d.Leftovers {
		ls = append(ls, b.leftoverView(l))
	}
	coming := d.Coming
	if coming == nil {
		coming = []booking.ComingPerson{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"clinic": viewClinic(d.Clinic), "date": d.Date.String(), "leftovers": ls, "coming": coming})
}

// POST /api/v1/admin/clinics/{id}/tokens: issue a clinic credential (shown
// once).
func (b *BookingAPI) handleIssueClinicToken(w http.ResponseWriter, r *http.Request) {
	id, ok := b.clinicID(w, r)
	if !ok {
		return
	}
	token, err := b.Service.IssueClinicToken(r.Context(), id)
	if err != nil {
		b.problem(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"clinic_id": id, "token": token})
}

// DELETE /api/v1/admin/clinics/{id}/tokens: revoke every credential of a
// clinic.
func (b *BookingAPI) handleRevokeClinicTokens(w http.ResponseWriter, r *http.Request) {
	id, ok := b.clinicID(w, r)
	if !ok {
		return
	}
	n, err := b.Service.RevokeClinicTokens(r.Context(), id)
	if err != nil {
		b.problem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clinic_id": id, "revoked": n})
}
