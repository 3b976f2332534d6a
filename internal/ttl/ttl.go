// Package ttl is the one bounded map of expiring entries that the server
// keeps per person or per client in memory: booking sessions, pending
// identity checks, look-ups, failed admin sign-ins, cached answers.
//
// Memory stays bounded under any load: a map holds at most its maximum of
// live entries, and when it is full a new key is refused (the caller answers
// "busy") rather than the map growing or a live entry being dropped.
// Expired entries are dropped lazily: a couple on every insert, and all of
// them (at most once a second) when the map is full.
package ttl

import (
	"sync"
	"time"
)

// Map is a bounded map whose entries expire. An entry is live while now is
// before its expiry. Times come from the caller, so a Map follows whatever
// clock the caller reads. It is safe for concurrent use; reads of different
// keys do not block each other.
type Map[K comparable, V any] struct {
	max int

	mu        sync.RWMutex
	m         map[K]entry[V]
	lastSweep time.Time
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns an empty map holding at most limit live entries (limit < 1
// is taken as 1).
func New[K comparable, V any](limit int) *Map[K, V] {
	return &Map[K, V]{max: max(1, limit), m: map[K]entry[V]{}}
}

// Get returns the value stored under k if it is live at now.
func (m *Map[K, V]) Get(k K, now time.Time) (V, bool) {
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under k until expires. It stores nothing and returns false
// when k holds no live entry and the map is full of live entries.
func (m *Map[K, V]) Put(k K, v V, expires, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.storeLocked(k, entry[V]{v, expires}, now)
}

// Update replaces the entry of k under the map's lock: f gets the live
// value and its expiry (ok false if there is none) and returns the new
// value, its expiry, and whether to keep it (false deletes k). Update
// returns false when f's new entry could not be stored because the map is
// full (as Put).
func (m *Map[K, V]) Update(k K, now time.Time, f func(v V, expires time.Time, ok bool) (V, time.Time, bool)) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[k]
	if ok && !now.Before(e.expires) {
		delete(m.m, k)
		e, ok = entry[V]{}, false
	}
	v, expires, keep := f(e.v, e.expires, ok)
	if !keep {
		delete(m.m, k)
		return true
	}
	return m.storeLocked(k, entry[V]{v, expires}, now)
}

// Delete removes k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

// Len returns the number of entries held, live or not yet dropped.
func (m *Map[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

func (m *Map[K, V]) storeLocked(k K, e entry[V], now time.Time) bool {
	if old, exists := m.m[k]; exists && now.Before(old.expires) {
		m.m[k] = e // a live key is replaced, never refused
		return true
	}
	// Lazy expiry: look at a couple of entries on every insert, so that a
	// map that never fills up does not keep its dead entries forever.
	n := 0
	for key, old := range m.m {
		if !now.Before(old.expires) {
			delete(m.m, key)
		}
		if n++; n >= 2 {
			break
		}
	}
	if len(m.m) >= m.max {
		// A full sweep, at most once a second (or when the clock went
		// back), so that a full map does not cost a scan per insert.
		if m.lastSweep.IsZero() || now.Sub(m.lastSweep) >= time.Second || now.Before(m.lastSweep) {
			m.lastSweep = now
			for key, old := range m.m {
				if !now.Before(old.expires) {
					delete(m.m, key)
				}
			}
		}
		if _, exists := m.m[k]; !exists && len(m.m) >= m.max {
			return false
		}
	}
	m.m[k] = e
	return true
}
