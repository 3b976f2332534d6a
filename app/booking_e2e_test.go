package app_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
)

func startDemo(t *testing.T) *app.App { return apptest.Demo(t, app.Options{}) }

func postJSON(t *testing.T, url string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	resp, out := do(t, "POST", url, h, string(b))
	return resp.StatusCode, out
}

// minsu is the person the booking tests verify and book for.
var minsu = map[string]string{"name": "김민수", "rrn": "680315-1234567", "phone": "010-1234-5678"}

// startVerification starts verifying minsu at base with the pass; it
// returns the status and body of the answer, and the challenge and the
// code the demo sent (empty unless the status is 201).
func startVerification(t *testing.T, base string, pass map[string]string) (code int, b []byte, challengeID, demoCode string) {
	t.Helper()
	code, b = postJSON(t, base+"/api/v1/identity/verifications", pass, minsu)
	var started struct {
		ID   string `json:"challenge_id"`
		Code string `json:"demo_code"`
	}
	json.Unmarshal(b, &started)
	return code, b, started.ID, started.Code
}

// confirmCode answers a challenge; on success it also returns the headers
// the booking endpoints want (the pass and the session).
func confirmCode(t *testing.T, base string, pass map[string]string, challengeID, code string) (int, []byte, map[string]string) {
	t.Helper()
	status, b := postJSON(t, base+"/api/v1/identity/verifications/"+challengeID+"/confirm", pass, map[string]string{"code": code})
	var confirmed struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	json.Unmarshal(b, &confirmed)
	return status, b, map[string]string{room.PassHeader: pass[room.PassHeader], "Sluice-Session": confirmed.Session.ID}
}

// foundClinic is a clinic of a search answer.
type foundClinic struct {
	Clinic struct {
		ID int64 `json:"id"`
	} `json:"clinic"`
	Free int `json:"free"`
}

// searchGangnam searches Gangnam for Pfizer on Monday 26 July.
func searchGangnam(t *testing.T, base string, pass map[string]string) []foundClinic {
	t.Helper()
	resp, b := do(t, "GET", base+"/api/v1/clinics?district=11680&date=2021-07-26&vaccine=pfizer", pass, "")
	var found struct {
		Clinics []foundClinic `json:"clinics"`
	}
	if err := json.Unmarshal(b, &found); err != nil || resp.StatusCode != 200 {
		t.Fatalf("search on %s: %d %s", base, resp.StatusCode, b)
	}
	return found.Clinics
}

