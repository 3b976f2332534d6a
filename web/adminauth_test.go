package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func TestAuthFailures(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := &AuthFailures{Now: func() time.Time { return now }}
	req := func(remote string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		return r
	}
	for _, c := range []struct {
		name       string
		fail, then string // failing client, client checked after
		failures   int
		after      time.Duration
		wantBlock  bool
	}{
		{"under the limit", "192.0.2.1:1000", "192.0.2.1:1000", AdminMaxFailures - 1, 0, false},
		{"at the limit", "192.0.2.2:1000", "192.0.2.2:2000", AdminMaxFailures, 0, true},
		{"another address", "192.0.2.3:1000", "192.0.2.4:1000", AdminMaxFailures, 0, false},
		{"same IPv6 /64", "[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff::9]:1000", AdminMaxFailures, 0, true},
		{"other IPv6 /64", "[2001:db8:1:3::1]:1000", "[2001:db8:1:4::1]:1000", AdminMaxFailures, 0, false},
		{"IPv4-mapped is the IPv4 client", "[::ffff:192.0.2.5]:1000", "192.0.2.5:1000", AdminMaxFailures, 0, true},
		{"window not over", "192.0.2.6:1000", "192.0.2.6:1000", AdminMaxFailures, AdminFailureWindow - time.Second, true},
		{"window over", "192.0.2.7:1000", "192.0.2.7:1000", AdminMaxFailures, AdminFailureWindow, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := now
			defer func() { now = start }()
			for range c.failures {
				a.Failed(req(c.fail))
			}
			now = now.Add(c.after)
			wait, blocked := a.Blocked(req(c.then))
			if blocked != c.wantBlock {
				t.Fatalf("blocked %v (wait %v), want %v", blocked, wait, c.wantBlock)
			}
			if blocked && (wait <= 0 || wait > AdminFailureWindow) {
				t.Errorf("wait %v", wait)
			}
		})
	}
	var none *AuthFailures
	none.Failed(req("192.0.2.9:1"))
	if _, blocked := none.Blocked(req("192.0.2.9:1")); blocked {
		t.Error("a nil AuthFailures blocked someone")
	}
}

// TestAdminAPIBlocksGuessing: after AdminMaxFailures wrong tokens the admin
// API answers 429 without checking the token, even a right one.
func TestAdminAPIBlocksGuessing(t *testing.T) {
	s := testServer(t, room.GenerateKeyring("k1"), nil)
	s.Limiter, s.AdminToken = NewLimiter(DefaultLimits()), "right-admin-token-0123456789"
	h := s.Handler()
	call := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/admin/rooms", nil)
		r.RemoteAddr = "198.51.100.7:5555"
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := call("right-admin-token-0123456789"); w.Code != 200 {
		t.Fatalf("right token: %d %s", w.Code, w.Body)
	}
	for i := range AdminMaxFailures {
		if w := call("wrong-token"); w.Code != 401 {
			t.Fatalf("wrong token %d: %d", i+1, w.Code)
		}
	}
	w := call("right-admin-token-0123456789")
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("right token after %d wrong ones: %d (Retry-After %q), want 429", AdminMaxFailures, w.Code, w.Header().Get("Retry-After"))
	}
}

// TestCheckAdminToken: the one check every admin entry point uses.
func TestCheckAdminToken(t *testing.T) {
	const right = "right-admin-token-0123456789"
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "203.0.113.9:4000"
		return r
	}
	if res, _ := (&Server{}).CheckAdminToken(req(), right); res != AdminDisabled {
		t.Fatalf("no token configured: %v, want AdminDisabled", res)
	}
	s := &Server{AdminToken: right, AdminFailures: &AuthFailures{Now: func() time.Time { return now }}}
	for _, tc := range []struct {
		name string
		tok  string
		want AdminAuth
	}{
		{"right", right, AdminOK},
		{"missing", "", AdminMissing},
		{"wrong", "wrong", AdminWrong},
		{"prefix of the right one", right[:10], AdminWrong},
		{"right one and more", right + "x", AdminWrong},
	} {
		if res, _ := s.CheckAdminToken(req(), tc.tok); res != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, res, tc.want)
		}
	}
	// Three wrong tokens so far; missing tokens did not count.
	for range AdminMaxFailures - 3 {
		s.CheckAdminToken(req(), "wrong")
	}
	res, wait := s.CheckAdminToken(req(), right)
	if res != AdminBlocked || wait <= 0 || wait > AdminFailureWindow {
		t.Fatalf("right token after %d wrong ones: %v (wait %v), want AdminBlocked", AdminMaxFailures, res, wait)
	}
	now = now.Add(AdminFailureWindow)
	if res, _ := s.CheckAdminToken(req(), right); res != AdminOK {
		t.Fatalf("after the window: %v, want AdminOK", res)
	}
}
