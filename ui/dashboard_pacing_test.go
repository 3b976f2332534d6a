package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// The pacing form: confirmed like any control, checked by
// room.Settings.Validate with what is wrong next to the field; a rate set
// in the capacity-and-rate form is fixed again. A room in auto shows the
// pacing chart (measured p95, objective, chosen rate).
func TestDashboardPacing(t *testing.T) {
	e := newDashEnv(t)
	cookie := map[string]string{"Cookie": e.login(t)}
	rm, _ := e.rooms.Get("demo")
	good := url.Values{"mode": {"auto"}, "target_p95": {"500ms"}, "max_error_rate": {"0.02"}, "min_rate": {"2"}, "max_rate": {"300"}}
	r := e.do(t, "POST", "/admin/rooms/demo/pacing", good, cookie)
	if r.StatusCode != 200 || !strings.Contains(r.body, `name="confirm" value="yes"`) || rm.Settings().Pacing.Auto() {
		t.Fatalf("pacing confirmation: %d", r.StatusCode)
	}
	good.Set("confirm", "yes")
	r = e.do(t, "POST", "/admin/rooms/demo/pacing", good, cookie)
	want := room.Pacing{Mode: "auto", TargetP95: 500 * time.Millisecond, MaxErrorRate: 0.02, MinRate: 2, MaxRate: 300}
	if r.StatusCode != http.StatusSeeOther || rm.Settings().Pacing != want {
		t.Fatalf("pacing: %d %+v", r.StatusCode, rm.Settings().Pacing)
	}
	for _, tc := range []struct{ field, value, say string }{
		{"mode", "sometimes", "fixed or auto"},
		{"target_p95", "1ms", "from 10ms to 1m"},
		{"target_p95", "soon", "from 10ms to 1m"},
		{"max_error_rate", "1", "above 0 and below 1"},
		{"min_rate", "0", "from 0.001"},
		{"max_rate", "1", "at least the lowest"},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set(tc.field, tc.value)
		r := e.do(t, "POST", "/admin/rooms/demo/pacing?lang=en", form, cookie)
		f := regexp.MustCompile(`(?s)<form class="settings" method="post" action="/admin/rooms/demo/pacing".*?</form>`).FindString(r.body)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(f, `role="alert">`) || !strings.Contains(f, tc.say) {
			t.Errorf("%s=%s: %d, want 422 saying %q:\n%s", tc.field, tc.value, r.StatusCode, tc.say, f)
		}
	}
	if rm.Settings().Pacing != want {
		t.Errorf("bad input changed pacing: %+v", rm.Settings().Pacing)
	}
	page := e.do(t, "GET", "/admin?lang=en", nil, cookie).body
	if !strings.Contains(page, `data-key="p95_ms"`) || !strings.Contains(page, `class="overlay objective" data-key="target_p95_ms" data-shared="1"`) ||
		!strings.Contains(page, `class="overlay rate" data-key="rate" data-scale="per_second"`) {
		t.Errorf("no pacing chart for a room in auto")
	}
	// Beside the chosen rate, on its scale, the rate at which sessions
	// end (the sessions rule's signal); under the chart, which node
	// chooses the rate: none before the room's first pacing step, then
	// this one (alone).
	for _, want := range []string{`class="overlay ends" data-key="end_rate" data-scale="per_second"`, "sessions ending (per second)",
		`data-v="demo.p95_ms.note">Rate chosen by: no node (not pacing now)<`} {
		if !strings.Contains(page, want) {
			t.Errorf("pacing chart lacks %q", want)
		}
	}
	if err := rm.Tick(); err != nil {
		t.Fatal(err)
	}
	if page := e.do(t, "GET", "/admin?lang=en", nil, cookie).body; !strings.Contains(page, `data-v="demo.p95_ms.note">Rate chosen by: this node (nodes: 1)<`) {
		t.Errorf("pacing chart does not say this node chooses the rate")
	}
	page = e.do(t, "GET", "/admin", nil, cookie).body
	for _, want := range []string{"세션 종료 속도 (명/초)", "속도를 정하는 노드: 이 노드 (전체 노드 1개)"} {
		if !strings.Contains(page, want) {
			t.Errorf("Korean pacing chart lacks %q", want)
		}
	}
	live := e.do(t, "GET", "/admin/api/live?lang=en", nil, cookie).body
	for _, want := range []string{`"end_rate":[`, `"pacing_leader":true`, `"pacing_nodes":1`, `"demo.p95_ms.end_rate.now":"0.0"`, `"demo.p95_ms.note":"Rate chosen by: this node (nodes: 1)"`} {
		if !strings.Contains(live, want) {
			t.Errorf("live figures lack %s", want)
		}
	}
	r = e.do(t, "POST", "/admin/rooms/demo/settings", url.Values{"capacity": {"7"}, "rate": {"3.5"}, "confirm": {"yes"}}, cookie)
	if st := rm.Settings(); r.StatusCode != http.StatusSeeOther || st.Pacing.Mode != room.PacingFixed || st.Rate != 3.5 {
		t.Fatalf("a rate set on the dashboard: %d %+v", r.StatusCode, st.Pacing)
	}
}
