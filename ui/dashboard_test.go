package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/ui"
	"github.com/sluicehq/sluice/web"
)

const dashToken = "dash-test-token-0123456789"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type dashEnv struct {
	ts       *httptest.Server
	rooms    *room.Manager
	failures *web.AuthFailures // the admin check's throttle
}

func newDashEnv(t *testing.T) *dashEnv {
	t.Helper()
	keys := room.GenerateKeyring("t")
	m := room.NewManager(keys, nil, nil, quiet)
	for _, st := range []room.Settings{{Name: "demo", Capacity: 5, Rate: 2}, {Name: "vaccine", Capacity: 50, Rate: 10}} {
		if _, err := m.Add(st); err != nil {
			t.Fatal(err)
		}
	}
	failures := &web.AuthFailures{}
	srv := &web.Server{Rooms: m, Keys: keys, Clock: clock.System{}, Log: quiet, AdminToken: dashToken, AdminFailures: failures}
	d := &ui.Dashboard{Server: srv, Rooms: m, Clock: clock.System{}}
	mux := http.NewServeMux()
	d.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &dashEnv{ts: ts, rooms: m, failures: failures}
}

type reply struct {
	*http.Response
	body string
}

func (e *dashEnv) do(t *testing.T, method, path string, form url.Values, headers map[string]string) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return reply{res, string(b)}
}

