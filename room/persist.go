package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Persister keeps a single node's lines across restarts (see MemShared).
// The state is small and bounded (counters plus at most `capacity` active
// sessions), never per waiting person.
type Persister interface {
	Load(room string) (*Snapshot, error) // nil, nil when there is none
	Save(room string, s *Snapshot) error
}

// Snapshot is a room's durable state.
type Snapshot struct {
	Version   int         `json:"version"`
	SavedAt   time.Time   `json:"saved_at"`
	Frozen    bool        `json:"frozen"`
	N         uint64      `json:"n"`
	PreSeq    uint64      `json:"pre_seq"`
	ResvPre   uint64      `json:"reserved_pre"`
	PostSeq   uint64      `json:"post_seq"`
	ResvPost  uint64      `json:"reserved_post"`
	Serving   uint64      `json:"serving"`
	Slots     []SlotState `json:"slots"`
	Uncertain []SeqRange  `json:"uncertain,omitempty"`
	Paused    bool        `json:"paused"`
	Closed    bool        `json:"closed"`
	Capacity  int         `json:"capacity"`
	Rate      float64     `json:"rate"`
	Message   string      `json:"message,omitempty"`
	ResumeAt  time.Time   `json:"resume_at,omitzero"`
	// LotteryKey is the id of the signing key the lottery was derived from
	// (empty in snapshots written before it was recorded: current key).
	LotteryKey string `json:"lottery_key,omitempty"`
	// Configured is what the configuration (the settings the room was
	// created with) said when the snapshot was written, against which a
	// restart tells an operator's live change from an edited config file.
	// Nil in snapshots written before it was recorded.
	Configured *Controls `json:"configured,omitempty"`
	// The line's counters (zero in snapshots written before they were
	// recorded).
	Joins      uint64 `json:"joins,omitempty"`
	Admissions uint64 `json:"admissions,omitempty"`
	Leaves     uint64 `json:"leaves,omitempty"`
	Expired    uint64 `json:"expired,omitempty"`
}

// SlotState is one admitted place whose session is active.
type SlotState struct {
	Position uint64    `json:"position"`
	Expires  time.Time `json:"expires"`
	Claimed  bool      `json:"claimed"`
}

// saving is what a line kept on disk needs besides the line itself. The
// line's lock guards dirty and gen; writes are serialised by writeMu and
// never go back: a snapshot taken before another that is already written
// is dropped (a tick takes its snapshot under the line's lock but writes it
// after unlocking, while a reservation writes under the lock, so a tick's
// older snapshot could otherwise land after a newer reservation and a crash
// would hand its numbers out again). Lock order: the line's lock, then
// writeMu.
type saving struct {
	store      Persister
	room       string
	configured Controls // what the configuration said (Snapshot.Configured)
	dirty      bool
	gen        uint64 // number of the last snapshot taken

	writeMu sync.Mutex
	written uint64 // number of the last snapshot written
}

// snapshot is the line's durable state, numbered for saving.Write.
func (l *line) snapshot(now time.Time) (*Snapshot, uint64) {
	v := l.v
	snap := &Snapshot{
		Version: 1, SavedAt: now,
		Frozen: v.Frozen, N: v.N,
		PreSeq: v.PreSeq, ResvPre: v.ResvPre,
		PostSeq: v.PostSeq, ResvPost: v.ResvPost,
		Serving:   v.Serving,
		Uncertain: append([]SeqRange(nil), l.uncertain...),
		Paused:    v.Controls.Paused, Closed: v.Controls.Closed, Capacity: v.Controls.Capacity, Rate: v.Controls.Rate,
		Message: v.Controls.Message, ResumeAt: v.Controls.ResumeAt,
		LotteryKey: v.LotteryKey,
		Configured: &l.saved.configured,
		Joins:      v.Joins, Admissions: v.Admissions, Leaves: v.Leaves, Expired: v.Expired,
	}
	for p, sl := range l.slots {
		snap.Slots = append(snap.Slots, SlotState{Position: p, Expires: sl.expires, Claimed: sl.claimed})
	}
	l.saved.gen++
	return snap, l.saved.gen
}

// saveNow writes the line before the caller goes on (a reservation, the
// pre-queue draw); nothing to do for a line that is not saved.
func (l *line) saveNow(now time.Time) error {
	if l.saved == nil {
		return nil
	}
	snap, gen := l.snapshot(now)
	if err := l.saved.write(snap, gen); err != nil {
		return err
	}
	l.saved.dirty = false
	return nil
}