func TestBookingFlowOverHTTPThroughTheGate(t *testing.T) {
	a := startDemo(t)
	base := a.URL()

	// Public: may I book now? (no identity, no pass)
	resp, b := do(t, "GET", base+"/api/v1/eligibility?birth_date=1968-03-15", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"eligible": true`) {
		t.Fatalf("eligibility: %d %s", resp.StatusCode, b)
	}
	// Without a pass, the booking API is closed.
	code, b := postJSON(t, base+"/api/v1/identity/verifications", nil, minsu)
	if code != 401 || !strings.Contains(string(b), "pass_missing") {
		t.Fatalf("verification without pass: %d %s", code, b)
	}
	// Queue, get admitted, take the pass.
	st := waitAdmitted(t, base, "vaccine", join(t, base, "vaccine").Ticket)
	pass := map[string]string{room.PassHeader: st.Pass}

	// Bad input is refused precisely.
	code, b = postJSON(t, base+"/api/v1/identity/verifications", pass, map[string]string{"name": "김민수", "rrn": "680230-1234567", "phone": "010-1234-5678"})
	if code != 400 || !strings.Contains(string(b), "rrn_date") {
		t.Fatalf("impossible RRN date: %d %s", code, b)
	}
	// Verify identity (the demo returns the code it "sent").
	code, b, challenge, demoCode := startVerification(t, base, pass)
	if code != 201 {
		t.Fatalf("start verification: %d %s", code, b)
	}
	if code, b, _ = confirmCode(t, base, pass, challenge, "000000x"); code != 400 {
		t.Fatalf("wrong code: %d %s", code, b)
	}
	code, b, sess := confirmCode(t, base, pass, challenge, demoCode)
	if code != 200 {
		t.Fatalf("confirm: %d %s", code, b)
	}

	// Find a clinic in Gangnam with free places on Monday 26 July.
	found := searchGangnam(t, base, pass)
	if len(found) == 0 || found[0].Free == 0 {
		t.Fatalf("no clinic found: %+v", found)
	}
	clinic := found[0].Clinic.ID

	// A clinic's dates: a range of at most booking.MaxFreeDatesSpan days,
	// from and to both counted, is answered whole; a longer one is
	// refused rather than cut short.
	for _, tc := range []struct {
		to   string
		want int
	}{{"2022-07-26", 200}, {"2022-07-27", 400}} { // 366 and 367 days, from 2021-07-26 on
		resp, b := do(t, "GET", base+"/api/v1/clinics/"+strconv.FormatInt(clinic, 10)+"?from=2021-07-26&to="+tc.to, pass, "")
		var got struct {
			Days []json.RawMessage `json:"days"`
		}
		json.Unmarshal(b, &got)
		if resp.StatusCode != tc.want || tc.want == 200 && len(got.Days) != booking.MaxFreeDatesSpan {
			t.Fatalf("dates to %s: %d with %d days, want %d (at most %d days)", tc.to, resp.StatusCode, len(got.Days), tc.want, booking.MaxFreeDatesSpan)
		}
	}

	// Book; a retry with the same Idempotency-Key returns the same booking.
	bookReq := map[string]any{"clinic_id": clinic, "date": "2021-07-26", "block": 2, "vaccine_id": "pfizer"}
	idem := map[string]string{"Idempotency-Key": "try-1"}
	for k, v := range sess {
		idem[k] = v
	}
	code, b = postJSON(t, base+"/api/v1/bookings", idem, bookReq)
	if code != 201 {
		t.Fatalf("book: %d %s", code, b)
	}
	var bk struct {
		Number string `json:"booking_number"`
		Status string `json:"status"`
		Doses  []struct {
			Date     string `json:"date"`
			ClinicID int64  `json:"clinic_id"`
		} `json:"doses"`
	}
	json.Unmarshal(b, &bk)
	if bk.Number == "" || len(bk.Doses) != 2 || bk.Doses[1].Date <= "2021-08-15" || bk.Doses[1].ClinicID != clinic {
		t.Fatalf("booking: %s", b)
	}
	code, b2 := postJSON(t, base+"/api/v1/bookings", idem, bookReq)
	if code != 201 || !strings.Contains(string(b2), bk.Number) {
		t.Fatalf("idempotent retry: %d %s", code, b2)
	}
	// A second booking for the same person is refused.
	code, b = postJSON(t, base+"/api/v1/bookings", sess, map[string]any{"clinic_id": clinic, "date": "2021-07-27", "block": 1, "vaccine_id": "pfizer"})
	if code != 409 || !strings.Contains(string(b), "already_booked") {
		t.Fatalf("double booking: %d %s", code, b)
	}
	// Look up with name + RRN + booking number.
	who := map[string]any{"name": "김민수", "rrn": "680315-1234567", "booking_number": bk.Number}
	code, b = postJSON(t, base+"/api/v1/bookings/lookup", pass, who)
	if code != 200 || !strings.Contains(string(b), bk.Number) || strings.Contains(string(b), "1234567") {
		t.Fatalf("lookup: %d %s", code, b)
	}
	wrong := map[string]any{"name": "김민수", "rrn": "680315-2234567", "booking_number": bk.Number}
	if code, b = postJSON(t, base+"/api/v1/bookings/lookup", pass, wrong); code != 404 {
		t.Fatalf("lookup with another RRN: %d %s", code, b)
	}
	// Change to the next day.
	change := map[string]any{"name": "김민수", "rrn": "680315-1234567", "booking_number": bk.Number, "clinic_id": clinic, "date": "2021-07-27", "block": 3}
	code, b = postJSON(t, base+"/api/v1/bookings/change", pass, change)
	if code != 200 || !strings.Contains(string(b), `"date": "2021-07-27"`) {
		t.Fatalf("change: %d %s", code, b)
	}
	// Cancel frees both doses.
	code, b = postJSON(t, base+"/api/v1/bookings/cancel", pass, who)
	if code != 200 || !strings.Contains(string(b), `"status": "cancelled"`) {
		t.Fatalf("cancel: %d %s", code, b)
	}
	if code, b = postJSON(t, base+"/api/v1/bookings/cancel", pass, who); code != 409 {
		t.Fatalf("cancel twice: %d %s", code, b)
	}
	// Notifications went out only for committed changes, and the operator sees them.
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, b = do(t, "GET", base+"/api/v1/admin/notifications", admin, "")
		s := string(b)
		if strings.Contains(s, `"kind": "confirmation"`) && strings.Contains(s, `"kind": "change"`) && strings.Contains(s, `"kind": "cancel"`) {
			if strings.Contains(s, "1234567") {
				t.Fatalf("an RRN leaked into a message: %s", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications: %d %s", resp.StatusCode, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Statistics.
	resp, b = do(t, "GET", base+"/api/v1/admin/stats?date=2021-07-27", admin, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"53-54"`) {
		t.Fatalf("stats: %d %s", resp.StatusCode, b)
	}
}

