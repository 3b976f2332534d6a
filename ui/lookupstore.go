// Citizen pages: the in-memory look-ups the change and cancel steps act on.

package ui

import (
	"sync"
	"time"

	"github.com/sluicehq/sluice/booking"
)

const (
	lookupTTL  = 10 * time.Minute
	maxLookups = 100_000
)

// lookupEntry is what the change and cancel steps need to act on a booking
// found by look-up. It lives in this process's memory only, for lookupTTL:
// the RRN is never written to a page, a cookie, a log or the database.
type lookupEntry struct {
	name    string
	rrn     booking.RRN
	number  string
	expires time.Time
}

type lookupStore struct {
	mu sync.Mutex
	m  map[string]lookupEntry
}

// put stores e under a new random id, or returns "" when full.
func (s *lookupStore) put(e lookupEntry, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]lookupEntry{}
	}
	if len(s.m) >= maxLookups {
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxLookups {
			return ""
		}
	} else {
		n := 0
		for k, v := range s.m { // a little lazy expiry on every insert
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
			if n++; n >= 2 {
				break
			}
		}
	}
	tok := randomToken(24)
	s.m[tok] = e
	return tok
}

func (s *lookupStore) get(tok string, now time.Time) (lookupEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[tok]
	if ok && !now.Before(e.expires) {
		delete(s.m, tok)
		return lookupEntry{}, false
	}
	return e, ok
}
