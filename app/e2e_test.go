package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

const adminToken = apptest.AdminToken

type problemDoc struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// startServer runs a real Sluice server on a random port with two rooms and
// a gated endpoint /protected (room "e2e").
func startServer(t *testing.T, clk clock.Clock) *app.App {
	t.Helper()
	cfg := apptest.Config()
	cfg.Rooms = []config.RoomConfig{
		{Name: "e2e", RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(1000.0), PassTTL: new(config.Duration(30 * time.Second))}},
		{Name: "other", RoomTuning: config.RoomTuning{Capacity: new(10), Rate: new(1000.0)}},
	}
	return apptest.Start(t, cfg, app.Options{Clock: clk, Routes: protectedRoute("e2e")})
}

// protectedRoute adds /protected, behind the gate of the room, answering
// "secret".
func protectedRoute(roomName string) func(s *web.Server, mux *http.ServeMux) {
	return func(s *web.Server, mux *http.ServeMux) {
		mux.Handle("/protected", s.Gate(roomName).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "secret")
		})))
	}
}

// do makes a request as an API client (redirects are answers, not
// followed) and returns the response with its body read.
func do(t *testing.T, method, url string, headers map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	return send(t, apiClient, method, url, headers, body)
}

var apiClient = noRedirects(&http.Client{})

