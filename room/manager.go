package room

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/every"
)

// Manager holds the rooms of one server and drives their admission ticks.
type Manager struct {
	keys  *Keyring
	clock clock.Clock
	// shared holds the rooms' lines; ownsLines says that this process is
	// the only one changing them (see Room).
	shared    Shared
	ownsLines bool
	records   Persister
	log       *slog.Logger

	// mu serialises Add; rooms is read without it. A room is never
	// removed, so Add publishes a copy of the map with the new room: every
	// request looks its room up (Get), and a read lock was two atomic
	// writes to one cache line shared by all of them.
	mu    sync.Mutex
	rooms atomic.Pointer[map[string]*Room]

	// failing tracks rooms whose ticks fail, so that an outage is logged
	// when it starts, every tickLogEvery while it lasts and when it ends,
	// not on every tick (20 lines a second per room).
	failMu  sync.Mutex
	failing map[string]*tickFailure
}

type tickFailure struct {
	since, logged time.Time
	count         int
}

// tickLogEvery spaces the log lines of a tick failure that goes on.
const tickLogEvery = 10 * time.Second

// NewManager creates an empty manager whose rooms keep their lines in this
// process's memory, saved in store (nil: not saved).
func NewManager(keys *Keyring, clk clock.Clock, store Persister, log *slog.Logger) *Manager {
	m := newManager(keys, clk, newMemShared(store), log)
	m.ownsLines = true
	return m
}

// NewSharedManager creates an empty manager whose rooms keep their lines
// in sh, shared with every node using the same sh; records (may be nil)
// keeps what this node saw of each line (see NewShared).
func NewSharedManager(keys *Keyring, clk clock.Clock, sh Shared, records Persister, log *slog.Logger) *Manager {
	m := newManager(keys, clk, sh, log)
	m.records = records
	return m
}

func newManager(keys *Keyring, clk clock.Clock, sh Shared, log *slog.Logger) *Manager {
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{keys: keys, clock: clk, shared: sh, log: log}
	m.rooms.Store(&map[string]*Room{})
	return m
}

// Keys returns the keyring that signs tickets and passes.
func (m *Manager) Keys() *Keyring { return m.keys }

// Clock returns the manager's clock.
func (m *Manager) Clock() clock.Clock { return m.clock }

// Add creates a room; it is an error if one of that name exists.
func (m *Manager) Add(s Settings) (*Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.rooms.Load()
	if _, ok := old[s.Name]; ok {
		return nil, fmt.Errorf("room %q already exists", s.Name)
	}
	r, err := newRoom(s, m.keys, m.clock, m.shared, m.ownsLines, m.records)
	if err != nil {
		return nil, err
	}
	r.SetLog(m.log)
	rooms := maps.Clone(old)
	rooms[s.Name] = r
	m.rooms.Store(&rooms)
	return r, nil
}

// Get returns a room by name.
func (m *Manager) Get(name string) (*Room, bool) {
	r, ok := (*m.rooms.Load())[name]
	return r, ok
}

// Rooms returns all rooms sorted by name.
func (m *Manager) Rooms() []*Room {
	rooms := *m.rooms.Load()
	out := make([]*Room, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Problems lists why rooms cannot be served now (their shared line is
// lost: Room.Problem); nil when every room can.
func (m *Manager) Problems() []error {
	var errs []error
	for _, r := range m.Rooms() {
		if err := r.Problem(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// TickAll runs one admission tick in every room.
func (m *Manager) TickAll() {
	for _, r := range m.Rooms() {
		m.noteTick(r.Name(), r.Tick())
	}
}

func (m *Manager) noteTick(name string, err error) {
	now := m.clock.Now()
	m.failMu.Lock()
	defer m.failMu.Unlock()
	f := m.failing[name]
	if err == nil {
		if f != nil {
			m.log.Info("room tick works again", "room", name, "failed_ticks", f.count, "for", now.Sub(f.since).Round(time.Millisecond))
			delete(m.failing, name)
		}
		return
	}
	if f == nil {
		if m.failing == nil {
			m.failing = map[string]*tickFailure{}
		}
		f = &tickFailure{since: now}
		m.failing[name] = f
	}
	f.count++
	if f.count == 1 || now.Sub(f.logged) >= tickLogEvery {
		f.logged = now
		m.log.Error("room tick failed (saving or shared state); retrying every tick", "room", name, "err", err, "failed_ticks", f.count, "since", f.since)
	}
}

// Run ticks every room at the interval until ctx ends, then saves once more.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	every.Interval(ctx, interval, m.TickAll)
	m.TickAll()
}
