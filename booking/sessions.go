package booking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/every"
	"github.com/sluicehq/sluice/internal/outage"
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
	// CampaignID and CohortID are the person's campaign and cohort (the
	// first campaign of the programme with a cohort holding their birth
	// date), "" if none.
	CampaignID string    `json:"campaign_id"`
	CohortID   string    `json:"cohort_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// person is what a challenge and a session say about the person, sealed.
type person struct {
	Name    string `json:"n"`
	Phone   string `json:"p"`
	Birth   Date   `json:"b"`
	Sex     string `json:"s"`
	Foreign bool   `json:"f,omitempty"`
}

// challengeData is what a challenge's token holds, sealed.
type challengeData struct {
	PersonKey string    `json:"k"`
	Person    person    `json:"w"`
	Provider  string    `json:"i"`            // the provider's id (Challenge.ID)
	State     []byte    `json:"st,omitempty"` // the provider's (Challenge.State)
	Expires   time.Time `json:"e"`
}

// StartVerification checks name (ValidName), RRN (ParseRRN) and phone
// (ParsePhone), in that order, returning their precise *InputError, and
// starts an identity check with the provider. The RRN is used to compute the
// person key and passed to the provider; it is not kept.
//
// The challenge id is a token that holds the challenge, sealed: what the
// person typed and the provider's state. The code may be typed on any
// node, which opens it; nothing is written until then (see
// CompleteVerification).
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
	ch, err := s.identity.Start(ctx, VerifyStart{Name: name, Phone: phone, RRN: r})
	if err != nil {
		return VerificationStarted{}, err
	}
	expires := now.Add(ChallengeTTL)
	sealed, err := s.sealJSON("challenge", "", "", challengeData{
		PersonKey: PersonKey(s.secret, r),
		Person:    person{Name: name, Phone: phone, Birth: r.BirthDate, Sex: r.Sex, Foreign: r.Foreign},
		Provider:  ch.ID,
		State:     ch.State,
		Expires:   expires,
	})
	if err != nil {
		return VerificationStarted{}, err
	}
	out := VerificationStarted{ChallengeID: base64.RawURLEncoding.EncodeToString(sealed), ExpiresAt: expires.In(Seoul)}
	if s.demo {
		out.DemoCode = ch.DemoCode
	}
	return out, nil
}

// MaxChallengeIDLen bounds a challenge id as sent back (a sealed token, a
// few hundred characters).
const MaxChallengeIDLen = 2048

// CompleteVerification checks the code and, on success, opens a booking
// session, on any node. The store counts the codes tried against the
// challenge and uses it up with the session (SessionStore.CountAttempt,
// OpenSession). The identity is locked for the cohort's SessionLock
// (DefaultSessionLock for people in no cohort): another device verifying
// the same identity meanwhile gets ErrSessionHeld. A new session replaces
// the identity's older session, whose lock has run out.
//
// Errors: ErrChallengeExpired, ErrWrongCode (a *WrongCodeError, which says
// how many tries are left: the challenge stays open), ErrTooManyAttempts,
// ErrSessionHeld (a *SessionHeldError, which says how long the lock lasts).
func (s *Service) CompleteVerification(ctx context.Context, challengeID, code string) (_ Session, err error) {
	defer s.noteStore(&err)
	now := s.clock.Now()
	var c challengeData
	if len(challengeID) > MaxChallengeIDLen {
		return Session{}, ErrChallengeExpired
	}
	sealed, err := base64.RawURLEncoding.DecodeString(challengeID)
	if err != nil {
		return Session{}, ErrChallengeExpired
	}
	if err := s.openJSON("challenge", "", "", sealed, &c); err != nil {
		return Session{}, err
	}
	if !now.Before(c.Expires) {
		return Session{}, ErrChallengeExpired
	}
	id := StateID("challenge", challengeID)
	good, err := s.identity.Check(ctx, Challenge{ID: c.Provider, State: c.State, Token: challengeID}, strings.TrimSpace(code))
	if err != nil {
		return Session{}, err
	}
	if !good {
		// Counted before the answer goes out, so that guesses sent at once
		// do not all get theirs (SessionStore.CountAttempt).
		n, err := s.store.CountAttempt(ctx, id, c.Expires, MaxCodeAttempts)
		switch {
		case err != nil:
			return Session{}, err
		case n >= MaxCodeAttempts:
			return Session{}, ErrTooManyAttempts
		}
		return Session{}, &WrongCodeError{TriesLeft: MaxCodeAttempts - n}
	}

	lock := DefaultSessionLock
	if _, co := s.programme.CohortOf(c.Person.Birth); co != nil && co.SessionLock > 0 {
		lock = co.SessionLock
	}
	sessionID := s.sessionIDFor(challengeID)
	srec := SessionRecord{
		ID:          StateID("session", sessionID),
		PersonKey:   c.PersonKey,
		LockedUntil: now.Add(lock),
		Expires:     now.Add(s.sessionTTL),
	}
	if srec.Sealed, err = s.sealJSON("session", srec.ID, srec.PersonKey, c.Person); err != nil {
		return Session{}, err
	}
	err = s.store.OpenSession(ctx, OpenSessionRequest{ChallengeID: id, ChallengeExpires: c.Expires,
		MaxAttempts: MaxCodeAttempts, Session: srec, Now: now})
	if errors.Is(err, ErrChallengeExpired) {
		// The challenge was used: perhaps by this very confirmation, whose
		// answer was lost (the node was killed, the connection dropped)
		// and which the person sends again. Its session, still open, is
		// theirs: the right code for the same challenge opens the same
		// session, on any node, instead of locking them out with
		// ErrSessionHeld or ErrChallengeExpired.
		if rec, serr := s.store.Session(ctx, srec.ID, now); serr == nil && rec.PersonKey == srec.PersonKey {
			return s.session(sessionID, rec.PersonKey, c.Person, rec.Expires), nil
		}
	}
	if errors.Is(err, ErrSessionHeld) {
		return Session{}, &SessionHeldError{Lock: lock}
	}
	if err != nil {
		return Session{}, err
	}
	return s.session(sessionID, srec.PersonKey, c.Person, srec.Expires), nil
}

// sessionIDFor is the id of the session a challenge opens: derived from
// the challenge token with the server's secret, so that a confirmation
// sent again (its answer lost) finds the session the first one opened,
// on any node, and nobody without the secret can compute it.
func (s *Service) sessionIDFor(challengeID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("sluice session of challenge v1\x00"))
	m.Write([]byte(challengeID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Session returns an unexpired session by id (ErrSessionExpired if there
// is none), from the store: a session opened on one node is found on any.
func (s *Service) Session(ctx context.Context, id string) (_ Session, err error) {
	defer s.noteStore(&err)
	if id == "" || len(id) > maxTokenLen {
		return Session{}, ErrSessionExpired
	}
	rec, err := s.store.Session(ctx, StateID("session", id), s.clock.Now())
	if err != nil {
		return Session{}, err
	}
	var p person
	if err := s.openJSON("session", rec.ID, rec.PersonKey, rec.Sealed, &p); err != nil {
		return Session{}, ErrSessionExpired
	}
	return s.session(id, rec.PersonKey, p, rec.Expires), nil
}

func (s *Service) session(id, personKey string, p person, expires time.Time) Session {
	sess := Session{ID: id, PersonKey: personKey, Name: p.Name, Phone: p.Phone, BirthDate: p.Birth,
		Sex: p.Sex, Foreign: p.Foreign, ExpiresAt: expires.In(Seoul)}
	if c, co := s.programme.CohortOf(p.Birth); co != nil {
		sess.CampaignID, sess.CohortID = c.ID, co.ID
	}
	return sess
}

// EndSession ends a session when the person is done (log-out, finish):
// the session no longer opens anything, and the identity may verify again
// at once, on any device.
func (s *Service) EndSession(ctx context.Context, id string) (err error) {
	defer s.noteStore(&err)
	if id == "" || len(id) > maxTokenLen {
		return nil
	}
	return s.store.EndSession(ctx, StateID("session", id))
}

// maxTokenLen bounds a session id or a look-up grant as sent (challenge ids,
// longer, have MaxChallengeIDLen): longer ones are nobody's and are not hashed.
const maxTokenLen = 200

// sealJSON seals v as JSON for a record of kind with the given id, bound
// to its person key if it has one.
func (s *Service) sealJSON(kind, id, personKey string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", kind, err)
	}
	return s.sealer.Seal(nil, b, sealContext(kind, id, personKey)), nil
}

// openJSON opens what sealJSON sealed into v. A record that does not open
// (sealed with a key no longer configured, or damaged) is treated as gone,
// and logged.
func (s *Service) openJSON(kind, id, personKey string, sealed []byte, v any) error {
	b, err := s.sealer.Open(nil, sealed, sealContext(kind, id, personKey))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		s.sealFailures.Failed(fmt.Errorf("%s record: %w", kind, err))
		switch kind {
		case "challenge":
			return ErrChallengeExpired
		case "lookup":
			return ErrLookupExpired
		}
		return ErrSessionExpired
	}
	return nil
}

func sealContext(kind, id, personKey string) []byte {
	return []byte(kind + "\x00" + id + "\x00" + personKey)
}

// PurgeBatch is the most records of each kind one PurgeExpired call of a
// store deletes, so that a purge never holds the writer long.
const PurgeBatch = 5000

// PurgeExpired deletes the challenges, sessions and look-ups that have
// expired, in batches, and returns how many. Nothing bounds how many
// journeys a night holds: what ends is deleted afterwards.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.store.PurgeExpired(ctx, s.clock.Now(), PurgeBatch)
		total += n
		if err != nil || n < PurgeBatch {
			return total, err
		}
	}
}

// RunPurge calls PurgeExpired every interval until ctx ends. Each node
// sharing a store may run it: deleting what another node deleted is
// nothing.
func (s *Service) RunPurge(ctx context.Context, interval time.Duration) {
	failing := &outage.Log{Logger: s.log, What: "deleting expired sessions", Now: s.clock.Now}
	every.Interval(ctx, interval, func() {
		if _, err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			failing.Failed(err)
		} else {
			failing.Succeeded()
		}
	})
}
