// Package room is the waiting-room core: signed tickets that carry their own
// place in line, the pre-queue lottery, paced admission, signed passes and
// the gate that checks them. It is plain Go with an injected clock; HTTP and
// storage are adapters elsewhere.
package room

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// State of a room or of a ticket in it.
type State string

const (
	StateScheduled State = "scheduled" // room: the pre-queue has not started
	StatePrequeue  State = "prequeue"  // room and ticket: before opening; places drawn at opening
	StateOpen      State = "open"      // room: admitting
	StateWaiting   State = "waiting"   // ticket: in line
	StateAdmitted  State = "admitted"  // ticket: has a pass
	StatePaused    State = "paused"    // room and ticket: operator paused admission
	StateClosed    State = "closed"    // room and ticket: no more joins or admissions
)

// Room is one waiting room as one node serves it: its settings, its keys
// and its view of the room's line, which lives in a Shared (in this
// process's memory for a single node, in Redis for several). All methods
// are safe for concurrent use.
type Room struct {
	keys   *Keyring
	clock  clock.Clock
	name   string
	shared Shared
	// ownsLine: this node is the only one changing the line (a single node
	// on its own MemShared), so the views it applied are the line itself
	// and reads need not ask the line again.
	ownsLine bool
	draw     func(keyID string, n uint64) (*Lottery, bool) // r.drawLottery, made once
	// epoch is the line's id (lost.go); lost is set while the node cannot
	// serve its line.
	epoch atomic.Pointer[string]
	lost  atomic.Pointer[error]
	// records keeps what this node saw of a shared line (nil: nothing is
	// kept); recorded is the last record, written at recordedAt.
	records    Persister
	recMu      sync.Mutex
	recorded   View
	recordedAt time.Time

	settings atomic.Pointer[Settings]

	view // the line as this node last saw it (view.go)
	// lease is the block of join numbers a node of a shared line hands
	// out (lease.go); seenAt is when the view last came from the line
	// (Unix ns, set by accept; fresh.go).
	lease  nodeLease
	seenAt atomic.Int64

	// mu guards drawing the lottery, adopting the line's controls, Update
	// and the rate history.
	mu sync.Mutex
	// configured is what the configuration said of the controls when the
	// room was created (see Snapshot.Configured).
	configured Controls
	rate       rateMeter
	// promised is what status answers were computed from (late.go).
	promised promiseMarks

	// pacing is the backend's health and the pacer (pacer.go); handover
	// the status requests held for their turn (handover.go).
	pacing   pacing
	handover handover
}

// reserveBlock is how many join numbers a node reserves at a time: one
// durable write per block.
const reserveBlock = 256

// bg is the context of calls to the shared line: an in-memory line does
// not wait, and room/redis bounds each call by SharedTimeout.
var bg = context.Background()

// New creates a room on a line of its own in this process's memory. store
// may be nil (no persistence: a restart forgets the line). If store holds
// a snapshot for this room, the room resumes from it, keeping every issued
// ticket's place.
func New(s Settings, keys *Keyring, clk clock.Clock, store Persister) (*Room, error) {
	return newRoom(s, keys, clk, newMemShared(store), true, nil)
}

// NewShared creates a room whose line lives in sh, shared with every other
// node that serves a room of this name from the same sh and signs with the
// same keys. The room's times, pass lifetime, claim timeout and poll
// settings come from s on each node (configure the nodes alike); pause,
// close, capacity and rate are shared: the first node to start sets them
// from its settings, and an operator's change on any node holds for all.
// records (may be nil) keeps what this node saw of the line, so that a
// restart while the line is lost restores it (lost.go).
func NewShared(s Settings, keys *Keyring, clk clock.Clock, sh Shared, records Persister) (*Room, error) {
	return newRoom(s, keys, clk, sh, false, records)
}

func newRoom(s Settings, keys *Keyring, clk clock.Clock, sh Shared, ownsLine bool, records Persister) (*Room, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.System{}
	}
	r := &Room{keys: keys, clock: clk, name: s.Name, shared: sh, ownsLine: ownsLine, configured: controlsOf(&s), records: records}
	r.draw = r.drawLottery
	r.lease.id = newNodeID()
	r.settings.Store(&s)
	now := clk.Now()
	epoch := newEpoch()
	r.epoch.Store(&epoch)
	var v View
	var err error
	var rec *Snapshot
	if records != nil {
		if rec, err = records.Load(s.Name); err != nil {
			return nil, fmt.Errorf("room %q: %w", s.Name, err)
		}
	}
	if rec != nil && rec.Epoch != "" {
		// This node served the line before: if it is lost, restore it
		// rather than start another.
		seen := viewOf(rec)
		r.epoch.Store(&seen.Epoch)
		if v, err = sh.Restore(bg, s.Name, seen, sessionsFrom(seen.Serving, &s), now, r.admitParams(&s)); errors.Is(err, ErrLineReset) {
			// Another line took its place: the node keeps what it saw
			// and serves nobody until that is sorted out (lost.go).
			v, err = seen, r.lose(fmt.Errorf("%w (this node's state directory records epoch %s)", err, seen.Epoch))
			r.recorded = seen
		}
	} else {
		v, err = sh.Init(bg, s.Name, r.configured, epoch, now)
	}
	if err != nil && r.Problem() == nil {
		return nil, fmt.Errorf("room %q: queue state: %w", s.Name, err)
	}
	r.epoch.Store(&v.Epoch)
	if err := r.apply(&v); err != nil {
		return nil, err
	}
	if r.Problem() == nil {
		if err := r.record(now, true); err != nil {
			return nil, fmt.Errorf("room %q: %w", s.Name, err)
		}
	}
	r.rate.start(&v, now)
	// Until there is a measurement, ETAs assume the configured rate.
	e := etaBase{rate: r.settings.Load().Rate, pace: r.settings.Load().Rate, serving: v.Serving}
	r.promised.note(now, e, v.Serving, v.N+v.PostSeq, v.Controls.Paused, closedAt(r.settings.Load(), now))
	r.eta.Store(&e)
	return r, nil
}

