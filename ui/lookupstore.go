// Citizen pages: the in-memory look-ups the change and cancel steps act on.

package ui

import (
	"sync"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/internal/ttl"
)

const (
	lookupTTL  = 10 * time.Minute
	maxLookups = 100_000
)

// lookupEntry is what the change and cancel steps need to act on a booking
// found by look-up. It lives in this process's memory only, for lookupTTL:
// the RRN is never written to a page, a cookie, a log or the database.
type lookupEntry struct {
	name   string
	rrn    booking.RRN
	number string
}

// lookupStore keeps look-ups under random ids, each for lookupTTL, at
// most maxLookups at once.
type lookupStore struct {
	once sync.Once
	m    *ttl.Map[string, lookupEntry]
}

func (s *lookupStore) entries() *ttl.Map[string, lookupEntry] {
	s.once.Do(func() { s.m = ttl.New[string, lookupEntry](maxLookups) })
	return s.m
}

// put stores e under a new random id until lookupTTL from now, or returns
// "" when full.
func (s *lookupStore) put(e lookupEntry, now time.Time) string {
	tok := randomToken(24)
	if !s.entries().Put(tok, e, now.Add(lookupTTL), now) {
		return ""
	}
	return tok
}

func (s *lookupStore) get(tok string, now time.Time) (lookupEntry, bool) {
	return s.entries().Get(tok, now)
}
