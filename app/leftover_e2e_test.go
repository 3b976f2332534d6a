package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/room"
)

// Leftover doses over HTTP: the operator issues a clinic a credential, the
// clinic posts two leftover doses, a verified person sees them in their
// district and books one (first dose today, second dose with it), the
// clinic sees them coming; revoked, the credential posts nothing.
func TestLeftoverDosesOverHTTP(t *testing.T) {
	a := startDemo(t)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	if code, b := postJSON(t, base+"/api/v1/admin/clock", admin, map[string]string{"at": "2021-07-20T10:30:00+09:00"}); code != 200 {
		t.Fatalf("clock: %d %s", code, b)
	}
	st := waitAdmitted(t, base, "vaccine", join(t, base, "vaccine").Ticket)
	pass := map[string]string{room.PassHeader: st.Pass}
	clinic := searchGangnam(t, base, pass)[0].Clinic.ID

	code, b := postJSON(t, fmt.Sprintf("%s/api/v1/admin/clinics/%d/tokens", base, clinic), admin, nil)
	var issued struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(b, &issued); code != 201 || !strings.HasPrefix(issued.Token, "sct_") {
		t.Fatalf("issue token: %d %s", code, b)
	}
	if code, _ := postJSON(t, fmt.Sprintf("%s/api/v1/admin/clinics/%d/tokens", base, clinic), nil, nil); code != 401 {
		t.Fatalf("issuing without the admin token: %d", code)
	}
	// A clinic id that is not a number names no clinic.
	for _, target := range []string{"POST /api/v1/admin/clinics/x/tokens", "DELETE /api/v1/admin/clinics/x/tokens", "GET /api/v1/clinics/x"} {
		method, path, _ := strings.Cut(target, " ")
		if resp, b := do(t, method, base+path, map[string]string{"Authorization": admin["Authorization"], room.PassHeader: st.Pass}, ""); resp.StatusCode != 404 || !strings.Contains(string(b), "clinic_not_found") {
			t.Errorf("%s: %d %s", target, resp.StatusCode, b)
		}
	}
	clinicAuth := map[string]string{"Authorization": "Bearer " + issued.Token}
	leftover := map[string]any{"vaccine_id": "pfizer", "doses": 2, "until": "2021-07-20T17:00:00+09:00"}
	if code, b := postJSON(t, base+"/api/v1/clinic/leftovers", map[string]string{"Authorization": "Bearer sct_wrong"}, leftover); code != 401 || !strings.Contains(string(b), "clinic_token_invalid") {
		t.Fatalf("a wrong clinic token: %d %s", code, b)
	}
	// The token is read as every bearer token is (the scheme in any case,
	// and nothing without it).
	for _, tc := range []struct {
		scheme string
		want   int
	}{{"bearer ", 200}, {"BEARER ", 200}, {"", 401}} {
		if resp, b := do(t, "GET", base+"/api/v1/clinic/today", map[string]string{"Authorization": tc.scheme + issued.Token}, ""); resp.StatusCode != tc.want {
			t.Fatalf("clinic today with Authorization %q<token>: %d %s, want %d", tc.scheme, resp.StatusCode, b, tc.want)
		}
	}
	if code, b := postJSON(t, base+"/api/v1/clinic/leftovers", clinicAuth, map[string]any{"vaccine_id": "pfizer", "doses": 2, "until": "2021-07-21T17:00:00+09:00"}); code != 400 {
		t.Fatalf("leftovers for tomorrow: %d %s", code, b)
	}
	code, b = postJSON(t, base+"/api/v1/clinic/leftovers", clinicAuth, leftover)
	var posted struct {
		ID   int64 `json:"id"`
		Left int   `json:"left"`
	}
	if json.Unmarshal(b, &posted); code != 201 || posted.Left != 2 {
		t.Fatalf("post leftovers: %d %s", code, b)
	}

	// A verified person in Gangnam sees them and books one.
	_, _, challenge, demoCode := startVerification(t, base, pass)
	_, _, sess := confirmCode(t, base, pass, challenge, demoCode)
	resp, b := do(t, "GET", base+"/api/v1/leftovers?district=11680", sess, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf(`"id": %d`, posted.ID)) || !strings.Contains(string(b), `"left": 2`) {
		t.Fatalf("leftovers near: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "GET", base+"/api/v1/leftovers", pass, ""); resp.StatusCode != 401 {
		t.Fatalf("leftovers without a session: %d %s", resp.StatusCode, b)
	}
	code, b = postJSON(t, fmt.Sprintf("%s/api/v1/leftovers/%d/bookings", base, posted.ID), sess, nil)
	if code != 201 || !strings.Contains(string(b), `"date": "2021-07-20"`) || !strings.Contains(string(b), `"dose": 2`) {
		t.Fatalf("book a leftover: %d %s", code, b)
	}
	// One booking per person: a second leftover is refused.
	if code, b := postJSON(t, fmt.Sprintf("%s/api/v1/leftovers/%d/bookings", base, posted.ID), sess, nil); code != 409 || !strings.Contains(string(b), "already_booked") {
		t.Fatalf("a second leftover for the same person: %d %s", code, b)
	}

	// The clinic sees who is coming (masked) and one dose left.
	resp, b = do(t, "GET", base+"/api/v1/clinic/today", clinicAuth, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "김*수") || !strings.Contains(string(b), `"left": 1`) || strings.Contains(string(b), "김민수") {
		t.Fatalf("clinic today: %d %s", resp.StatusCode, b)
	}

	// Revoked: the credential no longer works.
	req, b := do(t, "DELETE", fmt.Sprintf("%s/api/v1/admin/clinics/%d/tokens", base, clinic), admin, "")
	if req.StatusCode != 200 || !strings.Contains(string(b), `"revoked": 1`) {
		t.Fatalf("revoke: %d %s", req.StatusCode, b)
	}
	if code, _ := postJSON(t, base+"/api/v1/clinic/leftovers", clinicAuth, leftover); code != 401 {
		t.Fatalf("posting with a revoked token: %d", code)
	}
}