// login signs in and returns the session cookie header.
func (e *dashEnv) login(t *testing.T) string {
	t.Helper()
	r := e.do(t, "POST", "/admin/login", url.Values{"token": {dashToken}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	for _, c := range r.Cookies() {
		if c.Name == "sluice_admin" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("login set no session cookie")
	return ""
}

func TestDashboardLoginRequired(t *testing.T) {
	e := newDashEnv(t)
	r := e.do(t, "GET", "/admin", nil, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/login" {
		t.Fatalf("GET /admin without a session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := e.do(t, "GET", "/admin/api/live", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("live without a session: %d", r.StatusCode)
	}
	if r := e.do(t, "POST", "/admin/rooms/demo/pause", url.Values{"confirm": {"yes"}}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("pause without a session: %d", r.StatusCode)
	}
	if rm, _ := e.rooms.Get("demo"); rm.Settings().Paused {
		t.Fatal("paused without a session")
	}
	r = e.do(t, "GET", "/admin/login", nil, nil)
	if r.StatusCode != 200 || !strings.Contains(r.body, `name="token"`) {
		t.Fatalf("login page: %d", r.StatusCode)
	}

	// Wrong tokens are refused, and set no cookie.
	for _, tok := range []string{"", "wrong", dashToken + "x", dashToken[:10]} {
		r := e.do(t, "POST", "/admin/login", url.Values{"token": {tok}}, nil)
		if r.StatusCode != http.StatusUnauthorized || len(r.Cookies()) != 0 {
			t.Errorf("token %q: %d, cookies %v", tok, r.StatusCode, r.Cookies())
		}
		if !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("token %q: no error message", tok)
		}
	}

	// The right one sets an HttpOnly, SameSite=Strict cookie that does not
	// hold the token.
	r = e.do(t, "POST", "/admin/login", url.Values{"token": {dashToken}}, nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	var c *http.Cookie
	for _, x := range r.Cookies() {
		if x.Name == "sluice_admin" {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || strings.Contains(c.Value, dashToken) || c.MaxAge <= 0 {
		t.Fatalf("session cookie: %+v", c)
	}
	cookie := map[string]string{"Cookie": c.Name + "=" + c.Value}
	if r := e.do(t, "GET", "/admin", nil, cookie); r.StatusCode != 200 || !strings.Contains(r.body, "vaccine") {
		t.Fatalf("GET /admin signed in: %d", r.StatusCode)
	}
	if r := e.do(t, "GET", "/admin/login", nil, cookie); r.StatusCode != http.StatusSeeOther {
		t.Errorf("login page when signed in: %d", r.StatusCode)
	}
	// A forged or altered cookie is not a session.
	for _, v := range []string{"1", c.Value + "x", "9999999999." + strings.SplitN(c.Value, ".", 2)[1], "garbage"} {
		if r := e.do(t, "GET", "/admin", nil, map[string]string{"Cookie": "sluice_admin=" + v}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("cookie %q accepted: %d", v, r.StatusCode)
		}
	}
	// Signing out clears it.
	r = e.do(t, "POST", "/admin/logout", url.Values{}, cookie)
	if r.StatusCode != http.StatusSeeOther || len(r.Cookies()) != 1 || r.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d %v", r.StatusCode, r.Cookies())
	}
}

func TestDashboardLiveJSON(t *testing.T) {
	e := newDashEnv(t)
	rm, _ := e.rooms.Get("vaccine")
	for range 3 {
		if _, _, err := rm.Join(); err != nil {
			t.Fatal(err)
		}
	}
	cookie := map[string]string{"Cookie": e.login(t)}
	for name, h := range map[string]map[string]string{"cookie": cookie, "bearer": {"Authorization": "Bearer " + dashToken}} {
		r := e.do(t, "GET", "/admin/api/live", nil, h)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d %v", name, r.StatusCode, r.Header)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"now", "window_seconds", "rooms", "booking", "notifications", "text"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("%s: no %q in %s", name, k, r.body)
			}
		}
		rooms := doc["rooms"].([]any)
		if len(rooms) != 2 {
			t.Fatalf("rooms: %v", rooms)
		}
		v := rooms[0].(map[string]any) // the room with people in it comes first
		for _, k := range []string{"room", "state", "paused", "closed", "waiting", "active", "capacity", "rate", "admissions_total",
			"joins_total", "admissions_per_second", "joins_per_second", "bookings_per_minute", "gate_rejections", "gate_rejections_total", "series"} {
			if _, ok := v[k]; !ok {
				t.Errorf("%s: room has no %q: %v", name, k, v)
			}
		}
		if v["room"] != "vaccine" || v["joins_total"] != 3.0 || v["active"] != 1.0 || v["waiting"] != 2.0 || v["capacity"] != 50.0 {
			t.Errorf("%s: vaccine figures: %v", name, v)
		}
		if rej := v["gate_rejections"].(map[string]any); len(rej) != len(room.Reasons) {
			t.Errorf("gate rejections by reason: %v", rej)
		}
		series := v["series"].(map[string]any)
		for _, k := range []string{"age_seconds", "waiting", "active", "admissions_per_second", "joins_per_second"} {
			if a, ok := series[k].([]any); !ok || len(a) == 0 {
				t.Errorf("series %q: %v", k, series[k])
			}
		}
		text := doc["text"].(map[string]any)
		if text["vaccine.waiting"] != "2" || text["vaccine.active"] != "1 / 50" {
			t.Errorf("text: %v", text)
		}
	}
	if r := e.do(t, "GET", "/admin/api/live", nil, map[string]string{"Authorization": "Bearer nope"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong bearer: %d", r.StatusCode)
	}
}

// The dashboard opens on an overview of every room, the busiest first;
// a paused room's admission rate reads zero at once; each room says how
// long its line takes to clear.
func TestDashboardOverview(t *testing.T) {
	e := newDashEnv(t)
	cookie := map[string]string{"Cookie": e.login(t)}
	live := func() map[string]map[string]any {
		t.Helper()
		var doc struct {
			Rooms []map[string]any `json:"rooms"`
		}
		r := e.do(t, "GET", "/admin/api/live", nil, cookie)
		if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		out := map[string]map[string]any{}
		for i, rm := range doc.Rooms {
			rm["order"] = float64(i)
			out[rm["room"].(string)] = rm
		}
		return out
	}
	// "demo" sorts first by name; nobody waits in it.
	if r := live(); r["demo"]["order"] != 0.0 || r["vaccine"]["clear_seconds"] != 0.0 {
		t.Fatalf("empty rooms: %v", r)
	}
	rm, _ := e.rooms.Get("vaccine")
	for range 21 {
		if _, _, err := rm.Join(); err != nil {
			t.Fatal(err)
		}
	}
	r := live()
	v := r["vaccine"]
	if v["order"] != 0.0 || r["demo"]["order"] != 1.0 {
		t.Errorf("the room with a line is not first: vaccine %v, demo %v", v["order"], r["demo"]["order"])
	}
	// 20 waiting at 10 per second (the rate until one is measured).
	if v["waiting"] != 20.0 || v["clear_seconds"] != 2.0 {
		t.Errorf("waiting %v, clear in %v s, want 20 and 2", v["waiting"], v["clear_seconds"])
	}
	if rate := v["admissions_per_second"].(float64); !(rate > 0) {
		t.Fatalf("admission rate %v after admitting", rate)
	}
	if _, err := rm.Update(func(st *room.Settings) { st.Paused = true }); err != nil {
		t.Fatal(err)
	}
	v = live()["vaccine"]
	if v["admissions_per_second"] != 0.0 || v["clear_seconds"] != -1.0 {
		t.Errorf("paused: admission rate %v, clear in %v, want 0 and -1", v["admissions_per_second"], v["clear_seconds"])
	}

	page := e.do(t, "GET", "/admin", nil, cookie).body
	overview, firstRoom := strings.Index(page, `id="overview"`), strings.Index(page, `<section class="room"`)
	if overview < 0 || firstRoom < 0 || overview > firstRoom || !strings.Contains(page[overview:firstRoom], "줄이 비기까지") {
		t.Fatalf("no overview before the rooms:\n%s", page)
	}
	if !strings.Contains(page[overview:firstRoom], `data-v="vaccine.clear">멈춤<`) || strings.Index(page, `id="room-vaccine"`) > strings.Index(page, `id="room-demo"`) {
		t.Errorf("overview: %s", page[overview:firstRoom])
	}
}

func TestDashboardControls(t *testing.T) {
	e := newDashEnv(t)
	cookie := map[string]string{"Cookie": e.login(t)}
	rm, _ := e.rooms.Get("demo")

	// Without confirm=yes (no JavaScript): a confirmation page, no change.
	r := e.do(t, "POST", "/admin/rooms/demo/pause", url.Values{"confirm": {""}}, cookie)
	if r.StatusCode != 200 || !strings.Contains(r.body, `name="confirm" value="yes"`) || !strings.Contains(r.body, `action="/admin/rooms/demo/pause"`) {
		t.Fatalf("confirmation page: %d %s", r.StatusCode, r.body)
	}
	if rm.Settings().Paused {
		t.Fatal("paused before confirmation")
	}
	// Confirmed: paused, back to the dashboard with a message.
	r = e.do(t, "POST", "/admin/rooms/demo/pause", url.Values{"confirm": {"yes"}}, cookie)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin?done=pause&room=demo") {
		t.Fatalf("pause: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if !rm.Settings().Paused || rm.State() != room.StatePaused {
		t.Fatal("the room is not paused")
	}
	r = e.do(t, "GET", r.Header.Get("Location"), nil, cookie)
	if !strings.Contains(r.body, `class="flash" role="status"`) {
		t.Errorf("no confirmation message on the dashboard")
	}
	if !regexp.MustCompile(`action="/admin/rooms/demo/pause"[^>]*hidden`).MatchString(r.body) ||
		regexp.MustCompile(`action="/admin/rooms/demo/resume"[^>]*hidden`).MatchString(r.body) {
		t.Errorf("a paused room should offer resume, not pause")
	}
	for _, step := range []struct {
		action string
		check  func(room.Settings) bool
	}{
		{"resume", func(s room.Settings) bool { return !s.Paused }},
		{"close", func(s room.Settings) bool { return s.Closed }},
		{"reopen", func(s room.Settings) bool { return !s.Closed }},
	} {
		r := e.do(t, "POST", "/admin/rooms/demo/"+step.action, url.Values{"confirm": {"yes"}}, cookie)
		if r.StatusCode != http.StatusSeeOther || !step.check(rm.Settings()) {
			t.Errorf("%s: %d, settings %+v", step.action, r.StatusCode, rm.Settings())
		}
	}

	// Capacity and rate.
	r = e.do(t, "POST", "/admin/rooms/demo/settings", url.Values{"capacity": {"7"}, "rate": {"3.5"}}, cookie)
	if r.StatusCode != 200 || !strings.Contains(r.body, `name="capacity" value="7"`) || rm.Settings().Capacity != 5 {
		t.Fatalf("settings confirmation: %d", r.StatusCode)
	}
	r = e.do(t, "POST", "/admin/rooms/demo/settings", url.Values{"capacity": {"7"}, "rate": {"3.5"}, "confirm": {"yes"}}, cookie)
	if st := rm.Settings(); r.StatusCode != http.StatusSeeOther || st.Capacity != 7 || st.Rate != 3.5 {
		t.Fatalf("settings: %d %+v", r.StatusCode, st)
	}
	// Refused values come back in the room's form, with what is wrong
	// next to the field: the bounds of room.Settings.Validate, the same
	// as the admin API's and the configuration file's.
	for _, tc := range []struct {
		form  url.Values
		field string
		say   string
	}{
		{url.Values{"capacity": {"0"}, "rate": {"1"}}, "capacity", "Pause admission"},
		{url.Values{"capacity": {"x"}, "rate": {"1"}}, "capacity", "from 1 to 10,000,000"},
		{url.Values{"capacity": {"10000001"}, "rate": {"1"}}, "capacity", "from 1 to 10,000,000"},
		{url.Values{"capacity": {"3"}, "rate": {"-1"}}, "rate", "from 0.001 to 1,000,000"},
		{url.Values{"capacity": {"3"}, "rate": {"0"}}, "rate", "Pause admission"},
		{url.Values{"capacity": {"3"}, "rate": {"0.0001"}}, "rate", "from 0.001"},
		{url.Values{"capacity": {"3"}, "rate": {"NaN"}}, "rate", "from 0.001"},
		{url.Values{"capacity": {"3"}}, "rate", "from 0.001"},
	} {
		for _, confirm := range []string{"", "yes"} {
			tc.form.Set("confirm", confirm)
			r := e.do(t, "POST", "/admin/rooms/demo/settings?lang=en", tc.form, cookie)
			form := regexp.MustCompile(`(?s)<form class="settings" method="post" action="/admin/rooms/demo/settings".*?</form>`).FindString(r.body)
			entered := tc.form.Get(tc.field)
			if r.StatusCode != http.StatusUnprocessableEntity ||
				!regexp.MustCompile(`id="`+tc.field+`-demo"[^>]*value="`+regexp.QuoteMeta(entered)+`"[^>]*aria-invalid="true" aria-describedby="`+tc.field+`-error-demo"`).MatchString(form) ||
				!regexp.MustCompile(`<p class="field-error" id="`+tc.field+`-error-demo" role="alert">[^<]*`+regexp.QuoteMeta(tc.say)).MatchString(form) {
				t.Errorf("%v: %d, want 422 with the form showing what is wrong with %s (%q):\n%s", tc.form, r.StatusCode, tc.field, tc.say, form)
			}
		}
	}
	if st := rm.Settings(); st.Capacity != 7 || st.Rate != 3.5 {
		t.Errorf("bad input changed settings: %+v", st)
	}
	// The message to the line: confirmed like any control, shown on the
	// dashboard where it is set, then removed.
	msg := url.Values{"message": {`점검 중 "잠시"만요 <곧>`}, "resume_at": {"2021-07-19T22:30"}}
	r = e.do(t, "POST", "/admin/rooms/demo/message", msg, cookie)
	if r.StatusCode != 200 || !strings.Contains(r.body, `name="message" value="점검 중 &#34;잠시&#34;만요 &lt;곧&gt;"`) ||
		!strings.Contains(r.body, `name="resume_at" value="2021-07-19T22:30"`) || rm.Settings().Message != "" {
		t.Fatalf("message confirmation: %d %s", r.StatusCode, r.body)
	}
	msg.Set("confirm", "yes")
	r = e.do(t, "POST", "/admin/rooms/demo/message", msg, cookie)
	if st := rm.Settings(); r.StatusCode != http.StatusSeeOther || st.Message != `점검 중 "잠시"만요 <곧>` ||
		!st.ResumeAt.Equal(time.Date(2021, 7, 19, 22, 30, 0, 0, time.Local)) {
		t.Fatalf("message: %d %+v", r.StatusCode, st)
	}
	page := e.do(t, "GET", "/admin", nil, cookie).body
	if !strings.Contains(page, `href="#message-demo" data-v="demo.message">점검 중 &#34;잠시&#34;만요 &lt;곧&gt;</a>`) ||
		!strings.Contains(page, `id="message-demo"`) || !strings.Contains(page, `value="2021-07-19T22:30"`) {
		t.Errorf("the message is not shown where it is set:\n%s", page)
	}
	// A refused message comes back in the room's message form, as typed,
	// with what is wrong next to the field (room.Settings.Validate, as for
	// the admin API), the current message kept.
	for _, tc := range []struct {
		form           url.Values
		id, errID, say string
	}{
		{url.Values{"message": {"two\nlines"}}, "message-text-demo", "message-error-demo", "one line"},
		{url.Values{"message": {strings.Repeat("가", room.MaxMessageLen+1)}}, "message-text-demo", "message-error-demo", fmt.Sprintf("at most %d characters", room.MaxMessageLen)},
		{url.Values{"message": {"x"}, "resume_at": {"tomorrow"}}, "resume-demo", "resume-error-demo", "date and time"},
		{url.Values{"message": {"x"}, "resume_at": {"0202-07-19T22:00"}}, "resume-demo", "resume-error-demo", fmt.Sprintf("from %d to %d", room.MinResumeYear, room.MaxResumeYear)},
	} {
		tc.form.Set("confirm", "yes")
		r := e.do(t, "POST", "/admin/rooms/demo/message?lang=en", tc.form, cookie)
		form := regexp.MustCompile(`(?s)<form class="settings notice-form" id="message-demo".*?</form>`).FindString(r.body)
		if r.StatusCode != http.StatusUnprocessableEntity ||
			!regexp.MustCompile(`id="`+tc.id+`"[^>]*aria-invalid="true" aria-describedby="`+tc.errID+`"`).MatchString(form) ||
			!regexp.MustCompile(`<p class="field-error" id="`+tc.errID+`" role="alert">[^<]*`+regexp.QuoteMeta(tc.say)).MatchString(form) ||
			!strings.Contains(form, template.HTMLEscapeString(tc.form.Get("message"))+"</textarea>") {
			t.Errorf("%v: %d, want 422 with the message form showing what is wrong (%q):\n%s", tc.form, r.StatusCode, tc.say, form)
		}
		if st := rm.Settings(); st.Message != `점검 중 "잠시"만요 <곧>` {
			t.Errorf("%v changed the message: %q", tc.form, st.Message)
		}
	}
	r = e.do(t, "POST", "/admin/rooms/demo/message", url.Values{"message": {""}, "resume_at": {""}, "confirm": {"yes"}}, cookie)
	if st := rm.Settings(); r.StatusCode != http.StatusSeeOther || st.Message != "" || !st.ResumeAt.IsZero() {
		t.Fatalf("message removed: %d %+v", r.StatusCode, st)
	}

	if r := e.do(t, "POST", "/admin/rooms/nope/pause", url.Values{"confirm": {"yes"}}, cookie); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown room: %d", r.StatusCode)
	}
	if r := e.do(t, "POST", "/admin/rooms/demo/explode", url.Values{"confirm": {"yes"}}, cookie); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown action: %d", r.StatusCode)
	}
}

func TestDashboardCrossOriginRefused(t *testing.T) {
	e := newDashEnv(t)
	session := e.login(t)
	rm, _ := e.rooms.Get("demo")
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		h["Cookie"] = session
		r := e.do(t, "POST", "/admin/rooms/demo/pause", url.Values{"confirm": {"yes"}}, h)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%v: %d", h, r.StatusCode)
		}
		if r := e.do(t, "POST", "/admin/login", url.Values{"token": {dashToken}}, h); r.StatusCode != http.StatusForbidden {
			t.Errorf("login %v: %d", h, r.StatusCode)
		}
	}
	if rm.Settings().Paused {
		t.Fatal("a cross-origin post paused the room")
	}
	// The same request from the dashboard's own origin goes through.
	r := e.do(t, "POST", "/admin/rooms/demo/pause", url.Values{"confirm": {"yes"}}, map[string]string{"Cookie": session, "Sec-Fetch-Site": "same-origin", "Origin": e.ts.URL})
	if r.StatusCode != http.StatusSeeOther || !rm.Settings().Paused {
		t.Fatalf("same-origin pause: %d", r.StatusCode)
	}
}

