package booking

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// A person's journey passes through any node a load balancer chooses, so
// what a node must know about it is in the store or in the person's hands,
// never in one node's memory:
//
//   - an identity challenge, between the code being sent and typed, is a
//     sealed token the person holds as its id: what it says about them and
//     the identity provider's state, sealed by the service. The store keeps
//     its attempts and whether it has been used, so that it answers once
//     and to at most MaxCodeAttempts codes, whichever nodes are asked;
//   - a booking session, once verified, and a look-up the pages' change
//     and cancel steps act on, are records in the store.
//
// The store keys what it keeps by the SHA-256 of the token the person
// holds (StateID), never by the token, so that reading the database does
// not let anyone act as the person. What a record or a token says about
// the person (name, phone, birth date) is sealed by the service
// (internal/seal: AES-256-GCM, keys from SLUICE_SESSION_KEYS) and bound to
// its kind, id and person key: the store sees bytes. Everything expires,
// and PurgeExpired deletes it afterwards.
//
// Nothing here is tied to one campaign: a session is a verified identity,
// which any campaign of the deployment may serve.

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
	// ChallengeID (a StateID) is used up in the same transaction, unless
	// it was tried MaxAttempts times or used already; the store remembers
	// that until ChallengeExpires.
	ChallengeID      string
	ChallengeExpires time.Time
	MaxAttempts      int
	Session          SessionRecord
	Now              time.Time
}

// SessionStore keeps what journeys in progress need. Every Store is one;
// the contract suite (booking/storetest) checks it.
type SessionStore interface {
	// CountAttempt counts a wrong code tried against challenge id (which
	// expires then) and returns how many it has had: ErrChallengeExpired
	// if it was tried maxAttempts times already, or used.
	//
	// A right code is counted too, by OpenSession, which uses the
	// challenge up only if it was tried fewer than maxAttempts times:
	// however many guesses arrive at once, at most maxAttempts of them
	// count, and the right one among them only if it is one of those.
	CountAttempt(ctx context.Context, id string, expires time.Time, maxAttempts int) (int, error)
	// OpenSession uses the challenge up and opens the session, in one
	// transaction: ErrChallengeExpired if the challenge was used (by a
	// concurrent confirmation, say) or tried MaxAttempts times;
	// ErrSessionHeld if another session of the identity is locked at Now.
	// The identity's older session, if any, ends. On error nothing
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
	// PurgeExpired deletes what it keeps of challenges, sessions and
	// look-ups that expired before now, at most limit of each kind, and
	// returns how many it deleted.
	PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// StateID is the id under which the store keeps what it keeps of a token
// of the given kind ("challenge", "session", "lookup"): a hash, so that
// the store never holds a token that would let its reader act as the
// person.
func StateID(kind, token string) string {
	h := sha256.New()
	h.Write([]byte("sluice state id v1\x00"))
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
