package room

import (
	"context"
	"time"
)

// Shared keeps rooms' lines: the counters, controls and sessions that every
// node serving a room reads and changes. A single node keeps them in its
// own memory (MemShared, saved to a state directory by a Persister);
// several nodes keep them in Redis (room/redis) and serve one line: a
// ticket joined on one node has the same place, the same position and the
// same turn on every other. It holds counters and at most `capacity`
// sessions per room, never anything per waiting person. The contract suite
// in room/sharedtest checks every implementation; MemShared is its
// reference and the one Go implementation of the admission arithmetic.
//
// Every method is one atomic step on the room's line and returns the line
// as of the end of that step (View), except Active, which only reads. Every
// method but Init and Active fails with ErrNoSharedState for a room whose
// line is not there (never initialised, or lost: Redis restarted without
// persistence) rather than start it again from zero, which would give
// places that tickets in people's hands already hold. Times are the calling
// node's clock; admission never moves the room's clock backwards, so nodes
// whose clocks differ slightly cannot admit twice for one interval.
//
// Join numbers are handed out only from a reservation (Reserve, or a
// node's block, Lease, which raises the mark with it): a number
// below a phase's reservation mark is never handed out again, even after a
// restart, so a node that restores the line from a saved copy starts above
// the last saved mark and never gives one place to two people. A line
// saved to disk makes each reservation durable before it returns.
type Shared interface {
	// Init creates the room's line with controls c and the given epoch (a
	// random id that tells this line from one created again after it was
	// lost) if there is none (the first node to start wins; later nodes
	// adopt what is there) and returns its view. A MemShared with a store
	// restores the line from its last saved copy, where each control keeps
	// its saved value unless c says otherwise than the configuration did
	// when it was saved.
	Init(ctx context.Context, room string, c Controls, epoch string, now time.Time) (View, error)
	// Restore rebuilds a lost line, or one gone back in time, from what a
	// node saw of it (seen, with seen.Epoch), and raises the line to it
	// (see restore.go): it creates the line if there is none, replaces one
	// of another epoch from which no number was ever handed out, and
	// merges into one of the same epoch (nothing changes if the line is
	// not behind seen). It fails with ErrLineReset for a line of another
	// epoch. The places (sessionsFrom, seen.Serving] may have had sessions
	// that were lost: their holders may claim them again.
	Restore(ctx context.Context, room string, seen View, sessionsFrom uint64, now time.Time, a AdmitParams) (View, error)
	// View returns the room's line.
	View(ctx context.Context, room string) (View, error)
	// Reserve raises the reservation mark of the phase's join numbers to at
	// least n numbers past those handed out; it never lowers it. Once the
	// pre-queue is frozen its numbers cannot be reserved any more (a no-op).
	Reserve(ctx context.Context, room string, phase Phase, n uint64, now time.Time) (View, error)
	// Join hands out the next join number (none, ErrRestoring, while the
	// line is held after a restore): of the pre-queue while it is not
	// frozen and now is before a.OpensAt, else of the open phase, freezing
	// the pre-queue first if needed (recording a.LotteryKey). An open-phase
	// join then runs one admission step, so that someone joining an empty
	// line with free capacity goes straight in. When the phase's
	// reservation is used up it hands out nothing and fails with
	// ErrUnreserved, returning the phase to Reserve.
	Join(ctx context.Context, room string, now time.Time, a AdmitParams) (Phase, uint64, View, error)
	// Freeze closes the pre-queue once now reaches a.OpensAt (recording
	// a.LotteryKey), as Join and Tick do, and nothing else: the first
	// status after opening draws the lottery without admitting anyone.
	Freeze(ctx context.Context, room string, now time.Time, a AdmitParams) (View, error)
	// Tick freezes the pre-queue once now reaches a.OpensAt, ends sessions
	// whose time is up and admits as capacity and rate allow. If the step
	// was made but could not be saved (a MemShared with a store), it
	// returns its view together with an error wrapping ErrUnsaved.
	Tick(ctx context.Context, room string, now time.Time, a AdmitParams) (View, error)
	// Claim marks the admitted place pos as collected, its session lasting
	// passTTL from now, and returns when the session ends. ok is false when
	// pos holds no session (not admitted yet, returned or expired). A place
	// passed over as uncertain (see Uncertain) may be claimed within
	// a.ClaimTimeout of being passed over: its holder is admitted before
	// anyone else when capacity and the rate allow (an admission step
	// runs), and until then Claim fails with ErrClaimWait, which a claim
	// within a.ClaimTimeout keeps up. So may a place admitted in line
	// order whose session ended uncollected, while now is before
	// a.LateUntil (the node vouches that it asked this place's holder
	// back so late; late.go): once, and only if no session of it was
	// ever collected.
	Claim(ctx context.Context, room string, pos uint64, now time.Time, passTTL time.Duration, a AdmitParams) (expires time.Time, ok bool, v View, err error)
	// Active reports whether pos holds a collected, unexpired session.
	Active(ctx context.Context, room string, pos uint64, now time.Time) (bool, error)
	// Leave ends pos's session at once and runs an admission step; it
	// reports whether there was a session.
	Leave(ctx context.Context, room string, pos uint64, now time.Time, a AdmitParams) (bool, View, error)
	// SetControls changes pause, close, capacity, rate, pacing and the
	// operator's message for every node.
	SetControls(ctx context.Context, room string, c Controls) (View, error)
	// Uncertain records that the join numbers r may or may not be held by
	// tickets (reserved by a node that stopped before it could say which
	// it handed out): their places are passed over without a session when
	// reached, and a holder who turns up claims theirs (see Claim). Places
	// reached already are left as they are. The places of pre-queue
	// numbers come from the lottery (a.Draw) once the pre-queue is drawn.
	Uncertain(ctx context.Context, room string, r SeqRange, now time.Time, a AdmitParams) (View, error)
	// Lease hands node a block of n join numbers (at least one) that it
	// hands out on its own (lease.go): of the pre-queue while it is not
	// frozen and now is before a.OpensAt, else of the open phase, freezing
	// the pre-queue first if needed, as Join. The block's first number
	// counts as handed out (the caller's); the node's previous block ends,
	// its numbers not reported handed out (a.Report, applied first)
	// uncertain. An open-phase lease runs one admission step. It fails
	// with ErrRestoring while the line is held after a restore.
	Lease(ctx context.Context, room string, node, n uint64, now time.Time, a AdmitParams) (SeqRange, View, error)
}

