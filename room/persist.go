package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/atomicfile"
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
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	// Epoch is the line's id (see Shared.Init).
	Epoch    string      `json:"epoch,omitempty"`
	Frozen   bool        `json:"frozen"`
	N        uint64      `json:"n"`
	PreSeq   uint64      `json:"pre_seq"`
	ResvPre  uint64      `json:"reserved_pre"`
	PostSeq  uint64      `json:"post_seq"`
	ResvPost uint64      `json:"reserved_post"`
	Serving  uint64      `json:"serving"`
	Slots    []SlotState `json:"slots"`
	// Uncertain places (see uncertain.go): join numbers whose places are
	// not known yet, places not reached yet, places passed over and their
	// holders who asked for them.
	Uncertain       []SeqRange   `json:"uncertain,omitempty"`
	UncertainPlaces []PlaceRange `json:"uncertain_places,omitempty"`
	PassedOver      []PassedOver `json:"passed_over,omitempty"`
	Claimants       []Claimant   `json:"claimants,omitempty"`
	// Controls are the line's controls, their JSON fields inline
	// ("paused", "closed", "capacity", "rate", "message", "resume_at",
	// "pacing"); pacing is zero in snapshots written before it was shared
	// (the configuration's).
	Controls
	// LotteryKey is the id of the signing key the lottery was derived from
	// (empty in snapshots written before it was recorded: current key).
	LotteryKey string `json:"lottery_key,omitempty"`
	// ControlsSet counts the changes of the controls (a node's record of a
	// shared line; a single node counts from 1 after a restart).
	ControlsSet uint64 `json:"controls_set,omitempty"`
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
	Skipped    uint64 `json:"skipped,omitempty"`
}

// SlotState is one admitted place whose session is active.
type SlotState struct {
	Position uint64    `json:"position"`
	Expires  time.Time `json:"expires"`
	Claimed  bool      `json:"claimed"`
}

// saving is what a line kept on disk needs besides the line itself.
//
// Every change of the line counts in changes (under the line's lock); a
// snapshot covers the changes counted when it was taken, and written is the
// count the newest snapshot on disk covers. A step that a person is told
// about (a leave, a claim, an operator's change) waits until written covers
// its change before it answers (durable). Steps waiting at the same time
// share one write: while one writes, the others wait, and the next writer
// takes a snapshot that covers all of them (a group commit), so a burst of
// leaves costs a few fsyncs, not one each. Status checks of waiting tickets
// never wait for anything.
//
// Writes never go back: a snapshot older than one already written is
// dropped (a reservation writes under the line's lock while another step's
// older snapshot may still be on its way, and a crash must never hand a
// reservation's numbers out again). Lock order: the line's lock, then
// writeMu, then mu; a step waiting to be durable holds none of them.
type saving struct {
	store      Persister
	room       string
	configured Controls // what the configuration said (Snapshot.Configured)
	changes    uint64   // changes made to the line; under the line's lock

	writeMu sync.Mutex // serialises Save

	mu      sync.Mutex
	written uint64 // changes covered by the newest snapshot written
	writing bool   // a step is taking and writing a snapshot for the waiters
	wrote   *sync.Cond
}

func newSaving(store Persister, room string, configured Controls) *saving {
	s := &saving{store: store, room: room, configured: configured}
	s.wrote = sync.NewCond(&s.mu)
	return s
}

// snapshot is the line's durable state and the changes it covers.
func (l *line) snapshot(now time.Time) (*Snapshot, uint64) {
	v := l.v
	snap := &Snapshot{
		Version: 1, SavedAt: now, Epoch: v.Epoch,
		Frozen: v.Frozen, N: v.N,
		PreSeq: v.PreSeq, ResvPre: v.ResvPre,
		PostSeq: v.PostSeq, ResvPost: v.ResvPost,
		Serving:         v.Serving,
		Uncertain:       slices.Clone(l.uncertainSeqs),
		UncertainPlaces: slices.Clone(l.uncertain),
		PassedOver:      slices.Clone(l.passedOver),
		Claimants:       slices.Clone(l.claimants),
		Controls:        v.Controls,
		LotteryKey:      v.LotteryKey,
		Configured:      &l.saved.configured,
		Joins:           v.Joins, Admissions: v.Admissions, Leaves: v.Leaves, Expired: v.Expired, Skipped: v.Skipped,
	}
	for p, sl := range l.slots {
		snap.Slots = append(snap.Slots, SlotState{Position: p, Expires: sl.expires, Claimed: sl.claimed})
	}
	return snap, l.saved.changes
}

