package room

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// gateFixture is a room with one admitted (claimed) pass and a gate in
// front of a backend that records whether it was reached.
type gateFixture struct {
	*fixture
	gate    *Gate
	backend http.Handler
	reached int
	allowed []Pass
	pass    string // valid
	ticket  string
}

func newGateFixture(t *testing.T) *gateFixture {
	f := newFixture(t, Settings{Capacity: 10, Rate: 100, PassTTL: 10 * time.Minute}, nil)
	g := &gateFixture{fixture: f}
	g.backend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.reached++
		w.Write([]byte("booking page"))
	})
	g.gate = &Gate{Verifier: f.r, WaitingURL: "/wait/vaccine",
		OnAllow: func(r *http.Request, p Pass) { g.allowed = append(g.allowed, p) }}
	tok, _, st := f.join()
	if st.State != StateAdmitted {
		t.Fatalf("first joiner not admitted: %+v", st)
	}
	g.pass, g.ticket = st.Pass, tok
	return g
}

func (g *gateFixture) do(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.gate.Wrap(g.backend).ServeHTTP(w, req)
	return w
}

func withPass(req *http.Request, tok string) *http.Request {
	req.Header.Set(PassHeader, tok)
	return req
}

// tamper changes one character in the middle of a token.
func tamper(tok string) string {
	i := len(tok) / 2
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestGateAllowsValidPass(t *testing.T) {
	tests := []struct {
		name string
		req  func(g *gateFixture) *http.Request
	}{
		{"header", func(g *gateFixture) *http.Request {
			return withPass(httptest.NewRequest("GET", "/book", nil), g.pass)
		}},
		{"header with spaces", func(g *gateFixture) *http.Request {
			return withPass(httptest.NewRequest("GET", "/book", nil), "  "+g.pass+" ")
		}},
		{"cookie", func(g *gateFixture) *http.Request {
			req := httptest.NewRequest("POST", "/book", strings.NewReader("x=1"))
			req.AddCookie(&http.Cookie{Name: PassCookie, Value: g.pass})
			return req
		}},
		{"browser cookie", func(g *gateFixture) *http.Request {
			req := httptest.NewRequest("GET", "/book", nil)
			req.Header.Set("Accept", "text/html")
			req.AddCookie(&http.Cookie{Name: PassCookie, Value: g.pass})
			return req
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateFixture(t)
			w := g.do(tc.req(g))
			if w.Code != http.StatusOK || w.Body.String() != "booking page" || g.reached != 1 {
				t.Fatalf("valid pass: %d %q, backend reached %d times", w.Code, w.Body, g.reached)
			}
			if len(g.allowed) != 1 || g.allowed[0].Room != "vaccine" || g.allowed[0].Position != 1 {
				t.Errorf("OnAllow got %+v", g.allowed)
			}
			for reason, n := range g.gate.Rejections() {
				if n != 0 {
					t.Errorf("rejection %q counted %d times for a valid pass", reason, n)
				}
			}
		})
	}
}

// TestGateRejects: every kind of bad pass is refused with 401 problem+json
// for API clients and 303 to the waiting page for browsers, the backend is
// never reached, and each rejection is counted under its reason.
func TestGateRejects(t *testing.T) {
	other := testKeyring(t, "k1", 999) // same key id, another secret
	unknown := testKeyring(t, "k9", 1)
	tests := []struct {
		name   string
		reason string
		setup  func(g *gateFixture) (tok string, cookie bool)
	}{
		{"missing", ReasonMissing, func(g *gateFixture) (string, bool) { return "", false }},
		{"empty cookie", ReasonMissing, func(g *gateFixture) (string, bool) { return "", true }},
		{"malformed", ReasonMalformed, func(g *gateFixture) (string, bool) { return "not a pass!", false }},
		{"malformed cookie", ReasonMalformed, func(g *gateFixture) (string, bool) { return "zzzz", true }},
		{"oversized", ReasonMalformed, func(g *gateFixture) (string, bool) { return strings.Repeat("A", 10_000), false }},
		{"forged", ReasonForged, func(g *gateFixture) (string, bool) {
			p, _ := g.r.VerifyPass(g.pass)
			return other.IssuePass(p), false
		}},
		{"tampered", ReasonForged, func(g *gateFixture) (string, bool) { return tamper(g.pass), false }},
		{"tampered cookie", ReasonForged, func(g *gateFixture) (string, bool) { return tamper(g.pass), true }},
		{"unknown key", ReasonUnknownKey, func(g *gateFixture) (string, bool) {
			p, _ := g.r.VerifyPass(g.pass)
			return unknown.IssuePass(p), false
		}},
		{"expired", ReasonExpired, func(g *gateFixture) (string, bool) {
			g.clk.Advance(10 * time.Minute)
			return g.pass, false
		}},
		{"other room", ReasonWrongRoom, func(g *gateFixture) (string, bool) {
			p, _ := g.r.VerifyPass(g.pass)
			p.Room = "concert"
			return g.keys.IssuePass(p), false
		}},
		{"ticket instead of pass", ReasonWrongKind, func(g *gateFixture) (string, bool) { return g.ticket, false }},
		{"revoked after leave", ReasonRevoked, func(g *gateFixture) (string, bool) {
			p, _ := g.r.VerifyPass(g.pass)
			g.r.Leave(p)
			return g.pass, true
		}},
		{"session expired here", ReasonRevoked, func(g *gateFixture) (string, bool) {
			// A pass signed for a place that was never claimed.
			return g.keys.IssuePass(Pass{Room: "vaccine", Position: 7, Issued: g.clk.Now(), Expires: g.clk.Now().Add(time.Minute)}), false
		}},
	}
	clients := []struct {
		name    string
		method  string
		accept  string
		browser bool
	}{
		{"api json", "GET", "application/json", false},
		{"api no accept", "GET", "", false},
		{"api any", "POST", "*/*", false},
		{"api json before html", "GET", "application/json, text/html", false},
		{"browser", "GET", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"browser head", "HEAD", "text/html", true},
		{"browser form post", "POST", "text/html", false}, // a redirect would lose the form
	}
	for _, tc := range tests {
		for _, cl := range clients {
			t.Run(tc.name+"/"+cl.name, func(t *testing.T) {
				g := newGateFixture(t)
				tok, cookie := tc.setup(g)
				req := httptest.NewRequest(cl.method, "/book/slots?clinic=12&day=2021-07-26", nil)
				if cl.accept != "" {
					req.Header.Set("Accept", cl.accept)
				}
				switch {
				case cookie:
					req.AddCookie(&http.Cookie{Name: PassCookie, Value: tok})
				case tok != "":
					req.Header.Set(PassHeader, tok)
				}
				w := g.do(req)
				if g.reached != 0 || len(g.allowed) != 0 {
					t.Fatalf("backend reached with a bad pass (%d)", w.Code)
				}
				if got := w.Header().Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q", got)
				}
				if cl.browser {
					want := "/wait/vaccine?return=" + url.QueryEscape("/book/slots?clinic=12&day=2021-07-26")
					if w.Code != http.StatusSeeOther || w.Header().Get("Location") != want {
						t.Fatalf("browser: %d Location %q, want 303 to %q", w.Code, w.Header().Get("Location"), want)
					}
				} else {
					if w.Code != http.StatusUnauthorized {
						t.Fatalf("API: status %d, want 401", w.Code)
					}
					if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type %q", ct)
					}
					if w.Header().Get("WWW-Authenticate") == "" {
						t.Error("no WWW-Authenticate")
					}
					var p rejection
					if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
						t.Fatalf("body is not JSON: %v\n%s", err, w.Body)
					}
					if p.Status != 401 || p.Code != "pass_"+tc.reason || p.Detail == "" || p.Title == "" || p.WaitingURL != "/wait/vaccine" {
						t.Errorf("problem %+v, want code pass_%s", p, tc.reason)
					}
				}
				rej := g.gate.Rejections()
				for _, reason := range Reasons {
					want := uint64(0)
					if reason == tc.reason {
						want = 1
					}
					if rej[reason] != want {
						t.Errorf("Rejections()[%q] = %d, want %d (all: %v)", reason, rej[reason], want, rej)
					}
				}
			})
		}
	}
}

