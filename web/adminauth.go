package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/ttl"
)

// Limits on guessing the admin token (admin API, dashboard sign-in and its
// live endpoint): after AdminMaxFailures wrong tokens from one client
// within AdminFailureWindow, its attempts are refused without checking the
// token until the window since its first failure has passed. The token is
// at least 16 characters, so guessing is hopeless anyway; this keeps a
// scanner from trying, and from filling the logs.
const (
	AdminMaxFailures   = 10
	AdminFailureWindow = 10 * time.Minute
	// maxFailureClients bounds the clients remembered; beyond it the
	// expired ones are dropped first, and if none has expired the newest
	// failure is not recorded (the limit is a brake, not a lock).
	maxFailureClients = 100_000
)

// AdminAuth is the outcome of CheckAdminToken.
type AdminAuth int

const (
	// AdminOK: the token is the admin token.
	AdminOK AdminAuth = iota
	// AdminMissing: no token was presented (not counted as a failure).
	AdminMissing
	// AdminWrong: a wrong token, counted against the client.
	AdminWrong
	// AdminBlocked: too many wrong tokens from this client; the token was
	// not checked. Try again after the wait CheckAdminToken returns.
	AdminBlocked
	// AdminDisabled: no admin token is configured, so none is accepted.
	AdminDisabled
)

// CheckAdminToken is the one check of an admin token, used by the admin
// API, the dashboard's sign-in and its live endpoint: refused without a
// look while the client is throttled (AdminFailures), then compared with
// the configured token in constant time over SHA-256 hashes (so neither
// the content nor the length of the token leaks through timing), and a
// wrong token is counted against the client. wait is how long a blocked
// client must wait.
func (s *Server) CheckAdminToken(r *http.Request, tok string) (res AdminAuth, wait time.Duration) {
	if s.AdminToken == "" {
		return AdminDisabled, 0
	}
	failures := s.adminFailures()
	if wait, blocked := failures.Blocked(r); blocked {
		return AdminBlocked, wait
	}
	if tok == "" {
		return AdminMissing, 0
	}
	a, b := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(s.AdminToken))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		failures.Failed(r)
		return AdminWrong, 0
	}
	return AdminOK, 0
}

// RequireAdmin checks the request's bearer token with CheckAdminToken and,
// unless it is accepted, answers 429 admin_auth_blocked (with Retry-After)
// or 401 admin_auth and returns false. hint tells the client how to
// authenticate ("" for the bearer token alone).
func (s *Server) RequireAdmin(w http.ResponseWriter, r *http.Request, hint string) bool {
	res, wait := s.CheckAdminToken(r, bearer(r))
	switch res {
	case AdminOK:
		return true
	case AdminBlocked:
		tooManyRequests(w, wait, "admin_auth_blocked", "Too many wrong admin tokens from your address. Try again later.",
			"잘못된 관리자 토큰이 너무 많습니다. 잠시 후 다시 시도하세요.")
		return false
	}
	if hint == "" {
		hint = "Send the admin token as \"Authorization: Bearer <token>\"."
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="sluice-admin"`)
	problem(w, http.StatusUnauthorized, "admin_auth", hint, "관리자 인증이 필요합니다.")
	return false
}

// admin requires the admin token as a bearer token.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.RequireAdmin(w, r, "") {
			h(w, r)
		}
	}
}

// adminFailures returns s.AdminFailures, made on first use (counting
// clients as the limiter does, so trusted proxies are honoured).
func (s *Server) adminFailures() *AuthFailures {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.AdminFailures == nil {
		s.AdminFailures = &AuthFailures{}
		if s.Limiter != nil {
			s.AdminFailures.ClientAddr = s.Limiter.ClientAddr
		}
	}
	return s.AdminFailures
}

// AuthFailures counts wrong admin tokens per client (IPv6: per /64, as
// the per-client limits do). The zero value is ready to use; a nil one
// limits nothing.
type AuthFailures struct {
	// ClientAddr names the client (nil: the request's peer address).
	ClientAddr func(*http.Request) netip.Addr
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	once sync.Once
	m    *ttl.Map[netip.Prefix, authFailure]
}

// authFailure is a client's failures in the window that began at first;
// it expires with the window.
type authFailure struct {
	first time.Time
	count int
}

func (a *AuthFailures) init() {
	a.once.Do(func() { a.m = ttl.New[netip.Prefix, authFailure](maxFailureClients) })
}

func (a *AuthFailures) key(r *http.Request) netip.Prefix {
	var addr netip.Addr
	if a.ClientAddr != nil {
		addr = a.ClientAddr(r)
	} else if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		addr = ap.Addr().Unmap()
	}
	return clientPrefix(addr)
}

func (a *AuthFailures) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Blocked reports whether the client must wait before trying a token again,
// and for how long.
func (a *AuthFailures) Blocked(r *http.Request) (time.Duration, bool) {
	if a == nil {
		return 0, false
	}
	a.init()
	now := a.now()
	f, ok := a.m.Get(a.key(r), now)
	if !ok || f.count < AdminMaxFailures {
		return 0, false
	}
	return f.first.Add(AdminFailureWindow).Sub(now), true
}

// Failed records a wrong token from the client.
func (a *AuthFailures) Failed(r *http.Request) {
	if a == nil {
		return
	}
	a.init()
	now := a.now()
	a.m.Update(a.key(r), now, func(f authFailure, _ time.Time, ok bool) (authFailure, time.Time, bool) {
		if !ok { // none yet, or the window has passed: count afresh
			f = authFailure{first: now}
		}
		f.count++
		return f, f.first.Add(AdminFailureWindow), true
	})
}
