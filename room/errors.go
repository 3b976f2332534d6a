package room

import "errors"

// The room package's errors, in one place for the HTTP layer to map to
// statuses and the gate to count.
var (
	// What a person is told when joining or asking for their status.
	ErrNotYetOpen = errors.New("the room has not started taking people yet")
	ErrRoomClosed = errors.New("the room is closed")
	ErrTurnOver   = errors.New("this ticket's turn has passed: its pass was returned or expired")
	ErrPersist    = errors.New("cannot record the queue state")

	// Verification of tickets and passes. They are distinct so that the
	// gate can count rejections by reason; callers must treat every one of
	// them as "no".
	ErrMalformed  = errors.New("malformed token")
	ErrUnknownKey = errors.New("token signed with an unknown key")
	ErrForged     = errors.New("token signature does not verify")
	ErrWrongKind  = errors.New("wrong kind of token")
	ErrWrongRoom  = errors.New("token belongs to another room")
	ErrExpired    = errors.New("token expired")
	// ErrRevoked: the pass is well formed and signed but its session has
	// ended (returned or expired).
	ErrRevoked = errors.New("pass no longer active")

	// Steps on a Shared line.
	// ErrNoSharedState: the room has no line (see Shared).
	ErrNoSharedState = errors.New("the room's shared queue state is missing (never created, or lost: was Redis restarted without persistence?); refusing to start the line again from zero, which would hand out places that tickets already hold")
	// ErrUnreserved: the phase's reserved join numbers are used up (see
	// Shared.Join); reserve more and join again.
	ErrUnreserved = errors.New("no reserved join number left")
	// ErrUnsaved: the step was made but not saved; the next Tick saves it.
	ErrUnsaved = errors.New("the room's state changed but could not be saved")
	// ErrLineReset: the room's line is not the one this node served: it
	// was lost and created again from nothing (see Shared.Restore).
	ErrLineReset = errors.New("the room's shared queue state was started again from nothing (its epoch changed) while this node served the old line; refusing to mix the two lines, which would give places twice and tell people their turn is over")
	// ErrLineBehind: the room's line is older than what this node saw of
	// it (restored from an older copy); the node adds what it knows
	// (Shared.Restore).
	ErrLineBehind = errors.New("the room's shared queue state went back in time (restored from an older copy?)")
	// ErrRestoring: the line is held after a restore (see Shared.Restore):
	// no joins for a moment.
	ErrRestoring = errors.New("the room's queue state is being restored; joins resume in a moment")
	// ErrClaimWait: the place was passed over as uncertain and its holder
	// has asked for it (see Shared.Claim); they are admitted first once
	// capacity and the rate allow.
	ErrClaimWait = errors.New("the place's holder is next: waiting for capacity")
)
