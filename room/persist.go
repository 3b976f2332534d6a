package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Persister keeps a room's counters across restarts. The state is small and
// bounded (counters plus at most `capacity` active sessions), never per
// waiting person.
//
// Join sequence numbers are reserved in blocks and the reservation is saved
// before any number of the block is handed out, so a crash can never hand
// out the same place twice. Numbers reserved but perhaps not issued before a
// crash are remembered as uncertain: their places are admitted with a short
// claim timeout, so phantom places cost little.
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
	// LotteryKey is the id of the signing key the lottery was derived from
	// (empty in snapshots written before it was recorded: current key).
	LotteryKey string `json:"lottery_key,omitempty"`
	// Configured is what the configuration (the settings the room was
	// created with) said when the snapshot was written, against which a
	// restart tells an operator's live change from an edited config file.
	// Nil in snapshots written before it was recorded.
	Configured *Controls `json:"configured,omitempty"`
}

// SlotState is one admitted place whose session is active.
type SlotState struct {
	Position uint64    `json:"position"`
	Expires  time.Time `json:"expires"`
	Claimed  bool      `json:"claimed"`
}

func (r *Room) snapshotLocked(s *Settings) *Snapshot {
	snap := &Snapshot{
		Version: 1, SavedAt: r.clock.Now(),
		Frozen: r.frozen.Load(), N: r.n.Load(),
		PreSeq: r.preSeq, ResvPre: r.resvPre,
		PostSeq: r.postSeq.Load(), ResvPost: r.resvPost,
		Serving:   r.serving.Load(),
		Uncertain: append([]SeqRange(nil), r.uncertain...),
		Paused:    s.Paused, Closed: s.Closed, Capacity: s.Capacity, Rate: s.Rate,
		LotteryKey: r.lotteryKey,
		Configured: r.configured,
	}
	r.snapGen++
	for p, sl := range r.slots {
		snap.Slots = append(snap.Slots, SlotState{Position: p, Expires: sl.expires, Claimed: sl.claimed})
	}
	return snap
}

// reserveLocked extends the reservation of the phase's sequence numbers and
// saves it before returning; without a store there is nothing to reserve.
func (r *Room) reserveLocked(s *Settings, phase Phase) error {
	if r.store == nil {
		r.resvPre, r.resvPost = ^uint64(0), ^uint64(0)
		return nil
	}
	if phase == PhasePrequeue {
		r.resvPre = r.preSeq + reserveBlock
	} else {
		r.resvPost = r.postSeq.Load() + reserveBlock
	}
	snap := r.snapshotLocked(s)
	if err := r.saveSnapshot(s.Name, snap, r.snapGen); err != nil {
		if phase == PhasePrequeue {
			r.resvPre = r.preSeq
		} else {
			r.resvPost = r.postSeq.Load()
		}
		return fmt.Errorf("%w: %v", ErrPersist, err)
	}
	return nil
}

// saveSnapshot writes snapshot number gen unless a newer one has been
// written already.
//
// Fix: Tick takes its snapshot under r.mu but writes it after unlocking
// (fsync is slow), while reserveLocked writes a block reservation under
// r.mu. A Tick snapshot taken before a reservation could be written after
// it, putting the old reserved_post back on disk while numbers of the new
// block were being handed out; a crash then reissued those numbers: two
// tickets with the same place. Writes are now serialised and never go back.
// Lock order: r.mu (optional) then saveMu; never r.mu while holding saveMu.
func (r *Room) saveSnapshot(room string, snap *Snapshot, gen uint64) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if gen <= r.savedGen {
		return nil // a newer snapshot is on disk already
	}
	if err := r.store.Save(room, snap); err != nil {
		return err
	}
	r.savedGen = gen
	return nil
}

func (r *Room) restore(s *Settings, snap *Snapshot) error {
	r.preSeq, r.resvPre = snap.ResvPre, snap.ResvPre
	if snap.ResvPre > snap.PreSeq && !snap.Frozen {
		r.uncertain = append(r.uncertain, SeqRange{PhasePrequeue, snap.PreSeq, snap.ResvPre})
	}
	post := max(snap.ResvPost, snap.PostSeq)
	if post > snap.PostSeq {
		r.uncertain = append(r.uncertain, SeqRange{PhaseOpen, snap.PostSeq, post})
	}
	r.uncertain = append(r.uncertain, snap.Uncertain...)
	r.postSeq.Store(post)
	r.resvPost = post
	if snap.Frozen {
		// Fix: the lottery was always derived from the current key, so a
		// restart after a key rotation (NewKeyring(new, old)) drew new
		// places for the whole pre-queue: people jumped around, and some
		// admitted places were handed to others. It is now derived from the
		// key recorded at the draw, which must still be in the keyring.
		kid := snap.LotteryKey
		if kid == "" {
			kid = r.keys.CurrentKeyID()
		}
		secret, ok := r.keys.deriveSecretWith(kid, "lottery/"+s.Name)
		if !ok {
			return fmt.Errorf("room %q: the pre-queue lottery was drawn with signing key %q, which is no longer configured; keep it (as an older key) until the room is over", s.Name, kid)
		}
		r.lotteryKey = kid
		r.preSeq, r.resvPre = snap.N, snap.N
		r.n.Store(snap.N)
		r.lottery.Store(NewLottery(secret, snap.N))
		r.frozen.Store(true)
	}
	r.serving.Store(snap.Serving)
	for _, sl := range snap.Slots {
		r.slots[sl.Position] = slot{expires: sl.Expires, claimed: sl.Claimed}
	}
	// Each control keeps the value it had at the last save (an operator's
	// pause or new capacity survives a restart) unless the configuration
	// now says something other than it said then: an edited config file is
	// the newer instruction. Snapshots that did not record the
	// configuration keep every saved value.
	was := snap.Configured
	if was == nil || was.Paused == s.Paused {
		s.Paused = snap.Paused
	}
	if was == nil || was.Closed == s.Closed {
		s.Closed = snap.Closed
	}
	if snap.Capacity > 0 && (was == nil || was.Capacity == s.Capacity) {
		s.Capacity = snap.Capacity
	}
	if snap.Rate > 0 && (was == nil || was.Rate == s.Rate) {
		s.Rate = snap.Rate
	}
	return nil
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