// Controls are the settings an operator changes while a room runs; they
// live in the line, so they hold for every node.
type Controls struct {
	Paused   bool    `json:"paused"`
	Closed   bool    `json:"closed"`
	Capacity int     `json:"capacity"`
	Rate     float64 `json:"rate"`
	// Message and ResumeAt: the operator's word to the line (Settings);
	// ResumeAt is zero or UTC with millisecond precision.
	Message  string    `json:"message,omitempty"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
	// Pacing is how the rate is chosen (pacing.go), shared like the rate
	// so that an operator's fixed rate on one node holds on all; zero in
	// a line written before it was shared (each node keeps its own).
	Pacing Pacing `json:"pacing,omitzero"`
}

// controlsOf returns the controls part of s.
func controlsOf(s *Settings) Controls {
	return Controls{Paused: s.Paused, Closed: s.Closed, Capacity: s.Capacity, Rate: s.Rate, Message: s.Message, ResumeAt: s.ResumeAt, Pacing: s.Pacing}
}

// AdmitParams are the room's settings an admission step needs.
type AdmitParams struct {
	OpensAt      time.Time // zero: open from the start
	ClosesAt     time.Time // zero: never closes by itself
	ClaimTimeout time.Duration
	// LotteryKey is recorded if this call freezes the pre-queue: the id of
	// the signing key every node derives the lottery from.
	LotteryKey string
	// Draw draws the pre-queue lottery of n places with the named signing
	// key (false if this node does not have it): a line finds the places
	// of uncertain pre-queue numbers with it (see Uncertain). Without it
	// those places are admitted like any other.
	Draw func(keyID string, n uint64) (*Lottery, bool)
	// Report is the calling node's word on its block of join numbers
	// (lease.go), taken by Tick and Lease; nil: none.
	Report *LeaseReport
	// LateUntil, for Claim: until when the place may be claimed late, its
	// session having ended uncollected (late.go); zero: it may not.
	LateUntil time.Time
}

// View is a room's line as of one atomic step.
type View struct {
	Epoch    string // the line's id (see Init)
	Frozen   bool
	N        uint64 // pre-queue size once frozen
	PreSeq   uint64 // pre-queue join numbers handed out
	PostSeq  uint64 // open-phase join numbers handed out
	ResvPre  uint64 // pre-queue numbers reserved (N once frozen)
	ResvPost uint64 // open-phase numbers reserved
	Serving  uint64 // places 1..Serving have been admitted
	Active   int    // sessions (admitted places not yet ended)
	Controls Controls
	// ControlsSet counts the changes of Controls (Init is the first), so
	// that a node can tell a newer setting from an older view's.
	ControlsSet uint64
	LotteryKey  string
	Joins       uint64
	Admissions  uint64 // sessions started
	Leaves      uint64
	Expired     uint64
	// Skipped counts the uncertain places admission passed over without a
	// session (see Uncertain); a holder who claims one later is admitted.
	Skipped uint64
	// Claimants counts the holders waiting, as claimants, for capacity and
	// the rate (passed-over places claimed, late claims): they are admitted
	// before anyone else, and their polls are spaced by how many they are
	// (claimantPoll).
	Claimants int
}

// SharedTimeout bounds each call a node makes to a Shared kept outside
// the process; a call that does not finish in time fails closed (the
// person is told to wait).
const SharedTimeout = 2 * time.Second
