package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/whatwgurl"
	"github.com/sluicehq/sluice/room"
)

// waitServer is a server with one room, "shop", that admits everyone at
// once, on a clock that stands still.
func waitServer(t *testing.T) (*Server, *room.Room) {
	t.Helper()
	clk := clock.NewManual(time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC))
	s := testServer(t, room.GenerateKeyring("k1"), clk, room.Settings{Name: "shop", Capacity: 10_000, Rate: 1_000_000})
	rm, _ := s.Rooms.Get("shop")
	return s, rm
}

// An admitted browser is sent on to its return path only when a browser
// reads that path as a page of this site, and then to exactly that page:
// the Location header, read as browsers read addresses, never leads
// elsewhere.
func TestWaitingPageReturnsOnlyToThisSite(t *testing.T) {
	s, _ := waitServer(t)
	h := s.Handler()
	site, _ := whatwgurl.Parse("https://sluice.test/wait/shop", nil)
	for _, tc := range whatwgurl.Tricky {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "https://sluice.test/wait/shop?return="+url.QueryEscape(tc.In), nil))
		loc := w.Header().Get("Location")
		if tc.Want == "" {
			if w.Code != http.StatusOK || loc != "" {
				t.Errorf("return %q: %d to %q, want the page (200) without a redirect", tc.In, w.Code, loc)
			}
			continue
		}
		if w.Code != http.StatusSeeOther {
			t.Errorf("return %q: %d, want 303 to %q", tc.In, w.Code, tc.Want)
			continue
		}
		u, err := whatwgurl.Parse(loc, site)
		if err != nil || !u.SameOrigin(site) {
			t.Errorf("return %q: Location %q leads a browser to %v (%v)", tc.In, loc, u, err)
		}
	}
}

// The no-JS waiting page keeps the ticket cookie on every answer that may
// be transient or wrong: a turn over said once (a node that lost its
// shared state may say so of a valid ticket), a ticket signed with a key
// this node lacks, a failure of the line. Only a ticket that can never be
// valid is replaced.
func TestWaitingPageKeepsTheTicket(t *testing.T) {
	s, rm := waitServer(t)
	h := s.Handler()
	get := func(cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/wait/shop", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	ticketSet := func(w *httptest.ResponseRecorder) (string, bool) {
		for _, c := range w.Result().Cookies() {
			if c.Name == TicketCookie("shop") {
				return c.Value, true
			}
		}
		return "", false
	}
	// Admitted at once; the pass is returned, so the turn is over.
	w := get()
	tok, _ := ticketSet(w)
	var pass string
	for _, c := range w.Result().Cookies() {
		if c.Name == room.PassCookie {
			pass = c.Value
		}
	}
	p, err := rm.VerifyPass(pass)
	if tok == "" || err != nil {
		t.Fatalf("first visit: ticket %q, pass %v", tok, err)
	}
	if err := rm.Leave(p); err != nil {
		t.Fatal(err)
	}
	ticket := &http.Cookie{Name: TicketCookie("shop"), Value: tok}
	w = get(ticket)
	if v, set := ticketSet(w); w.Code != http.StatusOK || set || !strings.Contains(w.Body.String(), "Turn ended") {
		t.Errorf("turn over: %d, ticket cookie set to %q (%v); want the page saying so, the cookie left alone", w.Code, v, set)
	}

	other := room.GenerateKeyring("k9") // a key this server does not have
	unknown := other.IssueTicket(room.Ticket{Room: "shop", Phase: room.PhaseOpen, Seq: 1, Issued: time.Now()})
	w = get(&http.Cookie{Name: TicketCookie("shop"), Value: unknown})
	if v, set := ticketSet(w); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || set {
		t.Errorf("ticket of an unknown key: %d, Retry-After %q, ticket cookie set to %q (%v); want 503 keeping it", w.Code, w.Header().Get("Retry-After"), v, set)
	}

	w = get(&http.Cookie{Name: TicketCookie("shop"), Value: "garbage"})
	if v, set := ticketSet(w); !set || v == "" || v == "garbage" {
		t.Errorf("damaged ticket: cookie %q (%v), want a new ticket", v, set)
	}
}

// The built-in page's links stay under the server's prefix.
func TestBuiltInWaitingPageUnderPrefix(t *testing.T) {
	s, _ := waitServer(t)
	s.Prefix = "/q"
	h := s.Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/q/wait/shop", nil))
	site, _ := whatwgurl.Parse("https://sluice.test/q/wait/shop", nil)
	action := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(w.Body.String())
	if action == nil {
		t.Fatalf("no leave form: %s", w.Body)
	}
	u, err := whatwgurl.Parse(action[1], site)
	if err != nil || u.PathString() != "/q/wait/shop/leave" {
		t.Errorf("leave form posts to %q, read as %v", action[1], u)
	}
}

// The built-in page (no pages of the server's own) refreshes at once to
// the held address near the front, as the citizen page does.
func TestPlainWaitingPageRefreshesToHold(t *testing.T) {
	s, _ := waitServer(t)
	if _, err := s.Rooms.Add(room.Settings{Name: "one", Capacity: 1, Rate: 1000}); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	visit := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/wait/one?return=/next", nil))
		return w
	}
	if w := visit(); w.Code != http.StatusSeeOther {
		t.Fatalf("first visitor: %d, want 303 (admitted)", w.Code)
	}
	want := `<meta http-equiv="refresh" content="0; url=/wait/one?return=%2Fnext&amp;wait=10">`
	if w := visit(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
		t.Errorf("next in line: %d, want the page with %s:\n%s", w.Code, want, w.Body)
	}
}
