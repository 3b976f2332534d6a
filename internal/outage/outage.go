// Package outage logs a failure that repeats many times a second while it
// lasts (a database that refuses connections, a lock another node holds,
// a key that no longer opens records) as one outage: a line when it
// starts, one every Log.Every while it goes on with the number of
// failures since the last, and one when it ends, which is at the first
// success after Log.Quiet without a failure (while a database takes reads
// but not writes, successes and failures alternate: that is one outage,
// not one per request). An operator sees the cause at once and is not
// flooded.
package outage

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Log.Every and Log.Quiet.
const (
	DefaultEvery = 30 * time.Second
	DefaultQuiet = 5 * time.Second
)

// Log is one kind of failure. The zero value is not usable: set Logger
// and What. It is safe for concurrent use; Succeeded costs one atomic
// load while nothing is failing.
type Log struct {
	Logger *slog.Logger
	// What fails, for the log lines: "booking database", "outbox lock".
	What string
	// Level of the lines while it fails (default Warn).
	Level slog.Level
	// Every spaces the lines of an outage that goes on (default
	// DefaultEvery).
	Every time.Duration
	// Quiet is how long without a failure ends an outage, at the next
	// success (default DefaultQuiet).
	Quiet time.Duration
	// Now reads the time (default time.Now).
	Now func() time.Time

	failing atomic.Bool
	mu      sync.Mutex
	since   time.Time
	logged  time.Time
	last    time.Time // the latest failure
	total   int       // failures since the outage started
	unseen  int       // failures since the last line
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// orDefault is d, or def where d is not set (zero or negative).
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (l *Log) level() slog.Level {
	if l.Level == 0 {
		return slog.LevelWarn
	}
	return l.Level
}

// Failed records a failure: logged with its cause if it starts an outage,
// or if the last line is Every old.
func (l *Log) Failed(err error, attrs ...any) {
	now := l.now()
	every := orDefault(l.Every, DefaultEvery)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = now
	if !l.failing.Load() {
		l.failing.Store(true)
		l.since, l.logged, l.total, l.unseen = now, now, 1, 0
		l.Logger.Log(nil, l.level(), l.What+" failing", append([]any{"err", err}, attrs...)...)
		return
	}
	l.total++
	l.unseen++
	if now.Sub(l.logged) >= every {
		l.Logger.Log(nil, l.level(), l.What+" still failing",
			append([]any{"err", err, "failures", l.unseen, "since", l.since.Format(time.RFC3339)}, attrs...)...)
		l.logged, l.unseen = now, 0
	}
}

// Succeeded ends the outage, if there is one and its latest failure is
// Quiet old, with a line saying how long it lasted.
func (l *Log) Succeeded() {
	if !l.failing.Load() {
		return
	}
	now := l.now()
	quiet := orDefault(l.Quiet, DefaultQuiet)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing.Load() || now.Sub(l.last) < quiet {
		return
	}
	l.failing.Store(false)
	l.Logger.Info(l.What+" works again", "failures", l.total, "for", l.last.Sub(l.since).Round(time.Millisecond))
}

// Failing reports whether an outage is going on.
func (l *Log) Failing() bool { return l.failing.Load() }
