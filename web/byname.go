package web

import "sync"

// byName keeps one value per name, made on its first use and kept from
// then on; safe for concurrent use. The zero value is empty and ready.
type byName[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// get returns name's value, made with make if there is none yet. make runs
// under the lock, so that a name's value is made once: it must not use b.
func (b *byName[V]) get(name string, make func() V) V {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[name]
	if !ok {
		if b.m == nil {
			b.m = map[string]V{}
		}
		v = make()
		b.m[name] = v
	}
	return v
}

// each calls fn with every name and its value, under the lock.
func (b *byName[V]) each(fn func(name string, v V)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, v := range b.m {
		fn(name, v)
	}
}
