package web

import (
	"hash/maphash"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits are per-client request limits. Many phones share one address
// behind carrier NAT, so the defaults are generous: they stop one machine
// hammering the server, not a carrier's worth of people. Exempt addresses
// (loopback and trusted proxies by default) are never limited, so a load
// generator on the same host measures the server, not the limiter.
type Limits struct {
	JoinRate         float64 // joins per second per client
	JoinBurst        float64
	StatusRate       float64 // status checks per second per client
	StatusBurst      float64
	Exempt           []netip.Prefix
	TrustedProxy     []netip.Prefix // their X-Forwarded-For names the client
	NoLoopbackExempt bool
}

// DefaultLimits are used when none are configured.
func DefaultLimits() Limits {
	return Limits{JoinRate: 20, JoinBurst: 60, StatusRate: 50, StatusBurst: 150}
}

// Limiter is a per-client token bucket with bounded memory.
type Limiter struct {
	cfg    Limits
	seed   maphash.Seed
	shards [64]limitShard
	now    func() time.Time
}

type limitShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens [2]float64
	last   time.Time
}

const (
	kindJoin   = 0
	kindStatus = 1
	// Bound memory: past this many clients per shard, idle buckets are
	// dropped (an idle bucket is full anyway, so dropping it changes nothing).
	maxBucketsPerShard = 4096
)

// NewLimiter builds a limiter. A rate that is not a positive number turns
// its limit off; a burst below one token is one (a bucket that can never
// hold a whole token would refuse every request forever).
func NewLimiter(cfg Limits) *Limiter {
	for _, k := range []struct{ rate, burst *float64 }{{&cfg.JoinRate, &cfg.JoinBurst}, {&cfg.StatusRate, &cfg.StatusBurst}} {
		if !(*k.rate > 0) {
			*k.rate = 0
		}
		if !(*k.burst >= 1) {
			*k.burst = 1
		}
	}
	l := &Limiter{cfg: cfg, seed: maphash.MakeSeed(), now: time.Now}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	return l
}

// ClientAddr returns the client address for limiting: the peer, or when the
// peer is a trusted proxy the right-most untrusted X-Forwarded-For entry.
func (l *Limiter) ClientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !inPrefixes(addr, l.cfg.TrustedProxy) {
		return addr
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr // garbage: fall back to the proxy itself
			}
			a = a.Unmap()
			if !inPrefixes(a, l.cfg.TrustedProxy) {
				return a
			}
		}
	}
	return addr
}

// clientPrefix is what counts as one client for the per-client limits: an
// IPv4 address, or an IPv6 /64 (one household or phone gets a /64; key by
// it, not by address).
func clientPrefix(a netip.Addr) netip.Prefix {
	bits := a.BitLen()
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *Limiter) exempt(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	if a.IsLoopback() && !l.cfg.NoLoopbackExempt {
		return true
	}
	return inPrefixes(a, l.cfg.Exempt) || inPrefixes(a, l.cfg.TrustedProxy)
}

// Allow reports whether the client may make one more request of the kind,
// and if not how long to wait.
func (l *Limiter) Allow(r *http.Request, kind int) (bool, time.Duration) {
	rate := l.cfg.JoinRate
	if kind == kindStatus {
		rate = l.cfg.StatusRate
	}
	if rate == 0 {
		return true, 0
	}
	// Fast path: loopback peers with no forwarding are exempt without parsing.
	if !l.cfg.NoLoopbackExempt && len(l.cfg.TrustedProxy) == 0 &&
		(strings.HasPrefix(r.RemoteAddr, "127.") || strings.HasPrefix(r.RemoteAddr, "[::1]")) {
		return true, 0
	}
	a := l.ClientAddr(r)
	if l.exempt(a) {
		return true, 0
	}
	key := clientPrefix(a).String()
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= maxBucketsPerShard {
			for k, v := range sh.buckets {
				if now.Sub(v.last) > time.Minute {
					delete(sh.buckets, k)
				}
			}
		}
		b = &bucket{tokens: [2]float64{l.cfg.JoinBurst, l.cfg.StatusBurst}, last: now}
		sh.buckets[key] = b
	}
	dt := now.Sub(b.last).Seconds()
	b.last = now
	b.tokens[kindJoin] = min(l.cfg.JoinBurst, b.tokens[kindJoin]+dt*l.cfg.JoinRate)
	b.tokens[kindStatus] = min(l.cfg.StatusBurst, b.tokens[kindStatus]+dt*l.cfg.StatusRate)
	if b.tokens[kind] >= 1 {
		b.tokens[kind]--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens[kind]) / rate * float64(time.Second))
	return false, wait
}