var (
	reControl = regexp.MustCompile(`(?s)<(input|select|textarea)\b([^>]*)>`)
	reID      = regexp.MustCompile(`\bid="([^"]+)"`)
	reType    = regexp.MustCompile(`\btype="([^"]+)"`)
	reButton  = regexp.MustCompile(`(?s)<button\b[^>]*>(.*?)</button>`)
	reTag     = regexp.MustCompile(`<[^>]*>`)
	reRawKey  = regexp.MustCompile(`>\s*dash\.[a-z_]+\s*<`)
)

// checkLabels fails if a visible form control has no <label for> or a
// button no text.
func checkLabels(t *testing.T, page, html string) {
	t.Helper()
	n := 0
	for _, m := range reControl.FindAllStringSubmatch(html, -1) {
		if ty := reType.FindStringSubmatch(m[2]); ty != nil && ty[1] == "hidden" {
			continue
		}
		n++
		id := reID.FindStringSubmatch(m[2])
		if id == nil {
			t.Errorf("%s: control without id: %s", page, m[0])
			continue
		}
		if !strings.Contains(html, `<label for="`+id[1]+`">`) {
			t.Errorf("%s: no label for #%s", page, id[1])
		}
		if strings.Count(html, `id="`+id[1]+`"`) != 1 {
			t.Errorf("%s: id %s is not unique", page, id[1])
		}
	}
	for _, m := range reButton.FindAllStringSubmatch(html, -1) {
		n++
		if strings.TrimSpace(reTag.ReplaceAllString(m[1], "")) == "" {
			t.Errorf("%s: button without text: %s", page, m[0])
		}
	}
	if n == 0 {
		t.Errorf("%s: no controls found", page)
	}
	if m := reRawKey.FindString(html); m != "" {
		t.Errorf("%s: untranslated catalogue key %s", page, m)
	}
	if !regexp.MustCompile(`<html lang="(ko|en)">`).MatchString(html) || !strings.Contains(html, "<h1>") {
		t.Errorf("%s: no lang or no h1", page)
	}
}

