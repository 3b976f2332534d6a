package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// The admin API sets a room's pacing (PATCH "pacing"), checks it with
// room.Settings.Validate, switches the room to fixed when the operator
// writes a rate, shows the backend's health as the gate measured it, and
// /metrics exports pacing and backend figures.
func TestAdminPacing(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	path := base + "/api/v1/admin/rooms/e2e"
	resp, b := do(t, "PATCH", path, admin, `{"pacing":{"mode":"auto","target_p95":"500ms","max_rate":200}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH pacing: %d %s", resp.StatusCode, b)
	}
	v := decode[map[string]any](t, b)
	p := v["settings"].(map[string]any)["pacing"].(map[string]any)
	if p["mode"] != "auto" || p["target_p95"] != "500ms" || p["max_rate"] != 200.0 || p["min_rate"] != 1.0 || p["max_error_rate"] != 0.01 {
		t.Fatalf("pacing after PATCH: %v", p)
	}
	for body, field := range map[string]string{
		`{"pacing":{"mode":"sometimes"}}`:               "pacing.mode",
		`{"pacing":{"target_p95":"1ms"}}`:               "pacing.target_p95",
		`{"pacing":{"min_rate":300}}`:                   "pacing.max_rate",
		`{"pacing":{"max_error_rate":0}}`:               "pacing.max_error_rate",
		`{"pacing":{"mode":"auto","min_rate":-1}}`:      "pacing.min_rate",
		`{"pacing":{"mode":"auto","max_rate":2000000}}`: "pacing.max_rate",
	} {
		resp, b := do(t, "PATCH", path, admin, body)
		if d := decode[map[string]any](t, b); resp.StatusCode != http.StatusUnprocessableEntity || d["field"] != field {
			t.Errorf("PATCH %s: %d %s, want 422 naming %s", body, resp.StatusCode, b, field)
		}
	}
	// A request through the gate is measured as the backend's.
	st := waitAdmitted(t, base, "e2e", join(t, base, "e2e").Ticket)
	if resp, b := do(t, "GET", base+"/protected", map[string]string{"Sluice-Pass": st.Pass}, ""); resp.StatusCode != 200 {
		t.Fatalf("protected: %d %s", resp.StatusCode, b)
	}
	_, b = do(t, "GET", path, admin, "")
	if be := decode[map[string]any](t, b)["backend"].(map[string]any); be["requests"] != 1.0 || be["p95_ms"] == nil {
		t.Fatalf("backend after one gated request: %v", be)
	}
	_, b = do(t, "GET", base+"/metrics", admin, "")
	for _, want := range []string{`sluice_pacing_auto{room="e2e"} 1`, `sluice_pacing_target_p95_seconds{room="e2e"} 0.5`,
		`sluice_backend_requests{room="e2e"} 1`, `sluice_backend_latency_p95_seconds{room="e2e"}`, `sluice_backend_in_flight_limit{room="e2e"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The operator writes a rate: it is theirs, fixed.
	resp, b = do(t, "PATCH", path, admin, `{"rate":25}`)
	if p := decode[map[string]any](t, b)["settings"].(map[string]any); resp.StatusCode != 200 || p["rate"] != 25.0 || p["pacing"].(map[string]any)["mode"] != "fixed" {
		t.Fatalf("PATCH rate: %d %s", resp.StatusCode, b)
	}
}

// ?wait=S on the status endpoint: 0 to 10 seconds, anything else refused.
func TestStatusWaitParameter(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	tok := join(t, base, "other").Ticket
	auth := map[string]string{"Authorization": "Bearer " + tok}
	for q, code := range map[string]int{"": 200, "?wait=0": 200, "?wait=2.5": 200, "?wait=10": 200, "?wait=11": 400, "?wait=-1": 400, "?wait=x": 400, "?wait=NaN": 400, "?other=1": 200} {
		resp, b := do(t, "GET", base+"/api/v1/rooms/other/status"+q, auth, "")
		if resp.StatusCode != code {
			t.Errorf("status%s: %d %s, want %d", q, resp.StatusCode, b, code)
		}
		if code == 400 && !strings.Contains(string(b), `"bad_wait"`) {
			t.Errorf("status%s: %s, want bad_wait", q, b)
		}
	}
}

// The pacer's leading signal is visible where the operator looks: the
// admin API's settings.pacing says the rate at which the line's places end
// (end_rate) and whether this node's pacer leads the room (leader), and
// /metrics exports both (sluice_pacing_end_rate, sluice_pacing_leader).
// The room's clock is driven: four places end, then two seconds pass, so
// the end rate is 2 per second.
func TestPacingSignalExported(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC))
	a := startServer(t, clk)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	path := base + "/api/v1/admin/rooms/other"
	pacing := func() map[string]any {
		t.Helper()
		resp, b := do(t, "GET", path, admin, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET room: %d %s", resp.StatusCode, b)
		}
		return decode[map[string]any](t, b)["settings"].(map[string]any)["pacing"].(map[string]any)
	}
	metric := func(want ...string) {
		t.Helper()
		_, b := do(t, "GET", base+"/metrics", admin, "")
		for _, w := range want {
			if !strings.Contains(string(b), "\n"+w+"\n") {
				t.Errorf("/metrics lacks %q", w)
			}
		}
	}
	if p := pacing(); p["end_rate"] != 0.0 || p["leader"] != false {
		t.Fatalf("a fixed room's pacing: %v, want end_rate 0 and leader false", p)
	}
	metric(`sluice_pacing_end_rate{room="other"} 0`, `sluice_pacing_leader{room="other"} 0`)

	if resp, b := do(t, "PATCH", path, admin, `{"pacing":{"mode":"auto"}}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH pacing: %d %s", resp.StatusCode, b)
	}
	// The node's next tick runs a pacing step, alone: it leads.
	until(t, "this node leads the room's pacing", func() bool { return pacing()["leader"] == true })
	// Four people come and go on the stopped clock: the first step saw
	// none ended; the next, two seconds later, sees four.
	for range 4 {
		st := waitAdmitted(t, base, "other", join(t, base, "other").Ticket)
		if resp, b := do(t, "POST", base+"/api/v1/rooms/other/leave", map[string]string{"Authorization": "Bearer " + st.Pass}, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("leave: %d %s", resp.StatusCode, b)
		}
	}
	clk.Advance(2 * time.Second)
	until(t, "end_rate 2 per second", func() bool { return pacing()["end_rate"] == 2.0 })
	if p := pacing(); p["leader"] != true || p["mode"] != "auto" {
		t.Errorf("pacing: %v", p)
	}
	metric(`sluice_pacing_end_rate{room="other"} 2`, `sluice_pacing_leader{room="other"} 1`, `sluice_pacing_leader{room="e2e"} 0`)
}

// until waits for cond, a state the server reaches by itself (its ticks
// run on their own), failing the test if it never does.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}
