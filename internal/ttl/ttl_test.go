package ttl

import (
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)

func TestGetPutExpiry(t *testing.T) {
	m := New[string, int](10)
	if !m.Put("a", 1, t0.Add(time.Minute), t0) {
		t.Fatal("put refused on an empty map")
	}
	tests := []struct {
		at   time.Time
		want bool
	}{
		{t0, true},
		{t0.Add(time.Minute - time.Nanosecond), true},
		{t0.Add(time.Minute), false}, // live while now is before the expiry
		{t0.Add(time.Hour), false},
	}
	for _, tc := range tests {
		v, ok := m.Get("a", tc.at)
		if ok != tc.want || ok && v != 1 {
			t.Errorf("Get at %v = %d, %v; want live=%v", tc.at.Sub(t0), v, ok, tc.want)
		}
	}
	if _, ok := m.Get("missing", t0); ok {
		t.Error("Get of a missing key reported a value")
	}
	m.Delete("a")
	if _, ok := m.Get("a", t0); ok {
		t.Error("Get after Delete reported a value")
	}
}

func TestFullRefusesNewKeysUntilEntriesExpire(t *testing.T) {
	m := New[int, string](3)
	for i := range 3 {
		if !m.Put(i, "v", t0.Add(time.Duration(i+1)*time.Minute), t0) {
			t.Fatalf("put %d refused", i)
		}
	}
	if m.Put(99, "new", t0.Add(time.Hour), t0) {
		t.Fatal("a full map of live entries took a new key")
	}
	if !m.Put(1, "replaced", t0.Add(time.Hour), t0) {
		t.Fatal("a full map refused to replace a live key")
	}
	if v, _ := m.Get(1, t0); v != "replaced" {
		t.Fatalf("Get(1) = %q after replacing", v)
	}
	// Once the first entry has expired, the full sweep makes room.
	at := t0.Add(90 * time.Second)
	if !m.Put(99, "new", t0.Add(time.Hour), at) {
		t.Fatal("a full map with an expired entry refused a new key")
	}
	if m.Len() > 3 {
		t.Fatalf("Len = %d, want at most 3", m.Len())
	}
	// The full sweep runs at most once a second: within that second a
	// full map refuses even though an entry has expired meanwhile...
	if m.Put(100, "x", t0.Add(time.Hour), t0.Add(150*time.Second)) {
		// entry 2 expired at t0+3m, not yet: map is still full of live ones
		t.Fatal("a full map of live entries took a new key")
	}
	// ...and after it, a sweep runs again.
	if !m.Put(100, "x", t0.Add(time.Hour), t0.Add(4*time.Minute)) {
		t.Fatal("a full map refused a new key after its entries expired")
	}
}

func TestLazyExpiryOnInsert(t *testing.T) {
	m := New[int, int](1000)
	for i := range 100 {
		m.Put(i, i, t0.Add(time.Second), t0)
	}
	// Every insert after the expiry looks at two entries and drops the
	// dead ones among them.
	for i := 100; i < 200; i++ {
		m.Put(i, i, t0.Add(time.Hour), t0.Add(time.Minute))
	}
	if n := m.Len(); n >= 200 {
		t.Fatalf("Len = %d after 100 inserts past the expiry of 100 entries: nothing was dropped", n)
	}
}

func TestUpdate(t *testing.T) {
	m := New[string, int](2)
	expires := t0.Add(time.Minute)
	count := func(v int, _ time.Time, ok bool) (int, time.Time, bool) {
		if !ok {
			v = 0
		}
		return v + 1, expires, true
	}
	for range 3 {
		if !m.Update("k", t0, count) {
			t.Fatal("update refused")
		}
	}
	if v, _ := m.Get("k", t0); v != 3 {
		t.Fatalf("after three updates v = %d, want 3", v)
	}
	// An expired value is presented as absent.
	expires = t0.Add(time.Hour)
	m.Update("k", t0.Add(time.Minute), count)
	if v, _ := m.Get("k", t0.Add(time.Minute)); v != 1 {
		t.Fatalf("update after expiry: v = %d, want a fresh 1", v)
	}
	// keep=false deletes.
	m.Update("k", t0, func(int, time.Time, bool) (int, time.Time, bool) { return 0, time.Time{}, false })
	if _, ok := m.Get("k", t0); ok {
		t.Fatal("update with keep=false left the key")
	}
	// A full map refuses a new key through Update as through Put.
	m.Delete("k")
	m.Put("a", 1, t0.Add(time.Hour), t0)
	m.Put("b", 1, t0.Add(time.Hour), t0)
	if m.Update("c", t0, count) {
		t.Fatal("update stored a new key in a full map")
	}
	if _, ok := m.Get("c", t0); ok {
		t.Fatal("a refused update left its key")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := New[int, int](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g*2000 + i) % 100
				now := t0.Add(time.Duration(i) * time.Millisecond)
				m.Put(k, i, now.Add(50*time.Millisecond), now)
				m.Get(k, now)
				m.Update(k, now, func(v int, exp time.Time, ok bool) (int, time.Time, bool) { return v + 1, exp, ok })
				if i%7 == 0 {
					m.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if m.Len() > 64 {
		t.Fatalf("Len = %d, want at most 64", m.Len())
	}
}

func BenchmarkGetParallel(b *testing.B) {
	m := New[int, int](1024)
	for i := range 1024 {
		m.Put(i, i, t0.Add(time.Hour), t0)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Get(i&1023, t0)
			i++
		}
	})
}