func TestDashboardControlsLabelled(t *testing.T) {
	e := newDashEnv(t)
	for _, lang := range []string{"ko", "en"} {
		r := e.do(t, "GET", "/admin/login?lang="+lang, nil, nil)
		checkLabels(t, "login "+lang, r.body)
		wrong := e.do(t, "POST", "/admin/login", url.Values{"token": {"x"}}, map[string]string{"Cookie": "lang=" + lang})
		checkLabels(t, "login error "+lang, wrong.body)
		h := map[string]string{"Cookie": e.login(t) + "; lang=" + lang}
		r = e.do(t, "GET", "/admin", nil, h)
		if !strings.Contains(r.body, `<html lang="`+lang+`">`) {
			t.Errorf("dashboard not in %s", lang)
		}
		checkLabels(t, "dashboard "+lang, r.body)
		// Both rooms' capacity and rate fields, each labelled.
		for _, id := range []string{"capacity-demo", "rate-demo", "capacity-vaccine", "rate-vaccine"} {
			if !strings.Contains(r.body, `id="`+id+`"`) {
				t.Errorf("no #%s", id)
			}
		}
		r = e.do(t, "POST", "/admin/rooms/demo/close", url.Values{}, h)
		checkLabels(t, "confirm "+lang, r.body)
	}
	if r := e.do(t, "GET", "/admin/login?lang=en", nil, nil); !strings.Contains(r.body, "Admin token") {
		t.Error("English login page")
	}
	if r := e.do(t, "GET", "/admin/login", nil, nil); !strings.Contains(r.body, "관리자 토큰") {
		t.Error("Korean login page by default")
	}
}