// saveNow writes the line before the caller goes on, holding the line's
// lock (a reservation, the pre-queue draw): nothing to do for a line that
// is not saved.
func (l *line) saveNow(now time.Time) error {
	if l.saved == nil {
		return nil
	}
	l.changed()
	return l.saved.write(l.snapshot(now))
}

// changesMade is the count of the line's changes so far (0 for a line that
// is not saved); a step that must be durable waits for it.
func (l *line) changesMade() uint64 {
	if l.saved == nil {
		return 0
	}
	return l.saved.changes
}

// write saves the snapshot covering changes up to upTo unless a newer one
// is written already.
func (s *saving) write(snap *Snapshot, upTo uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	done := upTo <= s.written
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := s.store.Save(s.room, snap); err != nil {
		return err
	}
	s.mu.Lock()
	s.written = max(s.written, upTo)
	s.mu.Unlock()
	return nil
}

// durable returns once the line's changes up to upTo are on disk, writing
// a snapshot itself unless another step is writing one (then it waits for
// that write, and writes the next one if it did not cover upTo). It must
// be called without the line's lock.
func (l *lockedLine) durable(upTo uint64, now time.Time) error {
	s := l.saved
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.written < upTo {
		if s.writing {
			s.wrote.Wait()
			continue
		}
		s.writing = true
		s.mu.Unlock()
		l.mu.Lock()
		snap, covers := l.snapshot(now)
		l.mu.Unlock()
		err := s.write(snap, covers)
		s.mu.Lock()
		s.writing = false
		s.wrote.Broadcast()
		if err != nil {
			return err
		}
	}
	return nil
}

// restoreLine rebuilds a line from its last snapshot. Every join number
// below a saved reservation mark may be in someone's hands, so numbering
// goes on from the marks, and the numbers between what was handed out at
// the save and the mark are uncertain (uncertain.go). Each control keeps
// its saved value (an operator's pause or new capacity survives a restart)
// unless the configuration c now says otherwise than it said at the save:
// an edited config file is the newer instruction. Snapshots that did not
// record the configuration keep every saved value.
func restoreLine(snap *Snapshot, c Controls, now time.Time) *line {
	l := &line{slots: map[uint64]slot{}, lastTick: now}
	v := &l.v
	v.Epoch = snap.Epoch
	v.LotteryKey = snap.LotteryKey
	v.Serving = snap.Serving
	for _, sl := range snap.Slots {
		l.slots[sl.Position] = slot{expires: sl.Expires, claimed: sl.Claimed}
	}
	l.uncertainSeqs = slices.Clone(snap.Uncertain)
	l.uncertain = slices.Clone(snap.UncertainPlaces)
	l.passedOver = slices.Clone(snap.PassedOver)
	l.claimants = slices.Clone(snap.Claimants)
	pre := max(snap.ResvPre, snap.PreSeq)
	post := max(snap.ResvPost, snap.PostSeq)
	v.PreSeq, v.ResvPre, v.PostSeq, v.ResvPost = pre, pre, post, post
	if snap.Frozen {
		v.Frozen, v.N, v.PreSeq, v.ResvPre = true, snap.N, snap.N, snap.N
	}
	// Their places are found by the first admission step, which has the
	// lottery (AdmitParams.Draw).
	if !snap.Frozen && pre > snap.PreSeq {
		l.uncertainSeqs = mergeSeqs(l.uncertainSeqs, SeqRange{PhasePrequeue, snap.PreSeq, pre})
	}
	if post > snap.PostSeq {
		l.uncertainSeqs = mergeSeqs(l.uncertainSeqs, SeqRange{PhaseOpen, snap.PostSeq, post})
	}
	v.Joins, v.Leaves, v.Expired, v.Skipped = snap.Joins, snap.Leaves, snap.Expired, snap.Skipped
	// Snapshots that did not record the counters: the sessions saved were
	// admitted, so that admissions = leaves + expired + active holds.
	v.Admissions = max(snap.Admissions, snap.Leaves+snap.Expired+uint64(len(l.slots)))

	saved := snap.Controls
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
	if saved.Pacing.Mode == "" || (was != nil && was.Pacing != c.Pacing) {
		saved.Pacing = c.Pacing
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
	return atomicfile.Write(f.path(room), b)
}