// pendingSave takes the snapshot a tick writes after unlocking: nil when
// nothing changed since the last one.
func (l *line) pendingSave(now time.Time) (*Snapshot, uint64) {
	if l.saved == nil || !l.saved.dirty {
		return nil, 0
	}
	l.saved.dirty = false
	return l.snapshot(now)
}

// write saves snapshot number gen unless a newer one is written already.
func (s *saving) write(snap *Snapshot, gen uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if gen <= s.written {
		return nil
	}
	if err := s.store.Save(s.room, snap); err != nil {
		return err
	}
	s.written = gen
	return nil
}

// restoreLine rebuilds a line from its last snapshot. Every join number
// below a saved reservation mark may be in someone's hands, so numbering
// goes on from the marks, and the numbers between what was handed out at
// the save and the mark are uncertain. Each control keeps its saved value
// (an operator's pause or new capacity survives a restart) unless the
// configuration c now says otherwise than it said at the save: an edited
// config file is the newer instruction. Snapshots that did not record the
// configuration keep every saved value.
func restoreLine(snap *Snapshot, c Controls, now time.Time) *line {
	l := &line{slots: map[uint64]slot{}, lastTick: now}
	v := &l.v
	pre := max(snap.ResvPre, snap.PreSeq)
	if !snap.Frozen && pre > snap.PreSeq {
		l.uncertain = append(l.uncertain, SeqRange{PhasePrequeue, snap.PreSeq, pre})
	}
	post := max(snap.ResvPost, snap.PostSeq)
	if post > snap.PostSeq {
		l.uncertain = append(l.uncertain, SeqRange{PhaseOpen, snap.PostSeq, post})
	}
	l.uncertain = append(l.uncertain, snap.Uncertain...)
	v.PreSeq, v.ResvPre, v.PostSeq, v.ResvPost = pre, pre, post, post
	if snap.Frozen {
		v.Frozen, v.N, v.PreSeq, v.ResvPre = true, snap.N, snap.N, snap.N
	}
	v.LotteryKey = snap.LotteryKey
	v.Serving = snap.Serving
	for _, sl := range snap.Slots {
		l.slots[sl.Position] = slot{expires: sl.Expires, claimed: sl.Claimed}
	}
	v.Joins, v.Leaves, v.Expired = snap.Joins, snap.Leaves, snap.Expired
	// Snapshots that did not record the counters: the sessions saved were
	// admitted, so that admissions = leaves + expired + active holds.
	v.Admissions = max(snap.Admissions, snap.Leaves+snap.Expired+uint64(len(l.slots)))

	saved := Controls{Paused: snap.Paused, Closed: snap.Closed, Capacity: snap.Capacity, Rate: snap.Rate,
		Message: snap.Message, ResumeAt: snap.ResumeAt}
	was := snap.Configured
	if was != nil && (was.Message != c.Message || !was.ResumeAt.Equal(c.ResumeAt)) {
		saved.Message, saved.ResumeAt = c.Message, c.ResumeAt
	}
	if was != nil && was.Paused != c.Paused {
		saved.Paused = c.Paused
	}
	if was != nil && was.Closed != c.Closed {
		saved.Closed = c.Closed
	}
	if saved.Capacity <= 0 || (was != nil && was.Capacity != c.Capacity) {
		saved.Capacity = c.Capacity
	}
	if !(saved.Rate > 0) || (was != nil && was.Rate != c.Rate) {
		saved.Rate = c.Rate
	}
	v.Controls, v.ControlsSet = saved, 1
	l.tokens = bucketSize(saved.Rate)
	return l
}

// FileStore persists snapshots as one JSON file per room in a directory,
// replaced atomically (write, fsync, rename, fsync directory).
// Call Lock before use so that no second process shares the directory.
type FileStore struct {
	Dir  string
	lock *os.File // held by Lock (dirlock_unix.go)
}

// NewFileStore creates the directory if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &FileStore{Dir: dir}, nil
}

func (f *FileStore) path(room string) string { return filepath.Join(f.Dir, "room-"+room+".json") }

// Load reads a room's snapshot.
func (f *FileStore) Load(room string) (*Snapshot, error) {
	b, err := os.ReadFile(f.path(room))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading room state: %w", err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("room state %s is corrupt: %w", f.path(room), err)
	}
	if s.Version != 1 {
		return nil, fmt.Errorf("room state %s: unknown version %d", f.path(room), s.Version)
	}
	return &s, nil
}

// Save writes a room's snapshot durably.
func (f *FileStore) Save(room string, s *Snapshot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, ".room-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.path(room)); err != nil {
		return err
	}
	d, err := os.Open(f.Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