type panicVerifier struct{ v any }

func (p panicVerifier) VerifyPass(string) (Pass, error) { panic(p.v) }

type funcVerifier func(string) (Pass, error)

func (f funcVerifier) VerifyPass(tok string) (Pass, error) { return f(tok) }

// TestGateFailsClosed: a verifier that panics or fails in an unexpected way,
// or no verifier at all, rejects the request; it never passes through.
func TestGateFailsClosed(t *testing.T) {
	tests := []struct {
		name     string
		verifier PassVerifier
	}{
		{"panic", panicVerifier{"boom"}},
		{"panic error", panicVerifier{errors.New("boom")}},
		{"panic nil", panicVerifier{nil}},
		{"unknown error", funcVerifier(func(string) (Pass, error) { return Pass{Room: "vaccine", Position: 1}, errors.New("redis down") })},
		{"wrapped known error", funcVerifier(func(string) (Pass, error) { return Pass{}, errors.Join(errors.New("x"), ErrExpired) })},
		{"nil verifier", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reached := false
			g := &Gate{Verifier: tc.verifier, WaitingURL: "/wait/x"}
			h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
			for _, accept := range []string{"application/json", "text/html"} {
				req := httptest.NewRequest("GET", "/", nil)
				req.Header.Set(PassHeader, "some-pass")
				req.Header.Set("Accept", accept)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if reached || w.Code == http.StatusOK {
					t.Fatalf("request passed through a failing verifier (%d)", w.Code)
				}
				// Not checked is no verdict: 503, try again (an expired
				// pass is one: 401).
				want := http.StatusServiceUnavailable
				if tc.name == "wrapped known error" {
					want = http.StatusUnauthorized
				}
				if accept == "application/json" && (w.Code != want || (want == 503) != (w.Header().Get("Retry-After") != "")) {
					t.Errorf("status %d (Retry-After %q), want %d", w.Code, w.Header().Get("Retry-After"), want)
				}
			}
			rej := g.Rejections()
			var total uint64
			for _, n := range rej {
				total += n
			}
			if total != 2 {
				t.Errorf("rejections %v, want 2", rej)
			}
			if tc.name != "wrapped known error" && rej[ReasonInternal] != 2 {
				t.Errorf("rejections %v, want 2 internal", rej)
			}
		})
	}
}

