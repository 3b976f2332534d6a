package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

func TestProxyGuardsUpstream(t *testing.T) {
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "upstream:"+r.URL.Path)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	a := apptest.Start(t, apptest.Config(), app.Options{Upstream: u, ProxyRoom: "shop"})

	// Without a pass nothing reaches the upstream.
	resp, b := do(t, "GET", a.URL()+"/api/orders", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 401 || hits.Load() != 0 {
		t.Fatalf("no pass: %d %s, upstream hits %d", resp.StatusCode, b, hits.Load())
	}
	// A browser walks through the waiting page and lands on the site.
	resp, body := send(t, newBrowser(), "GET", a.URL()+"/products/42", html, "")
	if resp.StatusCode != 200 || string(body) != "upstream:/products/42" {
		t.Fatalf("browser flow: %d %q", resp.StatusCode, body)
	}
	// An API client with a pass from the JSON API gets through too.
	st := waitAdmitted(t, a.URL(), "shop", join(t, a.URL(), "shop").Ticket)
	resp, b = do(t, "GET", a.URL()+"/api/orders", map[string]string{room.PassHeader: st.Pass}, "")
	if resp.StatusCode != 200 || string(b) != "upstream:/api/orders" {
		t.Fatalf("with pass: %d %s", resp.StatusCode, b)
	}
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
	a, err := app.New(apptest.Config(), app.Options{Routes: func(_ *web.Server, mux *http.ServeMux) {
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			close(started)
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, "done")
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-result; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
}
