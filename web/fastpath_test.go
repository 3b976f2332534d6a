package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// twinServer builds a server whose tickets are reproducible: the same keys
// and a clock that stands still, so that two twins given the same requests
// must give byte-identical answers.
func twinServer(t *testing.T, keys *room.Keyring, at time.Time, fast bool) http.Handler {
	t.Helper()
	clk := clock.NewManual(at)
	s := testServer(t, keys, clk, room.Settings{Name: "bench", Capacity: 1, Rate: 1}, room.Settings{Name: "demo_2-x", Capacity: 1, Rate: 1})
	s.Limiter = NewLimiter(Limits{JoinRate: 1, JoinBurst: 1, StatusRate: 1, StatusBurst: 2})
	s.Limiter.now = clk.Now
	fastPathOff = !fast
	defer func() { fastPathOff = false }()
	return s.Handler()
}

// The shortcut for the two hottest routes must answer exactly as the mux
// does, for the requests it takes and for those it leaves to the mux.
func TestFastRoutesAnswerAsTheMux(t *testing.T) {
	keys := room.GenerateKeyring("k1")
	at := time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)
	fast := twinServer(t, keys, at, true)
	slow := twinServer(t, keys, at, false)
	other := room.GenerateKeyring("k1")
	foreign := other.IssueTicket(room.Ticket{Room: "bench", Phase: room.PhaseOpen, Seq: 3, Issued: at})
	var ticket string // filled from the first join
	type req struct {
		method, target, auth, remote string
		header                       map[string]string
	}
	reqs := []req{
		{method: "POST", target: "/api/v1/rooms/bench/tickets"},
		{method: "POST", target: "/api/v1/rooms/bench/tickets"},
		{method: "POST", target: "/api/v1/rooms/demo_2-x/tickets"},
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "TICKET"},
		{method: "GET", target: "/api/v1/rooms/bench/status?x=1", auth: "TICKET"},
		{method: "POST", target: "/api/v1/rooms/bench/tickets", auth: "TICKET"},  // rejoin keeps the place
		{method: "GET", target: "/api/v1/rooms/demo_2-x/status", auth: "TICKET"}, // wrong room
		{method: "GET", target: "/api/v1/rooms/bench/status"},                    // no ticket
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "garbage"},
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: foreign}, // forged (other key, same id)
		{method: "GET", target: "/api/v1/rooms/nosuch/status", auth: "TICKET"},
		{method: "POST", target: "/api/v1/rooms/nosuch/tickets"},
		{method: "GET", target: "/api/v1/rooms/Bench/status", auth: "TICKET"},   // not plain: mux
		{method: "GET", target: "/api/v1/rooms/ben%63h/status", auth: "TICKET"}, // escaped: mux
		{method: "GET", target: "/api/v1/rooms/bench%2Fx/status", auth: "TICKET"},
		{method: "GET", target: "/api/v1/rooms//status", auth: "TICKET"},
		{method: "GET", target: "/api/v1/rooms/x/../bench/status", auth: "TICKET"},
		{method: "GET", target: "/api/v1/rooms/bench/status/", auth: "TICKET"},
		{method: "GET", target: "/api/v1/rooms/status", auth: "TICKET"},
		{method: "HEAD", target: "/api/v1/rooms/bench/status", auth: "TICKET"},
		{method: "PUT", target: "/api/v1/rooms/bench/tickets"},
		{method: "GET", target: "/api/v1/rooms/bench/tickets"},
		{method: "POST", target: "/api/v1/rooms/bench/status"},
		{method: "POST", target: "/api/v1/rooms/bench/leave"},
		{method: "GET", target: "/healthz"},
		// Rate limits apply on the shortcut as on the mux.
		{method: "POST", target: "/api/v1/rooms/bench/tickets", remote: "203.0.113.9:1000"},
		{method: "POST", target: "/api/v1/rooms/bench/tickets", remote: "203.0.113.9:1000"},
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "TICKET", remote: "203.0.113.9:1000"},
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "TICKET", remote: "203.0.113.9:1000"},
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "TICKET", remote: "203.0.113.9:1000"},
		// Header limits come first.
		{method: "GET", target: "/api/v1/rooms/bench/status", auth: "TICKET", header: map[string]string{"X-Big": strings.Repeat("a", MaxHeaderBytes)}},
		{method: "POST", target: "/api/v1/rooms/bench/tickets", header: map[string]string{"Content-Length": "100000"}},
	}
	for i, rq := range reqs {
		var got [2]*httptest.ResponseRecorder
		for j, h := range []http.Handler{fast, slow} {
			r := httptest.NewRequest(rq.method, rq.target, nil)
			r.RemoteAddr = "127.0.0.1:5000"
			if rq.remote != "" {
				r.RemoteAddr = rq.remote
			}
			if auth := strings.ReplaceAll(rq.auth, "TICKET", ticket); auth != "" {
				r.Header.Set("Authorization", "Bearer "+auth)
			}
			for k, v := range rq.header {
				r.Header.Set(k, v)
			}
			if rq.header["Content-Length"] != "" {
				r.ContentLength = 100000
				r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", 100000)))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got[j] = w
		}
		f, s := got[0], got[1]
		name := rq.method + " " + rq.target
		if f.Code != s.Code || f.Body.String() != s.Body.String() || !sameHeader(f.Header(), s.Header()) {
			t.Errorf("#%d %s: shortcut answered %d %v %q, mux %d %v %q", i, name,
				f.Code, f.Header(), f.Body.String(), s.Code, s.Header(), s.Body.String())
		}
		if i == 0 {
			if f.Code != http.StatusCreated {
				t.Fatalf("first join: %d %s", f.Code, f.Body.String())
			}
			_, rest, _ := strings.Cut(f.Body.String(), `"ticket":"`)
			ticket, _, _ = strings.Cut(rest, `"`)
		}
	}
}