func TestGateHeaderBeforeCookie(t *testing.T) {
	g := newGateFixture(t)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(PassHeader, tamper(g.pass))
	req.AddCookie(&http.Cookie{Name: PassCookie, Value: g.pass})
	if w := g.do(req); w.Code != http.StatusUnauthorized || g.reached != 0 {
		t.Errorf("bad header with a good cookie: %d", w.Code)
	}
	if got := PassFrom(httptest.NewRequest("GET", "/", nil)); got != "" {
		t.Errorf("PassFrom of a bare request: %q", got)
	}
}

func TestGateWaitingURL(t *testing.T) {
	tests := []struct {
		waiting, target, want string
	}{
		{"/wait/vaccine", "/", "/wait/vaccine?return=%2F"},
		{"/wait?room=vaccine", "/book", "/wait?room=vaccine&return=%2Fbook"},
		{"https://queue.example.org/wait", "/a/b?c=d&e=f", "https://queue.example.org/wait?return=%2Fa%2Fb%3Fc%3Dd%26e%3Df"},
		// A request for a path a browser would read as another host's
		// address is sent to the waiting page without a return path.
		{"/wait/vaccine", "//evil.example/x", "/wait/vaccine"},
		{"/wait/vaccine", "/%5Cevil.example", "/wait/vaccine?return=%2F%255Cevil.example"},
	}
	for _, tc := range tests {
		t.Run(tc.waiting+tc.target, func(t *testing.T) {
			g := &Gate{Verifier: StatelessVerifier{Keys: testKeyring(t, "k", 1), Room: "vaccine"}, WaitingURL: tc.waiting}
			req := httptest.NewRequest("GET", tc.target, nil)
			req.Header.Set("Accept", "text/html")
			w := httptest.NewRecorder()
			g.Wrap(http.NotFoundHandler()).ServeHTTP(w, req)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.want {
				t.Errorf("%d %q, want 303 %q", w.Code, w.Header().Get("Location"), tc.want)
			}
		})
	}
	t.Run("no waiting url", func(t *testing.T) {
		g := &Gate{Verifier: StatelessVerifier{Keys: testKeyring(t, "k", 1), Room: "vaccine"}}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept", "text/html")
		w := httptest.NewRecorder()
		g.Wrap(http.NotFoundHandler()).ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("browser without a waiting page: %d, want 401", w.Code)
		}
	})
	t.Run("odd waiting url stays valid JSON", func(t *testing.T) {
		g := &Gate{Verifier: StatelessVerifier{Keys: testKeyring(t, "k", 1), Room: "vaccine"}, WaitingURL: "/wait/\"x\"\\\n\t대기"}
		w := httptest.NewRecorder()
		g.Wrap(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		var p rejection
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.WaitingURL != g.WaitingURL {
			t.Errorf("body %s: %v, waiting_url %q", w.Body, err, p.WaitingURL)
		}
	})
}