// Name of the room.
func (r *Room) Name() string { return r.name }

// Settings returns a copy of the current settings.
func (r *Room) Settings() Settings { return *r.settings.Load() }

func closedAt(s *Settings, now time.Time) bool {
	return s.Closed || (!s.ClosesAt.IsZero() && !now.Before(s.ClosesAt))
}

// State returns the room's state now.
func (r *Room) State() State { return r.stateAt(r.settings.Load(), r.clock.Now()) }

func (r *Room) stateAt(s *Settings, now time.Time) State {
	switch {
	case closedAt(s, now):
		return StateClosed
	case !r.frozen.Load() && !s.PrequeueAt.IsZero() && now.Before(s.PrequeueAt):
		return StateScheduled
	case !r.frozen.Load() && now.Before(s.OpensAt):
		return StatePrequeue
	case s.Paused:
		return StatePaused
	}
	return StateOpen
}

func (r *Room) admitParams(s *Settings) AdmitParams {
	return AdmitParams{OpensAt: s.OpensAt, ClosesAt: s.ClosesAt, ClaimTimeout: s.ClaimTimeout,
		LotteryKey: r.keys.CurrentKeyID(), Draw: r.draw}
}

// drawLottery derives the pre-queue lottery of n places from the named
// signing key (the current one if empty, as in snapshots written before
// the key was recorded).
func (r *Room) drawLottery(keyID string, n uint64) (*Lottery, bool) {
	if keyID == "" {
		keyID = r.keys.CurrentKeyID()
	}
	secret, ok := r.keys.deriveSecretWith(keyID, "lottery/"+r.name)
	if !ok {
		return nil, false
	}
	return NewLottery(secret, n), true
}

// Join issues a new ticket.
func (r *Room) Join() (string, Status, error) {
	t, st, err := r.join()
	if t.Room == "" {
		return "", st, err
	}
	return r.keys.IssueTicket(t), st, err
}

// AppendJoin is Join appending the new ticket's text to b rather than
// returning it as a string (web's join writes it into its answer).
func (r *Room) AppendJoin(b []byte) (_ []byte, st Status, err error) {
	var t Ticket
	t, st, err = r.join()
	if t.Room != "" {
		b = r.keys.AppendTicket(b, t)
	}
	return b, st, err
}

// join takes the next place in line and returns its ticket, not yet
// signed (the zero Ticket if none was issued), and its status.
func (r *Room) join() (t Ticket, st Status, err error) {
	now := r.clock.Now()
	s := r.settings.Load()
	switch r.stateAt(s, now) {
	case StateScheduled:
		return Ticket{}, Status{OpensAt: s.OpensAt}, ErrNotYetOpen
	case StateClosed:
		return Ticket{}, Status{}, ErrRoomClosed
	}
	phase, seq, err := r.take(s, now)
	if err != nil {
		return Ticket{}, Status{}, err
	}
	if phase == PhaseOpen && !r.ownsLine {
		r.reportAtHead(s, seq, now)
	}
	t = Ticket{Room: s.Name, Phase: phase, Seq: seq, Issued: now}
	st, err = r.status(t, r.settings.Load(), readAt(now))
	// On a shared line a join at the front may wait only for a node's next
	// report of its block (at most LeaseGrace, lease.go), not for the line:
	// the joiner is asked back then rather than after MinPoll. One early
	// poll per joiner near the front; the poll budget is about the line.
	if err == nil && !r.ownsLine && st.State == StateWaiting && st.ETA <= time.Second && st.PollAfter > LeaseGrace {
		st.PollAfter = LeaseGrace
	}
	return t, st, err
}