// noRedirects makes c hand back a redirect as the answer instead of
// following it.
func noRedirects(c *http.Client) *http.Client {
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// newBrowser is a browser without JavaScript: a cookie jar, following
// redirects.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// send makes a request with client c and returns the response with its
// body read.
func send(t *testing.T, c *http.Client, method, url string, headers map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

func join(t *testing.T, base, roomName string) web.StatusDocument {
	t.Helper()
	resp, b := do(t, "POST", base+"/api/v1/rooms/"+roomName+"/tickets", nil, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("join: %d %s", resp.StatusCode, b)
	}
	return decode[web.StatusDocument](t, b)
}

func status(t *testing.T, base, roomName, ticket string) (int, web.StatusDocument) {
	t.Helper()
	resp, b := do(t, "GET", base+"/api/v1/rooms/"+roomName+"/status", map[string]string{"Authorization": "Bearer " + ticket}, "")
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, web.StatusDocument{}
	}
	return resp.StatusCode, decode[web.StatusDocument](t, b)
}

func waitAdmitted(t *testing.T, base, roomName, ticket string) web.StatusDocument {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		code, st := status(t, base, roomName, ticket)
		if code != http.StatusOK {
			t.Fatalf("status: %d", code)
		}
		if st.State == "admitted" {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("not admitted within 5s")
	return web.StatusDocument{}
}

func TestWholeFlowOverHTTP(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()

	// Alice joins an empty room with free capacity: admitted at once.
	alice := join(t, base, "e2e")
	if alice.State != "admitted" || alice.Pass == "" {
		t.Fatalf("alice: %+v", alice)
	}
	// Bob joins: capacity 1 is taken, so he waits first in line.
	bob := join(t, base, "e2e")
	if bob.State != "waiting" || bob.Position == nil || *bob.Position != 1 || *bob.Ahead != 0 || bob.PollAfterMS <= 0 || bob.ETASeconds == nil {
		t.Fatalf("bob: %+v", bob)
	}
	// Sending Bob's ticket again keeps exactly his place.
	resp, b := do(t, "POST", base+"/api/v1/rooms/e2e/tickets", map[string]string{"Authorization": "Bearer " + bob.Ticket}, "")
	again := decode[web.StatusDocument](t, b)
	if resp.StatusCode != http.StatusOK || again.Ticket != bob.Ticket || *again.Position != 1 {
		t.Fatalf("rejoin with ticket: %d %+v", resp.StatusCode, again)
	}
	// Alice uses her pass on the gated page.
	resp, b = do(t, "GET", base+"/protected", map[string]string{room.PassHeader: alice.Pass}, "")
	if resp.StatusCode != 200 || string(b) != "secret" {
		t.Fatalf("alice on gated page: %d %s", resp.StatusCode, b)
	}
	// ... and via the cookie, as a browser would.
	resp, _ = do(t, "GET", base+"/protected", map[string]string{"Cookie": room.PassCookie + "=" + alice.Pass}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("alice with cookie: %d", resp.StatusCode)
	}
	// Bob has no pass yet.
	if code, st := status(t, base, "e2e", bob.Ticket); code != 200 || st.State != "waiting" {
		t.Fatalf("bob before alice leaves: %d %+v", code, st)
	}
	// Alice leaves: her place is freed at once and Bob is admitted.
	resp, _ = do(t, "POST", base+"/api/v1/rooms/e2e/leave", map[string]string{"Authorization": "Bearer " + alice.Pass}, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("leave: %d", resp.StatusCode)
	}
	bobIn := waitAdmitted(t, base, "e2e", bob.Ticket)
	resp, _ = do(t, "GET", base+"/protected", map[string]string{room.PassHeader: bobIn.Pass}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("bob on gated page: %d", resp.StatusCode)
	}
	// Alice's returned pass no longer opens the gate.
	resp, b = do(t, "GET", base+"/protected", map[string]string{room.PassHeader: alice.Pass, "Accept": "application/json"}, "")
	if p := decode[problemDoc](t, b); resp.StatusCode != 401 || p.Code != "pass_revoked" {
		t.Fatalf("returned pass: %d %s", resp.StatusCode, b)
	}
	// Alice's ticket has had its turn.
	if code, _ := status(t, base, "e2e", alice.Ticket); code != http.StatusGone {
		t.Fatalf("alice's old ticket: %d, want 410", code)
	}
}

func TestGateRejectsEveryBadPassKind(t *testing.T) {
	clk := clock.NewSettable(time.Now())
	a := startServer(t, clk)
	base := a.URL()
	good := join(t, base, "e2e")
	if good.Pass == "" {
		t.Fatalf("no pass: %+v", good)
	}
	otherRoom := join(t, base, "other")
	foreign := room.GenerateKeyring("k1") // same key id, different secret
	tampered := []byte(good.Pass)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	expired := a.Keys.IssuePass(room.Pass{Room: "e2e", Position: 1, Issued: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)})

	cases := []struct {
		name, pass, code string
	}{
		{"missing", "", "pass_missing"},
		{"malformed", "not-a-pass!!", "pass_malformed"},
		{"truncated", good.Pass[:len(good.Pass)/2], "pass_malformed"},
		{"oversized", strings.Repeat("A", 5000), "pass_malformed"},
		{"forged", foreign.IssuePass(room.Pass{Room: "e2e", Position: 1, Issued: time.Now(), Expires: time.Now().Add(time.Hour)}), "pass_forged"},
		{"tampered", string(tampered), ""},
		{"expired", expired, "pass_expired"},
		{"other room", otherRoom.Pass, "pass_wrong_room"},
		{"ticket instead of pass", good.Ticket, "pass_wrong_kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Accept": "application/json"}
			if tc.pass != "" {
				h[room.PassHeader] = tc.pass
			}
			resp, b := do(t, "GET", base+"/protected", h, "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("API client: status %d, want 401 (%s)", resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			p := decode[problemDoc](t, b)
			if tc.code != "" && p.Code != tc.code {
				t.Fatalf("code %q, want %q", p.Code, tc.code)
			}
			if tc.code == "" && p.Code != "pass_forged" && p.Code != "pass_malformed" {
				t.Fatalf("tampered: code %q", p.Code)
			}
			// A browser is sent to the waiting page instead.
			h["Accept"] = "text/html,application/xhtml+xml"
			resp, _ = do(t, "GET", base+"/protected?x=1", h, "")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/wait/e2e?return=%2Fprotected%3Fx%3D1") {
				t.Fatalf("browser: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	// The good pass still works, and expires with the clock.
	resp, _ := do(t, "GET", base+"/protected", map[string]string{room.PassHeader: good.Pass}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("good pass: %d", resp.StatusCode)
	}
	clk.Set(time.Now().Add(31 * time.Second))
	resp, _ = do(t, "GET", base+"/protected", map[string]string{room.PassHeader: good.Pass}, "")
	if resp.StatusCode != 401 {
		t.Fatalf("pass after its lifetime: %d, want 401", resp.StatusCode)
	}
	// Rejections are counted by reason in /metrics.
	_, b := do(t, "GET", base+"/metrics", nil, "")
	// forged + tampered, each once as an API client and once as a browser.
	if !strings.Contains(string(b), `sluice_gate_rejections_total{reason="forged",room="e2e"} 4`) {
		t.Errorf("metrics do not count forged rejections:\n%s", grep(string(b), "gate_rejections"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestBadInputGetsClear4xx(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		code    string
	}{
		{"unknown room", "POST", "/api/v1/rooms/nope/tickets", nil, "", 404, "room_not_found"},
		{"wrong method", "DELETE", "/api/v1/rooms/e2e/tickets", nil, "", 405, "method_not_allowed"},
		{"status without ticket", "GET", "/api/v1/rooms/e2e/status", nil, "", 401, "ticket_missing"},
		{"random ticket", "GET", "/api/v1/rooms/e2e/status", map[string]string{"Authorization": "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "", 401, "ticket_invalid"},
		{"junk ticket", "GET", "/api/v1/rooms/e2e/status", map[string]string{"Authorization": "Bearer ***...%%%"}, "", 401, "ticket_invalid"},
		{"huge ticket", "GET", "/api/v1/rooms/e2e/status", map[string]string{"Authorization": "Bearer " + strings.Repeat("x", 10000)}, "", 401, "ticket_invalid"},
		{"huge header", "GET", "/api/v1/rooms/e2e/status", map[string]string{"X-Junk": strings.Repeat("x", 40000)}, "", 431, "headers_too_large"},
		{"huge body", "POST", "/api/v1/rooms/e2e/tickets", nil, strings.Repeat("x", 100000), 413, "body_too_large"},
		{"leave without pass", "POST", "/api/v1/rooms/e2e/leave", nil, "", 401, "pass_missing"},
		{"leave with garbage", "POST", "/api/v1/rooms/e2e/leave", map[string]string{"Authorization": "Bearer zzz"}, "", 401, "pass_malformed"},
		{"unknown api path", "GET", "/api/v1/nothing", nil, "", 404, "not_found"},
		{"admin without token", "GET", "/api/v1/admin/rooms/e2e", nil, "", 401, "admin_auth"},
		{"admin wrong token", "GET", "/api/v1/admin/rooms/e2e", map[string]string{"Authorization": "Bearer wrong"}, "", 401, "admin_auth"},
		{"admin bad json", "PATCH", "/api/v1/admin/rooms/e2e", admin, "{", 400, "invalid_json"},
		{"admin unknown field", "PATCH", "/api/v1/admin/rooms/e2e", admin, `{"capacityy":3}`, 400, "invalid_json"},
		{"admin bad capacity", "PATCH", "/api/v1/admin/rooms/e2e", admin, `{"capacity":-3}`, 422, "invalid_settings"},
		{"admin unknown action", "POST", "/api/v1/admin/rooms/e2e/explode", admin, "", 404, "unknown_action"},
		{"admin create bad name", "PUT", "/api/v1/admin/rooms/Bad..Name", admin, `{}`, 422, "invalid_settings"},
		{"admin create existing", "PUT", "/api/v1/admin/rooms/e2e", admin, `{}`, 409, "room_exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, tc.method, base+tc.path, tc.headers, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q: %s", ct, b)
			}
			if p := decode[problemDoc](t, b); p.Code != tc.code || p.Status != tc.status || p.Detail == "" {
				t.Fatalf("problem %+v, want code %q", p, tc.code)
			}
		})
	}
}

func TestAdminControlsRoom(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	first := join(t, base, "e2e") // takes the only place
	_ = first
	second := join(t, base, "e2e")

	resp, b := do(t, "POST", base+"/api/v1/admin/rooms/e2e/pause", admin, "")
	if resp.StatusCode != 200 {
		t.Fatalf("pause: %d %s", resp.StatusCode, b)
	}
	if _, st := status(t, base, "e2e", second.Ticket); st.State != "paused" || st.ETASeconds != nil || st.QueueID == "" || st.Message != "" {
		t.Fatalf("while paused: %+v", st)
	}
	// The operator tells the line why, and when admission should resume.
	resp, b = do(t, "PATCH", base+"/api/v1/admin/rooms/e2e", admin, `{"message": "서버 점검 중입니다 \"잠시\"만요", "resume_at": "2030-01-02T03:04:05+09:00"}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"message": "서버 점검 중입니다 \"잠시\"만요"`) {
		t.Fatalf("patch message: %d %s", resp.StatusCode, b)
	}
	if _, st := status(t, base, "e2e", second.Ticket); st.Message != `서버 점검 중입니다 "잠시"만요` || st.ResumeAt != "2030-01-01T18:04:05Z" {
		t.Fatalf("status with a message: %+v", st)
	}
	resp, b = do(t, "PATCH", base+"/api/v1/admin/rooms/e2e", admin, `{"message": "", "resume_at": ""}`)
	if _, st := status(t, base, "e2e", second.Ticket); resp.StatusCode != 200 || st.Message != "" || st.ResumeAt != "" {
		t.Fatalf("message cleared: %d %s %+v", resp.StatusCode, b, st)
	}
	if resp, b = do(t, "PATCH", base+"/api/v1/admin/rooms/e2e", admin, `{"message": "two\nlines"}`); resp.StatusCode != 422 || decode[map[string]any](t, b)["field"] != "message" {
		t.Fatalf("a message with a line break: %d %s, want 422 naming the field message", resp.StatusCode, b)
	}
	// Raising capacity while paused admits nobody.
	resp, b = do(t, "PATCH", base+"/api/v1/admin/rooms/e2e", admin, `{"capacity": 3, "rate": 50}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"capacity": 3`) {
		t.Fatalf("patch: %d %s", resp.StatusCode, b)
	}
	// Admission ticks run (the test runs some itself, on top of the
	// app's own); none may admit anybody while the room is paused.
	for range 3 {
		a.Rooms.TickAll()
	}
	if _, st := status(t, base, "e2e", second.Ticket); st.State != "paused" {
		t.Fatalf("paused room admitted someone: %+v", st)
	}
	do(t, "POST", base+"/api/v1/admin/rooms/e2e/resume", admin, "")
	waitAdmitted(t, base, "e2e", second.Ticket)

	resp, b = do(t, "GET", base+"/api/v1/admin/rooms/e2e", admin, "")
	var v struct {
		Active  int `json:"active"`
		Joined  int `json:"joined"`
		Serving int `json:"serving"`
	}
	if err := json.Unmarshal(b, &v); err != nil || resp.StatusCode != 200 || v.Active != 2 || v.Joined != 2 || v.Serving != 2 {
		t.Fatalf("admin view: %d %s", resp.StatusCode, b)
	}
	// Closing: no more joins.
	do(t, "POST", base+"/api/v1/admin/rooms/e2e/close", admin, "")
	resp, b = do(t, "POST", base+"/api/v1/rooms/e2e/tickets", nil, "")
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("join closed room: %d %s", resp.StatusCode, b)
	}
	// Creating a room over the admin API.
	resp, b = do(t, "PUT", base+"/api/v1/admin/rooms/fresh", admin, `{"capacity": 2, "rate": 5, "pass_ttl": "5m"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if st := join(t, base, "fresh"); st.State != "admitted" {
		t.Fatalf("new room: %+v", st)
	}
}

// Room settings mean what they say over the admin API: zero is refused
// (not turned into the default), every numeric setting has the bounds of
// room.Settings.Validate, and the answer is 422 problem+json naming the
// field; a refused change changes nothing.
func TestAdminSettingsBounds(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	rm, _ := a.Rooms.Get("other")
	before := rm.Settings()
	for _, tc := range []struct{ body, field string }{
		{`{"capacity":0}`, "capacity"},
		{`{"rate":0}`, "rate"},
		{`{"rate":1e-9}`, "rate"},
		{`{"capacity":10000001}`, "capacity"},
		{`{"rate":1000001}`, "rate"},
		{`{"pass_ttl":"0s"}`, "pass_ttl"},
		{`{"pass_ttl":0}`, "pass_ttl"},
		{`{"claim_timeout":"2h"}`, "claim_timeout"},
		{`{"poll_budget":0}`, "poll_budget"},
		{`{"poll_budget":1e300}`, "poll_budget"},
		{`{"min_poll":"10ms"}`, "min_poll"},
		{`{"capacity":5,"rate":0}`, "rate"},
		{`{"message":"two\nlines"}`, "message"},
		{`{"resume_at":"0202-07-19T22:00:00+09:00"}`, "resume_at"},
	} {
		for _, method := range []string{"PATCH", "PUT"} {
			path := "/api/v1/admin/rooms/other"
			if method == "PUT" {
				path = "/api/v1/admin/rooms/fresh"
			}
			resp, b := do(t, method, base+path, admin, tc.body)
			p := decode[map[string]any](t, b)
			if resp.StatusCode != http.StatusUnprocessableEntity || p["code"] != "invalid_settings" || p["field"] != tc.field ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d %s, want 422 invalid_settings naming %s", method, tc.body, resp.StatusCode, b, tc.field)
			}
		}
	}
	if after := rm.Settings(); after != before {
		t.Errorf("refused changes changed the room: %+v, was %+v", after, before)
	}
	if _, ok := a.Rooms.Get("fresh"); ok {
		t.Error("a refused PUT created the room")
	}
	resp, b := do(t, "PUT", base+"/api/v1/admin/rooms/fresh", admin, `{"waiting_url":"http://queue.example/wait"}`)
	if p := decode[map[string]any](t, b); resp.StatusCode != 422 || p["field"] != "waiting_url" {
		t.Errorf("plain-http waiting_url: %d %s", resp.StatusCode, b)
	}
	// What is left out is unset: PATCH keeps it, PUT takes the default.
	resp, b = do(t, "PATCH", base+"/api/v1/admin/rooms/other", admin, `{"rate":0.001}`)
	if st := rm.Settings(); resp.StatusCode != 200 || st.Rate != 0.001 || st.Capacity != before.Capacity {
		t.Errorf("PATCH rate: %d %s, settings %+v", resp.StatusCode, b, st)
	}
	resp, b = do(t, "PUT", base+"/api/v1/admin/rooms/fresh", admin, `{"rate":null}`)
	if fresh, ok := a.Rooms.Get("fresh"); resp.StatusCode != 201 || !ok || fresh.Settings().Rate != room.DefaultRate {
		t.Errorf("PUT with rate null: %d %s", resp.StatusCode, b)
	}
	// A room may be created with the operator's word to the line, in the
	// same form as a PATCH writes it.
	resp, b = do(t, "PUT", base+"/api/v1/admin/rooms/worded", admin, `{"message":" 점검 중 ","resume_at":"2030-01-02T03:04:05+09:00"}`)
	if worded, ok := a.Rooms.Get("worded"); resp.StatusCode != 201 || !ok || worded.Settings().Message != "점검 중" ||
		worded.Settings().ResumeAt != time.Date(2030, 1, 1, 18, 4, 5, 0, time.UTC) {
		t.Errorf("PUT with a message: %d %s", resp.StatusCode, b)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	a := startServer(t, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, _ := do(t, "GET", a.URL()+p, nil, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, b := do(t, "GET", a.URL()+"/metrics", nil, "")
	for _, m := range []string{"sluice_joins_total", "sluice_admissions_total", "sluice_active_sessions", "sluice_queue_length", "sluice_gate_rejections_total"} {
		if resp.StatusCode != 200 || !strings.Contains(string(b), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}
