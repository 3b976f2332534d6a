package web

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestLimiterClientAddr(t *testing.T) {
	l := NewLimiter(Limits{TrustedProxy: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	cases := []struct {
		name, remote, xff, want string
	}{
		{"direct client", "203.0.113.7:5555", "", "203.0.113.7"},
		{"direct client lies in XFF", "203.0.113.7:5555", "1.2.3.4", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", "198.51.100.9", "198.51.100.9"},
		{"chain of trusted proxies", "10.1.2.3:80", "198.51.100.9, 10.9.9.9", "198.51.100.9"},
		{"spoofed left entry ignored", "10.1.2.3:80", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"garbage XFF falls back to proxy", "10.1.2.3:80", "not-an-ip", "10.1.2.3"},
		{"ipv6", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"v4-mapped v6", "[::ffff:203.0.113.7]:1", "", "203.0.113.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := l.ClientAddr(r).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLimiterLimitsAndRefills(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(Limits{JoinRate: 2, JoinBurst: 3, StatusRate: 10, StatusBurst: 10})
	l.now = func() time.Time { return now }
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = "203.0.113.7:1"
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow(r, kindJoin); !ok {
			t.Fatalf("join %d refused within burst", i)
		}
	}
	ok, wait := l.Allow(r, kindJoin)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("4th join: ok=%v wait=%v", ok, wait)
	}
	// Status checks have their own bucket.
	if ok, _ := l.Allow(r, kindStatus); !ok {
		t.Fatal("status refused after joins")
	}
	// Another client is not affected (no carrier-wide lockout from one user).
	r2 := httptest.NewRequest("POST", "/", nil)
	r2.RemoteAddr = "203.0.113.8:1"
	if ok, _ := l.Allow(r2, kindJoin); !ok {
		t.Fatal("other client refused")
	}
	now = now.Add(500 * time.Millisecond) // refills one token
	if ok, _ := l.Allow(r, kindJoin); !ok {
		t.Fatal("refill did not happen")
	}
}

func TestLimiterExemptions(t *testing.T) {
	l := NewLimiter(Limits{JoinRate: 1, JoinBurst: 1, StatusRate: 1, StatusBurst: 1,
		Exempt: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}})
	for _, remote := range []string{"127.0.0.1:1", "[::1]:1", "198.51.100.20:1"} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = remote
		for i := 0; i < 10; i++ {
			if ok, _ := l.Allow(r, kindJoin); !ok {
				t.Fatalf("%s limited", remote)
			}
		}
	}
	// IPv6 clients are keyed by /64.
	a := httptest.NewRequest("POST", "/", nil)
	a.RemoteAddr = "[2001:db8:1:2::1]:1"
	b := httptest.NewRequest("POST", "/", nil)
	b.RemoteAddr = "[2001:db8:1:2::99]:1"
	if ok, _ := l.Allow(a, kindJoin); !ok {
		t.Fatal("first v6 join refused")
	}
	if ok, _ := l.Allow(b, kindJoin); ok {
		t.Fatal("same /64 not limited together")
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/demo/protected":       "/demo/protected",
		"/a?b=c":                "/a?b=c",
		"":                      "",
		"https://evil.example/": "",
		"//evil.example/":       "",
		"/\\evil.example":       "",
		"javascript:alert(1)":   "",
		"/ok\r\nSet-Cookie: x":  "",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

// A burst below one token (0, or 0.5 from a config file) still lets a
// client make one request at a time at the configured rate: a bucket that
// can never hold a whole token would refuse every request forever.
func TestLimiterBurstBelowOne(t *testing.T) {
	for _, burst := range []float64{0, 0.5, -3} {
		t.Run(fmt.Sprint(burst), func(t *testing.T) {
			now := time.Unix(1000, 0)
			l := NewLimiter(Limits{JoinRate: 2, JoinBurst: burst, StatusRate: 4, StatusBurst: burst})
			l.now = func() time.Time { return now }
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = "203.0.113.7:1"
			for _, kind := range []int{kindJoin, kindStatus} {
				if ok, wait := l.Allow(r, kind); !ok {
					t.Fatalf("kind %d: first request refused (wait %v)", kind, wait)
				}
				if ok, wait := l.Allow(r, kind); ok || wait <= 0 {
					t.Fatalf("kind %d: second request at once allowed (ok %v, wait %v), want a burst of one", kind, ok, wait)
				}
			}
			now = now.Add(500 * time.Millisecond) // one join token, two status tokens
			for _, kind := range []int{kindJoin, kindStatus} {
				if ok, wait := l.Allow(r, kind); !ok {
					t.Fatalf("kind %d: refused after a refill (wait %v)", kind, wait)
				}
			}
		})
	}
}