func TestDemoClockMovesEligibility(t *testing.T) {
	a := startDemo(t)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	// 1971 (50-52) is not yet open on the evening of 19 July...
	_, b := do(t, "GET", base+"/api/v1/eligibility?birth_date=1971-05-05", nil, "")
	if !strings.Contains(string(b), `"reason": "not_yet_open"`) || !strings.Contains(string(b), `"window_opens_at": "2021-07-20T20:00:00+09:00"`) {
		t.Fatalf("before: %s", b)
	}
	// ... and is once the operator moves the demo clock.
	code, b := postJSON(t, base+"/api/v1/admin/clock", admin, map[string]string{"at": "2021-07-20T20:30:00+09:00"})
	if code != 200 {
		t.Fatalf("clock: %d %s", code, b)
	}
	_, b = do(t, "GET", base+"/api/v1/eligibility?birth_date=1971-05-05", nil, "")
	if !strings.Contains(string(b), `"eligible": true`) {
		t.Fatalf("after: %s", b)
	}
	// The demo runs both 2021 campaigns: in July someone born 1990-08-19
	// is told when August opens for them; on 9 August at 21:00 they may
	// book, in the August campaign.
	_, b = do(t, "GET", base+"/api/v1/eligibility?birth_date=1990-08-19", nil, "")
	if !strings.Contains(string(b), `"reason": "not_yet_open"`) || !strings.Contains(string(b), `"campaign_id": "2021-08-18-49"`) ||
		!strings.Contains(string(b), `"window_opens_at": "2021-08-09T20:00:00+09:00"`) {
		t.Fatalf("1990-08-19 in July: %s", b)
	}
	if code, b := postJSON(t, base+"/api/v1/admin/clock", admin, map[string]string{"at": "2021-08-09T21:00:00+09:00"}); code != 200 {
		t.Fatalf("clock: %d %s", code, b)
	}
	_, b = do(t, "GET", base+"/api/v1/eligibility?birth_date=1990-08-19", nil, "")
	if !strings.Contains(string(b), `"eligible": true`) || !strings.Contains(string(b), `"campaign_id": "2021-08-18-49"`) {
		t.Fatalf("1990-08-19 on 9 August: %s", b)
	}
	// The clock endpoint needs the admin token.
	if code, _ := postJSON(t, base+"/api/v1/admin/clock", nil, map[string]string{"at": "2021-07-20T20:30:00+09:00"}); code != 401 {
		t.Fatalf("clock without token: %d", code)
	}
}

func TestServeHasNoDemoClock(t *testing.T) {
	cfg := apptest.Config()
	cfg.Booking = config.Booking{Campaign: "2021-07-50s", Database: t.TempDir() + "/b.db"}
	cfg.PersonKeySecret = []byte(strings.Repeat("s", 32))
	cfg.SessionKeys = seal.Generate("s1")
	a := apptest.Start(t, cfg, app.Options{})
	code, b := postJSON(t, a.URL()+"/api/v1/admin/clock", map[string]string{"Authorization": "Bearer " + adminToken}, map[string]string{"at": "2021-07-20T20:30:00+09:00"})
	if code != http.StatusNotFound {
		t.Fatalf("serve exposes the demo clock: %d %s", code, b)
	}
	// Real clock: in 2026 nobody is eligible for the 2021 campaign.
	resp, b := do(t, "GET", a.URL()+"/api/v1/eligibility?birth_date=1968-03-15", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"eligible": false`) {
		t.Fatalf("eligibility on the real clock: %s", b)
	}
}

func TestReadinessFollowsTheBookingDatabase(t *testing.T) {
	a := startDemo(t)
	if resp, b := do(t, "GET", a.URL()+"/readyz", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("ready: %d %s", resp.StatusCode, b)
	}
	a.CloseBookingStoreForTest()
	resp, b := do(t, "GET", a.URL()+"/readyz", nil, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "not_ready") {
		t.Fatalf("with the database closed: %d %s", resp.StatusCode, b)
	}
}

// TestCampaignEndpoint: the campaign's windows, the next one to open and
// the dates a first dose may be booked on, as the service computes them.
func TestCampaignEndpoint(t *testing.T) {
	a := startDemo(t) // 2021-07-19 21:00: 53-54 open, 50-52 opens tomorrow at 20:00
	resp, b := do(t, "GET", a.URL()+"/api/v1/campaign", nil, "")
	var doc struct {
		Windows []struct {
			Cohort  string `json:"cohort_id"`
			OpenNow bool   `json:"open_now"`
		} `json:"windows_today"`
		Next *struct {
			Cohort string `json:"cohort_id"`
			Opens  string `json:"opens_at"`
		} `json:"next_window"`
		Dates []string `json:"bookable_dates"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if doc.Next == nil || doc.Next.Cohort != "50-52" || doc.Next.Opens != "2021-07-20T20:00:00+09:00" {
		t.Errorf("next window %+v", doc.Next)
	}
	want := a.Booking().BookableDates(a.Clock.Now())
	if len(doc.Dates) != len(want) || len(want) == 0 || doc.Dates[0] != "2021-07-20" || doc.Dates[len(doc.Dates)-1] != want[len(want)-1].String() {
		t.Errorf("bookable dates %v, want %v", doc.Dates, want)
	}
	open := false
	for _, w := range doc.Windows {
		open = open || w.Cohort == "53-54" && w.OpenNow
	}
	if !open {
		t.Errorf("windows today %+v: 53-54 is open", doc.Windows)
	}
}
