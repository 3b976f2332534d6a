package browsertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
)

// front is a load balancer in front of two nodes of one room: the healthy
// one, and one that lost the room's shared state and kept a serving number
// past everyone's place (the sequence: Redis restarted empty, one
// node not yet restarted), which answers turn_over for valid tickets, on
// the API and on the waiting page alike. Requests for the waiting page and
// the API go where the next entry of its plan says (the wrong node, or a
// 503), then to the healthy node; static files always to the healthy one.
type front struct {
	*httptest.Server
	mu   sync.Mutex
	plan []string // "wrong" or "503", one per request
	seen []string // what the plan did, for messages
}

func newFront(t *testing.T, healthy, wrong *app.App) *front {
	proxy := func(a *app.App) http.Handler {
		u, _ := url.Parse(a.URL())
		return httputil.NewSingleHostReverseProxy(u)
	}
	good, bad := proxy(healthy), proxy(wrong)
	f := &front{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/wait/") || strings.HasPrefix(r.URL.Path, "/api/") {
			f.mu.Lock()
			var step string
			if len(f.plan) > 0 {
				step, f.plan = f.plan[0], f.plan[1:]
				f.seen = append(f.seen, step+" "+r.Method+" "+r.URL.Path)
			}
			f.mu.Unlock()
			switch step {
			case "wrong":
				bad.ServeHTTP(w, r)
				return
			case "503":
				w.Header().Set("Content-Type", "application/problem+json")
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"type":"https://sluice.dev/problems/unavailable","status":503,"code":"unavailable","detail":"no node"}`)
				return
			}
		}
		good.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *front) then(steps ...string) {
	f.mu.Lock()
	f.plan = append(f.plan, steps...)
	f.mu.Unlock()
}

func (f *front) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.plan)
}

// wrongNode starts a node of a's demo room (same keys) whose line is past
// the first ten places with none of them holding a session: every ticket
// of a's line up to place ten is "turn over" there.
func wrongNode(t *testing.T, a *app.App) *app.App {
	cfg := apptest.Config()
	cfg.Keys, cfg.LogLevel = a.Keys, "error"
	b := apptest.Start(t, cfg, app.Options{Demo: true, TickInterval: 20 * time.Millisecond})
	admin(t, b, "PATCH", "/rooms/demo", map[string]any{"capacity": 10, "rate": 1000})
	for range 10 {
		joinAPI(t, b, "demo").leave()
	}
	return b
}

// via makes the tab reach the app through another address.
func via(base string) tabOption {
	return func(tb *tab) error { tb.base = base; return nil }
}

// heldTicket is the ticket the waiting page keeps, in local storage and in
// its cookie ("" where there is none).
func (tb *tab) heldTicket() (stored, cookie string) {
	tb.t.Helper()
	v := read[[]string](tb, "read the ticket", `(() => {
const s = JSON.parse(localStorage.getItem('sluice_ticket_demo') || 'null');
const c = document.cookie.split('; ').find(x => x.startsWith('sluice_ticket_demo='));
return [s ? s.t : '', c ? c.slice('sluice_ticket_demo='.length) : ''];
})()`)
	return v[0], v[1]
}

// TestWaitingPageKeepsPlaceThroughTransientErrors: a person waits in line
// (one person ahead). For a while their requests reach a node that lost
// the room's state and says their turn is over, on the API and on the
// waiting page (the issue: the page then deleted the ticket for good),
// and then no node at all (503). Then the room answers again: the person
// still has their ticket and place, and is let in when their turn comes.
// A turn over that is real (the pass returned) is said after the page has
// asked again, and the ticket is replaced only when the person joins again.
func TestWaitingPageKeepsPlaceThroughTransientErrors(t *testing.T) {
	a := startDemo(t)
	admin(t, a, "PATCH", "/rooms/demo", map[string]any{"capacity": 1})
	inside := joinAPI(t, a, "demo") // holds the only place
	ahead := joinAPI(t, a, "demo")  // first in line
	lb := newFront(t, a, wrongNode(t, a))

	b := newTab(t, a, "person", via(lb.URL))
	b.open("/wait/demo?return=/demo/protected")
	if n := digits(b.term(korean.ahead)); n != 1 {
		t.Fatalf("%d ahead, want 1", n)
	}
	stored, cookie := b.heldTicket()
	if stored == "" || stored != cookie {
		t.Fatalf("the page keeps ticket %q in local storage and %q in its cookie", stored, cookie)
	}

	// Polls, the page itself and its checks reach the wrong node, then no
	// node answers, then the healthy one again.
	lb.then("wrong", "wrong", "wrong", "wrong", "wrong", "503")
	var said []string
	b.step("wait through the wrong answers", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return retry(ctx, func() error {
			v, err := eval[[]string](ctx, `[(document.getElementById('conn') || {}).textContent || '', localStorage.getItem('sluice_ticket_demo') + ' ' + document.cookie]`)
			if err != nil {
				return err
			}
			if v[0] != "" && (len(said) == 0 || said[len(said)-1] != v[0]) {
				said = append(said, v[0])
			}
			if !strings.Contains(v[1], stored) {
				t.Fatalf("the page dropped the ticket on a wrong answer: it keeps %q, the page says %q", v[1], said)
			}
			if n := lb.pending(); n > 0 {
				return errors.New(strconv.Itoa(n) + " wrong answers not given yet")
			}
			return nil
		})
	})
	lb.mu.Lock()
	t.Logf("the front: %q; the page said %q", lb.seen, said)
	lb.mu.Unlock()
	b.see("#wait", "내 앞 대기 인원")
	if n := digits(b.term(korean.ahead)); n != 1 {
		t.Errorf("after the wrong answers: %d ahead, want 1", n)
	}
	if s, c := b.heldTicket(); s != stored || c != stored {
		t.Fatalf("after the wrong answers the page keeps %q (storage) and %q (cookie), want the ticket %q it had", s, c, stored)
	}
	if said := strings.Join(said, " | "); !strings.Contains(said, "다시 확인") {
		t.Errorf("the page never said it was checking again: %q", said)
	}

	// The people ahead go; the person is let in with the same ticket.
	inside.leave()
	ahead.leave()
	b.see("h1", "Protected page")

	// The person's turn really ends: the pass is returned.
	var pass string
	b.step("read the pass cookie", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{lb.URL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if c.Name == "sluice_pass" {
				pass = c.Value
			}
		}
		if pass == "" {
			return errors.New("no pass cookie")
		}
		return nil
	})
	if code, out := api(t, a, "POST", "/api/v1/rooms/demo/leave", pass, nil); code != http.StatusNoContent {
		t.Fatalf("leave: %d %v", code, out)
	}
	b.open("/wait/demo?return=/demo/protected")
	b.see("#wait", "차례가 지났습니다")
	b.step("wait until the page is sure", func(ctx context.Context) error {
		return retry(ctx, func() error {
			v, err := eval[string](ctx, `document.getElementById('conn').textContent`)
			if err == nil && v != "" {
				err = errors.New("still checking: " + v)
			}
			return err
		})
	})
	if s, c := b.heldTicket(); s != stored || c != stored {
		t.Errorf("the turn over is sure, and the page keeps %q / %q; want the ticket kept until the person joins again", s, c)
	}
	joinAPI(t, a, "demo") // someone else is inside now
	b.follow("다시 줄 서기")
	b.see("#wait", "내 앞 대기 인원")
	if s, c := b.heldTicket(); s == "" || s == stored || c != s {
		t.Errorf("after joining again the page keeps %q / %q, want a new ticket in both", s, c)
	}
}
