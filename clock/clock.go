// Package clock provides the time source every part of Sluice reads, so that
// tests and the demo can control time while production uses the real clock.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Settable starts at a chosen instant and then runs forward in real time; Set
// moves it. The demo uses it to rehearse a campaign at 2021 dates.
type Settable struct {
	mu     sync.RWMutex
	offset time.Duration
	real   func() time.Time
}

// NewSettable returns a clock that reads at now.
func NewSettable(at time.Time) *Settable {
	c := &Settable{real: time.Now}
	c.Set(at)
	return c
}

// Now returns the current time of the clock.
func (c *Settable) Now() time.Time {
	c.mu.RLock()
	off := c.offset
	c.mu.RUnlock()
	return c.real().Add(off)
}

// Set moves the clock so that it reads at now and runs on from there.
func (c *Settable) Set(at time.Time) {
	c.mu.Lock()
	c.offset = at.Sub(c.real())
	c.mu.Unlock()
}

// Manual is a clock that only moves when told to (tests).
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a manual clock reading at.
func NewManual(at time.Time) *Manual { return &Manual{now: at} }

// Now returns the manual clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set sets the manual clock.
func (c *Manual) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	c.mu.Unlock()
}
