package booking

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// A person's journey passes through any node a load balancer chooses, so
// what a node must know about it lives in the store, not in a node's
// memory: the identity challenge between the code being sent and typed,
// the booking session once verified, and a look-up the pages' change and
// cancel steps act on. The store keeps each as a record:
//
//   - its id is the SHA-256 of the token the person holds (StateID), never
//     the token, so that reading the database does not let anyone act as
//     the person;
//   - what it says about the person (name, phone, birth date, the identity
//     provider's state) is sealed by the service (internal/seal:
//     AES-256-GCM, key from SLUICE_SESSION_KEYS) and bound to the record's
//     kind, id and person key: the store sees bytes;
//   - it expires, and PurgeExpired deletes it afterwards.
//
// Nothing in a record is tied to one campaign: a session is a verified
// identity, which any campaign of the deployment may serve.

// ChallengeRecord is a pending identity verification.
type ChallengeRecord struct {
	ID       string // StateID of the challenge id
	Sealed   []byte
	Attempts int // codes tried so far
	Expires  time.Time
}

// SessionRecord is a booking session. A store holds at most one per
// identity (PersonKey).
type SessionRecord struct {
	ID        string // StateID of the session id
	PersonKey string
	Sealed    []byte
	// LockedUntil: until then no other session of the identity may open
	// (one identity, one session: Cohort.SessionLock).
	LockedUntil time.Time
	Expires     time.Time
}

// OpenSessionRequest opens a session with the challenge that verified it.
type OpenSessionRequest struct {
	// ChallengeID (a StateID) is consumed in the same transaction, if it
	// has been tried fewer than MaxAttempts times.
	ChallengeID string
	MaxAttempts int
	Session     SessionRecord
	Now         time.Time
}

// SessionStore keeps the records of journeys in progress. Every Store is
// one; the contract suite (booking/storetest) checks it.
type SessionStore interface {
	// PutChallenge records a pending verification (its Attempts are 0).
	PutChallenge(ctx context.Context, c ChallengeRecord) error
	// Challenge returns a challenge: ErrChallengeExpired if it is unknown
	// or expired at now.
	Challenge(ctx context.Context, id string, now time.Time) (ChallengeRecord, error)
	// CountAttempt counts a wrong code tried against the challenge and
	// returns how many it has had: ErrChallengeExpired if it is unknown,
	// expired at now, or was tried maxAttempts times already.
	//
	// A right code is counted too, by OpenSession, which opens a session
	// only for a challenge tried fewer than maxAttempts times: however
	// many guesses arrive at once, at most maxAttempts of them count, and
	// the right one among them only if it is one of those.
	CountAttempt(ctx context.Context, id string, now time.Time, maxAttempts int) (int, error)
	// DeleteChallenge forgets a challenge (nothing if it is unknown).
	DeleteChallenge(ctx context.Context, id string) error
	// OpenSession consumes the challenge and opens the session, in one
	// transaction: ErrChallengeExpired if the challenge is gone (a
	// concurrent confirmation used it), expired, or tried MaxAttempts
	// times; ErrSessionHeld if another session of the identity is locked
	// at Now. The identity's older session, if any, ends. On error nothing
	// changes.
	OpenSession(ctx context.Context, req OpenSessionRequest) error
	// Session returns a session: ErrSessionExpired if it is unknown or
	// expired at now.
	Session(ctx context.Context, id string, now time.Time) (SessionRecord, error)
	// EndSession ends a session and with it its identity's lock (nothing if
	// it is unknown).
	EndSession(ctx context.Context, id string) error
	// PutLookupGrant records a look-up (Service.GrantLookup).
	PutLookupGrant(ctx context.Context, id string, sealed []byte, expires time.Time) error
	// LookupGrant returns a look-up's record: ErrLookupExpired if it is
	// unknown or expired at now.
	LookupGrant(ctx context.Context, id string, now time.Time) ([]byte, error)
	// PurgeExpired deletes challenges, sessions and look-ups that expired
	// before now, at most limit of each kind, and returns how many it
	// deleted.
	PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// StateID is the id under which the store keeps the record of a token of
// the given kind ("challenge", "session", "lookup"): a hash, so that the
// store never holds a token that would let its reader act as the person.
func StateID(kind, token string) string {
	h := sha256.New()
	h.Write([]byte("sluice state id v1\x00"))
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
