package booking

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/ttl"
)

// VerificationStarted is the answer to StartVerification.
type VerificationStarted struct {
	ChallengeID string    `json:"challenge_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	// DemoCode is the code sent to the phone, only in demo mode.
	DemoCode string `json:"demo_code,omitempty"`
}

// Session is a verified person's booking session.
type Session struct {
	ID string `json:"id"`
	// PersonKey is the keyed hash of the RRN (never sent to clients).
	PersonKey string `json:"-"`
	Name      string `json:"name"`
	Phone     string `json:"phone"` // digits
	BirthDate Date   `json:"birth_date"`
	Sex       string `json:"sex"` // "M" or "F"
	Foreign   bool   `json:"foreign"`
	// CohortID is the person's cohort in the campaign, "" if none.
	CohortID  string    `json:"cohort_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// StartVerification checks name (ValidName), RRN (ParseRRN) and phone
// (ParsePhone), in that order, returning their precise *InputError, and
// starts an identity check with the provider. The RRN is used to compute the
// person key and passed to the provider; it is not kept.
func (s *Service) StartVerification(ctx context.Context, name, rrn, phone string) (VerificationStarted, error) {
	name, r, err := parseNameRRN(name, rrn)
	if err != nil {
		return VerificationStarted{}, err
	}
	phone, err = ParsePhone(phone)
	if err != nil {
		return VerificationStarted{}, err
	}
	now := s.clock.Now()
	p := pendingVerification{
		personKey: PersonKey(s.secret, r),
		name:      name,
		phone:     phone,
		birth:     r.BirthDate,
		sex:       r.Sex,
		foreign:   r.Foreign,
		expires:   now.Add(ChallengeTTL),
	}
	id, demoCode, err := s.identity.Start(ctx, VerifyStart{Name: name, Phone: phone, RRN: r})
	if err != nil {
		return VerificationStarted{}, err
	}
	if !s.pending.Put(id, p, p.expires, now) {
		return VerificationStarted{}, ErrOverloaded
	}
	out := VerificationStarted{ChallengeID: id, ExpiresAt: p.expires.In(Seoul)}
	if s.demo {
		out.DemoCode = demoCode
	}
	return out, nil
}

// CompleteVerification checks the code and, on success, opens a booking
// session. The identity is claimed in the store for the cohort's
// SessionLock (DefaultSessionLock for people in no cohort): another device
// verifying the same identity meanwhile gets ErrSessionHeld. A new session
// replaces any older session of the same identity on this node.
//
// Errors: ErrChallengeExpired, ErrWrongCode (a *WrongCodeError, which says
// how many tries are left: the challenge stays open), ErrTooManyAttempts,
// ErrSessionHeld, ErrOverloaded.
func (s *Service) CompleteVerification(ctx context.Context, challengeID, code string) (Session, error) {
	now := s.clock.Now()
	p, ok := s.pending.Get(challengeID, now)
	if !ok {
		return Session{}, ErrChallengeExpired
	}
	good, err := s.identity.Check(ctx, challengeID, strings.TrimSpace(code))
	if err != nil {
		if errors.Is(err, ErrChallengeExpired) || errors.Is(err, ErrTooManyAttempts) {
			s.pending.Delete(challengeID)
		}
		return Session{}, err
	}
	if !good {
		// Counted here to tell the person how many tries are left; the
		// provider enforces MaxCodeAttempts itself.
		left := 0
		s.pending.Update(challengeID, now, func(v pendingVerification, exp time.Time, ok bool) (pendingVerification, time.Time, bool) {
			v.wrongCodes++
			left = max(MaxCodeAttempts-v.wrongCodes, 0)
			return v, exp, ok
		})
		return Session{}, &WrongCodeError{TriesLeft: left}
	}
	s.pending.Delete(challengeID)

	lock := DefaultSessionLock
	sess := Session{
		ID:        randomID(32),
		PersonKey: p.personKey,
		Name:      p.name,
		Phone:     p.phone,
		BirthDate: p.birth,
		Sex:       p.sex,
		Foreign:   p.foreign,
		ExpiresAt: now.Add(s.sessionTTL).In(Seoul),
	}
	if co := s.campaign.CohortOf(p.birth); co != nil {
		sess.CohortID = co.ID
		if co.SessionLock > 0 {
			lock = co.SessionLock
		}
	}
	if err := s.store.ClaimSession(ctx, p.personKey, sess.ID, now, now.Add(lock)); err != nil {
		return Session{}, err
	}
	if !s.sessions.open(sess, now) {
		return Session{}, ErrOverloaded
	}
	return sess, nil
}

// Session returns an unexpired session by id.
func (s *Service) Session(id string) (Session, bool) {
	return s.sessions.byID.Get(id, s.clock.Now())
}

// EndSession forgets a session (log-out). The identity lock in the store
// runs out on its own.
func (s *Service) EndSession(id string) { s.sessions.end(id, s.clock.Now()) }

// sessionTable holds this node's booking sessions by id, and each
// identity's current session, so that verifying again on this node ends the
// identity's older session. A session and its identity's entry expire
// together; each map is bounded (ServiceConfig.MaxSessions).
type sessionTable struct {
	mu      sync.Mutex // keeps byID and current consistent
	byID    *ttl.Map[string, Session]
	current *ttl.Map[string, string] // person key -> session id
}

func newSessionTable(max int) sessionTable {
	return sessionTable{byID: ttl.New[string, Session](max), current: ttl.New[string, string](max)}
}

// open stores sess as its identity's current session, ending the
// identity's previous one; false (nothing changed) when the table is full.
func (t *sessionTable) open(sess Session, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.byID.Put(sess.ID, sess, sess.ExpiresAt, now) {
		return false
	}
	old, hadOld := t.current.Get(sess.PersonKey, now)
	if !t.current.Put(sess.PersonKey, sess.ID, sess.ExpiresAt, now) {
		t.byID.Delete(sess.ID)
		return false
	}
	if hadOld && old != sess.ID {
		t.byID.Delete(old)
	}
	return true
}

// end forgets session id, and its identity's entry if it is the current.
func (t *sessionTable) end(id string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sess, ok := t.byID.Get(id, now)
	if !ok {
		return
	}
	if cur, ok := t.current.Get(sess.PersonKey, now); ok && cur == id {
		t.current.Delete(sess.PersonKey)
	}
	t.byID.Delete(id)
}

// pendingVerification is what the service remembers between
// StartVerification and CompleteVerification (in Service.pending, until
// expires): never the RRN.
type pendingVerification struct {
	personKey string
	name      string
	phone     string
	birth     Date
	sex       string
	foreign   bool
	expires   time.Time
	// wrongCodes counts the wrong codes tried (for WrongCodeError).
	wrongCodes int
}