func TestDashboardAssets(t *testing.T) {
	e := newDashEnv(t)
	for file, ctype := range map[string]string{"dashboard.js": "text/javascript", "dashboard.css": "text/css"} {
		r := e.do(t, "GET", "/admin/static/"+file, nil, nil)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) || r.Header.Get("ETag") == "" {
			t.Errorf("%s: %d %v", file, r.StatusCode, r.Header)
		}
		if r2 := e.do(t, "GET", "/admin/static/"+file, nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}); r2.StatusCode != http.StatusNotModified {
			t.Errorf("%s revalidation: %d", file, r2.StatusCode)
		}
	}
	if r := e.do(t, "GET", "/admin/static/nope.js", nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d", r.StatusCode)
	}
	// The page loads nothing from outside and forbids framing.
	r := e.do(t, "GET", "/admin/login", nil, nil)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP: %q", csp)
	}
	if strings.Contains(r.body, "http://") || strings.Contains(r.body, "https://") {
		t.Error("login page refers to an outside URL")
	}
}

// TestDashboardWithBooking runs the dashboard over a real demo app: booking
// figures per cohort, the app's history with bookings, and the last
// notifications (verification codes withheld).
func TestDashboardWithBooking(t *testing.T) {
	a := demoApp(t, func(cfg *config.Config, o *app.Options) { cfg.AdminToken, o.Crowd = dashToken, 20 })
	if err := a.Booking().Sender().Send(context.Background(), booking.Message{Kind: "verification", To: "01012345678", Body: "인증번호 [123456]", CreatedAt: a.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Booking().Sender().Send(context.Background(), booking.Message{Kind: "confirmation", To: "01098765432", BookingNumber: "B-1", Body: "예약 확정", CreatedAt: a.Clock.Now()})
	d := &ui.Dashboard{Server: a.Server, Rooms: a.Rooms, Booking: a.Booking(), BookingRoom: "vaccine", Clock: a.Clock, History: a.History}
	mux := http.NewServeMux()
	d.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	e := &dashEnv{ts: ts, rooms: a.Rooms}

	// The app samples its history at start; wait for the first sample.
	eventually(t, 5*time.Second, "the app's first history sample", func() bool { return len(a.History.Series("vaccine")) > 0 })
	r := e.do(t, "GET", "/admin/api/live", nil, map[string]string{"Authorization": "Bearer " + dashToken})
	var doc struct {
		Rooms []struct {
			Room       string `json:"room"`
			HasBooking bool   `json:"has_bookings"`
			Joins      int    `json:"joins_total"`
			Backend    string `json:"backend"`
			Series     struct {
				Bookings []float64 `json:"bookings_per_minute"`
			} `json:"series"`
		} `json:"rooms"`
		Booking struct {
			Campaign string `json:"campaign"`
			Cohorts  []struct {
				ID         string  `json:"id"`
				Population int     `json:"population"`
				Rate       float64 `json:"rate"`
			} `json:"cohorts"`
		} `json:"booking"`
		Notifications []struct {
			Kind string `json:"kind"`
			To   string `json:"to"`
			Body string `json:"body"`
		} `json:"notifications"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if doc.Booking.Campaign == "" || len(doc.Booking.Cohorts) == 0 || doc.Booking.Cohorts[0].Population == 0 {
		t.Errorf("booking: %+v", doc.Booking)
	}
	var vaccine, demo bool
	if len(doc.Rooms) == 0 || doc.Rooms[0].Room != "vaccine" {
		t.Errorf("the booking room is not first: %+v", doc.Rooms)
	}
	for _, rm := range doc.Rooms {
		switch rm.Room {
		case "vaccine":
			vaccine = true
			if !rm.HasBooking || len(rm.Series.Bookings) == 0 {
				t.Errorf("vaccine room has no booking series: %+v", rm)
			}
			if rm.Joins < 20 {
				t.Errorf("the crowd did not join the vaccine room: %d joins", rm.Joins)
			}
			if rm.Backend != "ok" {
				t.Errorf("the booking service's health: %q, want ok", rm.Backend)
			}
		case "demo":
			demo = true
			if rm.HasBooking || rm.Joins != 0 || rm.Backend != "" {
				t.Errorf("demo room: %+v (no crowd, no bookings)", rm)
			}
		}
	}
	if !vaccine || !demo {
		t.Errorf("rooms: %+v", doc.Rooms)
	}
	if len(doc.Notifications) != 2 || doc.Notifications[0].Kind != "confirmation" || doc.Notifications[0].To != "010-****-5432" {
		t.Fatalf("notifications: %+v", doc.Notifications)
	}
	if strings.Contains(r.body, "123456") || strings.Contains(r.body, "01012345678") {
		t.Error("a verification code or a full phone number reached the dashboard")
	}
	h := map[string]string{"Cookie": e.login(t)}
	page := e.do(t, "GET", "/admin", nil, h)
	for _, want := range []string{`data-v="booking.booked"`, `data-chart="vaccine.bookings_per_minute"`, "010-****-5432", `id="notices"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("dashboard page lacks %s", want)
		}
	}
	checkLabels(t, "dashboard with booking", page.body)
}

// TestDashboardLoginBlocksGuessing: after web.AdminMaxFailures wrong
// tokens the sign-in answers 429 without checking, even the right token.
func TestDashboardLoginBlocksGuessing(t *testing.T) {
	e := newDashEnv(t)
	clk := clock.NewManual(time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC))
	e.failures.Now = clk.Now
	for i := range web.AdminMaxFailures {
		if r := e.do(t, "POST", "/admin/login", url.Values{"token": {"wrong-guess"}}, nil); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, r.StatusCode)
		}
	}
	// Seven and a half of the window's ten minutes later, the page tells
	// the wait left (as Lang.Dur writes it), not the window's length.
	clk.Advance(7*time.Minute + 30*time.Second)
	r := e.do(t, "POST", "/admin/login", url.Values{"token": {dashToken}}, nil)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "151" {
		t.Fatalf("right token after the wrong ones: %d (Retry-After %q), want 429 and 151", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if !strings.Contains(r.body, "2분 30초 후 다시") || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("blocked sign-in page: %s (Set-Cookie %q)", r.body, r.Header.Get("Set-Cookie"))
	}
}