// take hands out the next join number: on a shared line from the node's
// block (lease.go); on a single node's own line, reserving a block when
// the line's reservation is used up (other joiners may use up a fresh
// block before this one gets its number, so it tries a few times).
func (r *Room) take(s *Settings, now time.Time) (Phase, uint64, error) {
	if err := r.lostErr(); err != nil {
		return 0, 0, err
	}
	if !r.ownsLine {
		return r.takeLeased(s, now)
	}
	a := r.admitParams(s)
	for range 4 {
		before := r.marks()
		phase, seq, v, err := r.shared.Join(bg, r.name, now, a)
		if err == nil {
			if err := r.accept(&v, before); err != nil {
				return 0, 0, err
			}
			// A node that keeps records has the number's reservation on
			// disk before the number is in anyone's hands.
			if r.mustRecord(&v) {
				if err := r.record(now, false); err != nil {
					return 0, 0, err
				}
			}
			return phase, seq, nil
		}
		if !errors.Is(err, ErrUnreserved) {
			return 0, 0, r.fail(err)
		}
		before = r.marks()
		v, err = r.shared.Reserve(bg, r.name, phase, reserveBlock, now)
		if err != nil {
			return 0, 0, r.fail(err)
		}
		if err := r.accept(&v, before); err != nil {
			return 0, 0, err
		}
	}
	return 0, 0, fmt.Errorf("%w: join numbers were used up faster than they could be reserved", ErrPersist)
}

// VerifyTicket checks that tok is a ticket of this room.
func (r *Room) VerifyTicket(tok string) (Ticket, error) {
	return r.keys.VerifyTicket(tok, r.name)
}

// Status tells a ticket holder where they stand; when their turn has come
// it carries a pass. StatusSeen (fresh.go) also keeps the position from
// rising across nodes.
func (r *Room) Status(t Ticket) (Status, error) { return r.StatusSeen(t, 0) }

// VerifyPass checks a pass for this room at the current time, including that
// its session is still active (not returned through Leave). It fails
// closed: a pass whose session cannot be checked lets nobody in.
func (r *Room) VerifyPass(tok string) (Pass, error) {
	now := r.clock.Now()
	p, err := r.keys.VerifyPass(tok, r.name, now)
	if err != nil {
		return p, err
	}
	if err := r.lostErr(); err != nil {
		return p, err
	}
	active, err := r.shared.Active(bg, r.name, p.Position, now)
	if err != nil {
		return p, r.fail(err)
	}
	if !active {
		return p, ErrRevoked
	}
	return p, nil
}

// Leave ends the session of a pass at once, freeing its place for the next
// person. Leaving twice is harmless. It fails only when the line cannot be
// reached; the session then ends when its pass expires.
func (r *Room) Leave(p Pass) error {
	if err := r.lostErr(); err != nil {
		return err
	}
	before := r.marks()
	_, v, err := r.shared.Leave(bg, r.name, p.Position, r.clock.Now(), r.admitParams(r.settings.Load()))
	if err != nil {
		return r.fail(err)
	}
	err = r.accept(&v, before)
	r.wake() // the place may have gone to the next person at once
	return err
}

// Tick expires sessions, admits people as capacity and rate allow, updates
// the measured rate and saves the state if it changed. The manager calls it
// every few tens of milliseconds.
func (r *Room) Tick() error { return r.tick(r.settings.Load(), r.clock.Now()) }

func (r *Room) tick(s *Settings, now time.Time) error {
	if r.Problem() != nil {
		return r.recoverLine(s, now)
	}
	before := r.marks()
	a := r.admitParams(s)
	if !r.ownsLine {
		a.Report = r.leaseReport()
	}
	v, err := r.shared.Tick(bg, r.name, now, a)
	if err != nil && !errors.Is(err, ErrUnsaved) {
		return r.fail(err)
	}
	if err := r.accept(&v, before); err != nil {
		return err
	}
	r.measure(v, now)
	r.wake()
	if err != nil {
		return sharedErr(err)
	}
	if err := r.record(now, false); err != nil {
		return err
	}
	return r.pace(s, &v, now)
}

// Update changes settings while the room runs (pause, resume, close,
// capacity, rate...). Lowering capacity below the number of active sessions
// admits nobody new until enough sessions end; it does not cut sessions off.
func (r *Room) Update(change func(*Settings)) (Settings, error) {
	// Start from the line's controls as they are now, so that a pause here
	// does not undo a capacity another node set a moment ago.
	if err := r.refresh(); err != nil {
		return r.Settings(), err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.settings.Load()
	s := *old
	change(&s)
	s.Name = old.Name
	// No WithDefaults here: a change that writes zero means zero (a
	// capacity of 0 is refused), not "back to the default".
	s.normalizeWords()
	if err := s.Validate(); err != nil {
		return *old, err
	}
	if r.frozen.Load() && !s.OpensAt.Equal(old.OpensAt) {
		return *old, errors.New("opens_at cannot change after the room has opened")
	}
	if c := controlsOf(&s); c != controlsOf(old) {
		v, err := r.shared.SetControls(bg, r.name, c)
		if err != nil {
			return *old, r.fail(err)
		}
		// Views older than this change must not bring the old controls back.
		r.controlsSet.Store(max(r.controlsSet.Load(), v.ControlsSet))
	}
	r.settings.Store(&s)
	return s, nil
}

// sharedErr is ErrPersist (503 to people, fail closed at the gate)
// wrapping the cause (see Room.fail).
func sharedErr(err error) error { return fmt.Errorf("%w: %w", ErrPersist, err) }

// newEpoch is a random id for a new line.
func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