func TestStatelessVerifier(t *testing.T) {
	keys := testKeyring(t, "k1", 1)
	clk := clock.NewManual(t0)
	pass := keys.IssuePass(Pass{Room: "vaccine", Position: 3, Issued: t0, Expires: t0.Add(time.Minute)})
	tests := []struct {
		name string
		v    StatelessVerifier
		want error
	}{
		{"ok", StatelessVerifier{Keys: keys, Room: "vaccine", Clock: clk}, nil},
		{"other room", StatelessVerifier{Keys: keys, Room: "concert", Clock: clk}, ErrWrongRoom},
		{"no room configured", StatelessVerifier{Keys: keys, Clock: clk}, ErrWrongRoom},
		{"real clock: long expired", StatelessVerifier{Keys: keys, Room: "vaccine"}, ErrExpired},
		{"other keys", StatelessVerifier{Keys: testKeyring(t, "k1", 2), Room: "vaccine", Clock: clk}, ErrForged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.v.VerifyPass(pass)
			if tc.want == nil {
				if err != nil || p.Position != 3 {
					t.Errorf("got %+v %v", p, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWantsHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/problem+json, text/html", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/html, application/json", true},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		if got := WantsHTML(req); got != tc.want {
			t.Errorf("WantsHTML(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestReasonOf(t *testing.T) {
	tests := map[error]string{
		ErrMalformed:    ReasonMalformed,
		ErrForged:       ReasonForged,
		ErrUnknownKey:   ReasonUnknownKey,
		ErrExpired:      ReasonExpired,
		ErrWrongRoom:    ReasonWrongRoom,
		ErrWrongKind:    ReasonWrongKind,
		ErrRevoked:      ReasonRevoked,
		nil:             ReasonInternal,
		errors.New("?"): ReasonInternal,
	}
	for err, want := range tests {
		if got := ReasonOf(err); got != want {
			t.Errorf("ReasonOf(%v) = %q, want %q", err, got, want)
		}
	}
	if len(Reasons) != len((&Gate{}).rejected) {
		t.Errorf("%d reasons but %d counters", len(Reasons), len((&Gate{}).rejected))
	}
}
