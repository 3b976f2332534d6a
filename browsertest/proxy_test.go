package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
)

// TestProxyWaitingPage: in front of a site (sluice proxy), a person who
// opens a page of the site waits on the waiting page under /.sluice/,
// whose script polls the API there, and is let through to the page when
// the person ahead leaves. Nothing of Sluice's is asked for outside the
// prefix: the site has pages of its own at /wait/... and /api/....
func TestProxyWaitingPage(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=en><title>Shop</title><h1>Shop page %s</h1>", r.URL.Path)
	}))
	defer site.Close()
	cfg := apptest.Config()
	cfg.LogLevel = "error"
	cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(1000.0)}}}
	a := apptest.Proxy(t, cfg, site.URL, app.Options{})

	// Someone is inside, holding the only place.
	code, out := api(t, a, "POST", "/.sluice/api/v1/rooms/shop/tickets", "", nil)
	if code != http.StatusCreated || out["state"] != "admitted" {
		t.Fatalf("first person: %d %v", code, out)
	}
	_, out = api(t, a, "GET", "/.sluice/api/v1/rooms/shop/status", out["ticket"].(string), nil)
	holderPass, _ := out["pass"].(string)

	b := newTab(t, a, "shopper")
	var mu sync.Mutex
	var asked []string
	requests := chromedp.Events(b.ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			mu.Lock()
			asked = append(asked, ev.Request.URL)
			mu.Unlock()
		}
	}()
	b.open("/products/1")
	b.seeHeading("대기실")
	b.step("check the waiting page's address", func(ctx context.Context) error {
		loc, err := eval[string](ctx, `location.pathname + location.search`)
		if err != nil {
			return err
		}
		if want := "/.sluice/wait/shop?return=%2Fproducts%2F1"; loc != want {
			return fmt.Errorf("at %s, want %s", loc, want)
		}
		return nil
	})
	if code, out := api(t, a, "POST", "/.sluice/api/v1/rooms/shop/leave", holderPass, nil); code != http.StatusNoContent {
		t.Fatalf("the first person leaves: %d %v", code, out)
	}
	b.see("h1", "Shop page /products/1")
	mu.Lock()
	defer mu.Unlock()
	var polls int
	for _, s := range asked {
		p, _ := url.Parse(s)
		switch {
		case strings.HasPrefix(p.Path, "/.sluice/api/v1/rooms/shop/status"):
			polls++
		case strings.HasPrefix(p.Path, "/.sluice/"), p.Path == "/products/1", p.Path == "/favicon.ico":
		default:
			t.Errorf("the browser asked for %s: neither Sluice's (under /.sluice/) nor the page", s)
		}
	}
	if polls == 0 {
		t.Errorf("the waiting page's script never polled under /.sluice/: %q", asked)
	}
}
