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
		!strings.Contains(page, `class="overlay rate" data-key="rate"`) {
		t.Errorf("no pacing chart for a room in auto")
	}
	r = e.do(t, "POST", "/admin/rooms/demo/settings", url.Values{"capacity": {"7"}, "rate": {"3.5"}, "confirm": {"yes"}}, cookie)
	if st := rm.Settings(); r.StatusCode != http.StatusSeeOther || st.Pacing.Mode != room.PacingFixed || st.Rate != 3.5 {
		t.Fatalf("a rate set on the dashboard: %d %+v", r.StatusCode, st.Pacing)
	}
}
