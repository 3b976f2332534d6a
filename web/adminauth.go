package web

import (
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limits on guessing the admin token (admin API and dashboard sign-in):
// after AdminMaxFailures wrong tokens from one client within
// AdminFailureWindow, its attempts are refused without checking the token
// until the window since its first failure has passed. The token is at
// least 16 characters, so guessing is hopeless anyway; this keeps a
// scanner from trying, and from filling the logs.
const (
	AdminMaxFailures   = 10
	AdminFailureWindow = 10 * time.Minute
	// maxFailureClients bounds the clients remembered; beyond it the
	// expired ones are dropped first, and if none has expired the newest
	// failure is not recorded (the limit is a brake, not a lock).
	maxFailureClients = 100_000
)

// AuthFailures counts wrong admin tokens per client (IPv6: per /64, as
// the per-client limits do). The zero value is ready to use; a nil one
// limits nothing.
type AuthFailures struct {
	// ClientAddr names the client (nil: the request's peer address).
	ClientAddr func(*http.Request) netip.Addr
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu sync.Mutex
	m  map[netip.Prefix]*authFailure
}

type authFailure struct {
	first time.Time
	count int
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
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.m[a.key(r)]
	if f == nil || f.count < AdminMaxFailures {
		return 0, false
	}
	left := f.first.Add(AdminFailureWindow).Sub(now)
	if left <= 0 {
		return 0, false
	}
	return left, true
}

// Failed records a wrong token from the client.
func (a *AuthFailures) Failed(r *http.Request) {
	if a == nil {
		return
	}
	now := a.now()
	k := a.key(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[netip.Prefix]*authFailure{}
	}
	f := a.m[k]
	if f != nil && now.Sub(f.first) >= AdminFailureWindow {
		f = nil // the window has passed: count afresh
	}
	if f == nil {
		if len(a.m) >= maxFailureClients {
			for k, v := range a.m {
				if now.Sub(v.first) >= AdminFailureWindow {
					delete(a.m, k)
				}
			}
			if len(a.m) >= maxFailureClients {
				return
			}
		}
		f = &authFailure{first: now}
		a.m[k] = f
	}
	f.count++
}
