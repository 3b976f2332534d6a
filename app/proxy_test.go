package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// html is what a browser asks for.
var html = map[string]string{"Accept": "text/html"}

// upstreamPaths are paths of a protected site that are also Sluice's own
// paths in serve mode: in proxy mode they are the site's.
var upstreamPaths = []string{"/healthz", "/readyz", "/metrics", "/admin", "/admin/login", "/static/x.css", "/wait/shop",
	"/wait/shop/leave", "/api/v1/rooms/shop/tickets", "/api/v1/admin/rooms/shop", "/products/42?color=red", "/.sluicex", "/"}

// recordingUpstream is a site that answers "upstream:" and the request
// URI, and remembers the cookies it was sent.
type recordingUpstream struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	cookies []string
}

func newUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		for _, c := range r.Cookies() {
			u.cookies = append(u.cookies, c.Name)
		}
		u.mu.Unlock()
		io.WriteString(w, "upstream:"+r.Method+" "+r.URL.RequestURI())
	}))
	t.Cleanup(u.Close)
	return u
}

func startProxy(t *testing.T, up *recordingUpstream) *app.App {
	return apptest.Proxy(t, apptest.Config(), up.URL, app.Options{})
}

// In proxy mode every path but those under /.sluice/ is the protected
// site's, even those Sluice serves itself in serve mode (/healthz,
// /metrics, /admin, /static/..., /wait/..., /api/v1/...): without a pass
// they are gated, with one they reach the site. Sluice's own are all under
// the prefix, and /metrics there asks for the admin token.
func TestProxyDoesNotShadowTheSite(t *testing.T) {
	up := newUpstream(t)
	a := startProxy(t, up)
	base := a.URL()
	json := map[string]string{"Accept": "application/json"}

	// Without a pass nothing reaches the upstream: API clients get 401,
	// browsers the waiting page under the prefix, coming back to the path.
	for _, p := range upstreamPaths {
		for _, method := range []string{"GET", "POST"} {
			resp, b := do(t, method, base+p, json, "")
			if resp.StatusCode != 401 || !strings.Contains(string(b), `"waiting_url":"/.sluice/wait/shop"`) {
				t.Errorf("%s %s without a pass: %d %s", method, p, resp.StatusCode, b)
			}
		}
		resp, _ := do(t, "GET", base+p, html, "")
		if want := "/.sluice/wait/shop?return=" + url.QueryEscape(p); resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Errorf("browser at %s without a pass: %d to %q, want 303 to %q", p, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if n := up.hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the upstream without a pass", n)
	}

	// Sluice's own routes, under the prefix.
	st := waitAdmitted(t, base+"/.sluice", "shop", join(t, base+"/.sluice", "shop").Ticket)
	pass := map[string]string{room.PassHeader: st.Pass}
	for _, p := range upstreamPaths {
		for _, method := range []string{"GET", "POST"} {
			resp, b := do(t, method, base+p, pass, "")
			if want := "upstream:" + method + " " + p; resp.StatusCode != 200 || string(b) != want {
				t.Errorf("%s %s with a pass: %d %q, want %q", method, p, resp.StatusCode, b, want)
			}
		}
	}
	admin := map[string]string{"Authorization": "Bearer " + apptest.AdminToken}
	for _, tc := range []struct {
		method, path string
		headers      map[string]string
		status       int
		has          string
	}{
		{"GET", "/.sluice/healthz", nil, 200, `"ok"`},
		{"GET", "/.sluice/readyz", nil, 200, `"ready"`},
		{"GET", "/.sluice/metrics", nil, 401, `"admin_auth"`},
		{"GET", "/.sluice/metrics", admin, 200, "sluice_joins_total"},
		{"GET", "/.sluice/api/v1/admin/rooms/shop", nil, 401, `"admin_auth"`},
		{"GET", "/.sluice/api/v1/admin/rooms/shop", admin, 200, `"waiting_url": "/.sluice/wait/shop"`},
		{"POST", "/.sluice/api/v1/rooms/shop/tickets", nil, 201, `"ticket"`},
		{"GET", "/.sluice/api/v1/rooms/shop/status", nil, 401, `"ticket_missing"`},
		{"GET", "/.sluice/api/v1/nothing", nil, 404, `"No API endpoint at /.sluice/api/v1/nothing`},
		{"GET", "/.sluice/wait/shop", html, 200, `data-base="/.sluice"`},
		{"GET", "/.sluice/wait/shop", html, 200, `src="/.sluice/static/wait.js?v=`},
		{"GET", "/.sluice/wait/shop", html, 200, `href="/.sluice/static/sluice.css?v=`},
		{"GET", "/.sluice/static/wait.js", nil, 200, "'use strict'"},
		{"GET", "/.sluice/admin/login", html, 200, `action="/.sluice/admin/login"`},
		{"GET", "/.sluice/admin/static/dashboard.css", nil, 200, ""},
		{"GET", "/.sluice/nothing", nil, 404, `"not_found"`},
		{"GET", "/.sluice", nil, 301, ""},
	} {
		resp, b := do(t, tc.method, base+tc.path, tc.headers, "")
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
			t.Errorf("%s %s: %d, want %d with %q: %s", tc.method, tc.path, resp.StatusCode, tc.status, tc.has, trunc(b))
		}
	}
	// A path under the prefix that is not clean is sent to its clean
	// form, which may be the site's.
	for in, want := range map[string]string{"/.sluice/../admin": "/admin", "/.sluice//healthz": "/.sluice/healthz", "/.sluice": "/.sluice/",
		"/.sluice/./wait/shop?x=1": "/.sluice/wait/shop?x=1", "/.sluice/../%5Cevil.example": "/%5Cevil.example", "/.sluice/..%2F%2Fevil.example/": "/evil.example/"} {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.URL.Opaque = in // sent as it is, not cleaned by the client
		resp, err := apiClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 301 to %q", in, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// A browser without JavaScript walks from a page of the site through the
// waiting page (under the prefix) and back to the page; the waiting page's
// own cookies stay under the prefix, so the site is sent only the pass.
// The operator's dashboard works under the prefix too.
func TestProxyBrowserFlow(t *testing.T) {
	up := newUpstream(t)
	a := startProxy(t, up)
	browser := newBrowser()
	var setCookies []string
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		setCookies = append(setCookies, req.Response.Header.Values("Set-Cookie")...)
		return nil
	}
	resp, body := send(t, browser, "GET", a.URL()+"/products/42?lang=en", html, "")
	if resp.StatusCode != 200 || string(body) != "upstream:GET /products/42?lang=en" {
		t.Fatalf("browser flow: %d %q", resp.StatusCode, body)
	}
	for _, c := range setCookies {
		name, _, _ := strings.Cut(c, "=")
		wantPath := "Path=/.sluice/"
		if name == room.PassCookie {
			wantPath = "Path=/;"
		}
		if !strings.Contains(c, wantPath) {
			t.Errorf("cookie %q, want %s", c, wantPath)
		}
	}
	if len(setCookies) < 2 {
		t.Errorf("cookies set on the way: %q", setCookies)
	}
	up.mu.Lock()
	if got := strings.Join(up.cookies, ","); got != room.PassCookie {
		t.Errorf("the site was sent cookies %q, want only %s", got, room.PassCookie)
	}
	up.mu.Unlock()

	// The dashboard, signed in with the admin token.
	op := newBrowser()
	resp, body = send(t, op, "POST", a.URL()+"/.sluice/admin/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": a.URL(), "Sec-Fetch-Site": "same-origin"}, "token="+apptest.AdminToken)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/.sluice/admin" || !strings.Contains(string(body), `action="/.sluice/admin/rooms/shop/pause"`) ||
		!strings.Contains(string(body), `src="/.sluice/admin/static/dashboard.js"`) || !strings.Contains(string(body), `data-base="/.sluice"`) {
		t.Fatalf("dashboard: %d at %s: %s", resp.StatusCode, resp.Request.URL, trunc(body))
	}
	resp, body = send(t, op, "POST", a.URL()+"/.sluice/admin/rooms/shop/pause", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": a.URL(), "Sec-Fetch-Site": "same-origin"}, "confirm=yes")
	if rm, _ := a.Rooms.Get("shop"); resp.StatusCode != 200 || resp.Request.URL.Path != "/.sluice/admin" || !rm.Settings().Paused {
		t.Fatalf("pause from the dashboard: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

// The prefix is configurable (proxy_prefix, --prefix).
func TestProxyPrefixConfigured(t *testing.T) {
	up := newUpstream(t)
	cfg := apptest.Config()
	cfg.ProxyPrefix = "/_queue/"
	a := apptest.Proxy(t, cfg, up.URL, app.Options{})
	if resp, _ := do(t, "GET", a.URL()+"/_queue/healthz", nil, ""); resp.StatusCode != 200 {
		t.Errorf("/_queue/healthz: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", a.URL()+"/.sluice/healthz", html, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/_queue/wait/shop?return=%2F.sluice%2Fhealthz" {
		t.Errorf("/.sluice/healthz with another prefix: %d to %q, want the site's (gated)", resp.StatusCode, resp.Header.Get("Location"))
	}
	st := join(t, a.URL()+"/_queue", "shop")
	if st.Ticket == "" {
		t.Error("no ticket from the API under the prefix")
	}
}

// trunc shortens a body for a message.
func trunc(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func TestDemoBrowserFlowWithoutJavaScript(t *testing.T) {
	a := apptest.Demo(t, app.Options{})
	browser := newBrowser()
	resp, b := send(t, browser, "GET", a.URL()+"/demo/protected", html, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Protected page") {
		t.Fatalf("protected via waiting page: %d %s", resp.StatusCode, b)
	}
	// JSON for API clients carrying the cookie.
	resp, b = send(t, browser, "GET", a.URL()+"/demo/protected", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("JSON: %d %s", resp.StatusCode, b)
	}
	// Leaving (a same-origin form post) frees the place and the pass stops working.
	resp, b = send(t, browser, "POST", a.URL()+"/wait/demo/leave", map[string]string{"Origin": a.URL(), "Sec-Fetch-Site": "same-origin"}, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "퇴장했습니다") {
		t.Fatalf("leave: %d %s", resp.StatusCode, b)
	}
	rm, _ := a.Rooms.Get("demo")
	if c := rm.Counters(); c.Active != 0 || c.Leaves != 1 {
		t.Fatalf("after leave: %+v", c)
	}
	// A cross-site form post is refused (CSRF).
	resp, _ = do(t, "POST", a.URL()+"/wait/demo/leave", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", resp.StatusCode)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	a := apptest.Boot(t, apptest.Config(), app.Options{Routes: func(_ *web.Server, mux *http.ServeMux) {
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			close(started)
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, "done")
		})
	}})
	result := make(chan string, 1)
	go func() {
		resp, err := http.Get(a.URL() + "/slow")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-started
	apptest.Stop(t, a)
	if got := <-result; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
}