// TestDashboardLiveBlocksGuessing: /admin/api/live counts wrong bearer
// tokens as the sign-in and the admin API do (one check, one counter):
// after web.AdminMaxFailures wrong ones it answers 429 without checking,
// even to the right token, and the sign-in is blocked too.
func TestDashboardLiveBlocksGuessing(t *testing.T) {
	e := newDashEnv(t)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	if r := e.do(t, "GET", "/admin/api/live", nil, bearer(dashToken)); r.StatusCode != http.StatusOK {
		t.Fatalf("right token: %d %s", r.StatusCode, r.body)
	}
	for i := range web.AdminMaxFailures {
		if r := e.do(t, "GET", "/admin/api/live", nil, bearer("wrong-guess")); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, r.StatusCode)
		}
	}
	r := e.do(t, "GET", "/admin/api/live", nil, bearer(dashToken))
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.body, "admin_auth_blocked") {
		t.Fatalf("right token after %d wrong ones: %d (Retry-After %q) %s, want 429", web.AdminMaxFailures, r.StatusCode, r.Header.Get("Retry-After"), r.body)
	}
	if r := e.do(t, "POST", "/admin/login", url.Values{"token": {dashToken}}, nil); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sign-in after the live endpoint's wrong tokens: %d, want 429", r.StatusCode)
	}
}