func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb := b[k]
		if len(va) != len(vb) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}

func TestPlainRoomPath(t *testing.T) {
	for _, tc := range []struct {
		path, suffix, want string
		ok                 bool
	}{
		{"/api/v1/rooms/bench/status", "/status", "bench", true},
		{"/api/v1/rooms/a-b_9/tickets", "/tickets", "a-b_9", true},
		{"/api/v1/rooms//status", "/status", "", false},
		{"/api/v1/rooms/status", "/status", "", false},
		{"/api/v1/rooms/Bench/status", "/status", "", false},
		{"/api/v1/rooms/a.b/status", "/status", "", false},
		{"/api/v1/rooms/a/b/status", "/status", "", false},
		{"/api/v1/rooms/a%20/status", "/status", "", false},
		{"/api/v1/rooms/bench/status/", "/status", "", false},
		{"/api/v2/rooms/bench/status", "/status", "", false},
		{"/api/v1/rooms/bench/tickets", "/status", "", false},
	} {
		got, ok := plainRoomPath(tc.path, tc.suffix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("plainRoomPath(%q, %q) = %q, %v; want %q, %v", tc.path, tc.suffix, got, ok, tc.want, tc.ok)
		}
	}
}

// A route that claims one of the two paths turns the shortcut off.
func TestFastRoutesYieldToClaimingRoutes(t *testing.T) {
	s := testServer(t, room.GenerateKeyring("k1"), nil, room.Settings{Name: "vip"})
	s.Limiter = NewLimiter(DefaultLimits())
	s.Routes = func(mux *http.ServeMux) {
		mux.HandleFunc("POST /api/v1/rooms/vip/tickets", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		})
	}
	h := s.Handler()
	r := httptest.NewRequest("POST", "/api/v1/rooms/vip/tickets", nil)
	r.RemoteAddr = "127.0.0.1:1"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusTeapot {
		t.Fatalf("the claiming route was bypassed: %d", w.Code)
	}
}
