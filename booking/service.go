package booking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// Errors of the booking service, in addition to the store's (ErrSlotFull,
// ErrNoSecondDose, ErrAlreadyBooked, ErrSupplyExhausted, ErrSessionHeld,
// ErrCancelled, ErrIdempotencyReuse, ErrNotFound), which the service
// returns unchanged, the identity errors (ErrChallengeExpired, ErrWrongCode,
// ErrTooManyAttempts) and the input errors (*InputError wrapping ErrName,
// ErrPhone, ErrRRN*). Test them with errors.Is; ErrorMessage gives the
// sentence to show a person.
var (
	// ErrSessionExpired: the booking session is unknown or has expired;
	// verify again.
	ErrSessionExpired = errors.New("booking session expired or unknown; verify your identity again")
	// ErrNotEligible: the person may not book now. The error is a
	// *NotEligibleError carrying the Eligibility (when to come back).
	ErrNotEligible = errors.New("not eligible to book now")
	// ErrProxyNotAllowed: the other person's cohort does not allow booking
	// on someone else's behalf (18-49 in 2021).
	ErrProxyNotAllowed = errors.New("booking for another person is not allowed for this age group")
	// ErrClinicNotFound: no clinic with this id.
	ErrClinicNotFound = errors.New("clinic not found")
	// ErrInvalidSlot: the date does not exist or the time block is outside
	// the clinic day (0..BlocksPerDay-1).
	ErrInvalidSlot = errors.New("invalid appointment date or time block")
	// ErrPastDate: the appointment date is before today, or today and the
	// block has already started.
	ErrPastDate = errors.New("appointment time is in the past")
	// ErrBeyondHorizon: the appointment date is more than the booking
	// horizon (ServiceConfig.BookingHorizonDays) after today.
	ErrBeyondHorizon = errors.New("appointment date is too far ahead")
	// ErrClinicClosed: the clinic does not vaccinate on that date.
	ErrClinicClosed = errors.New("clinic is closed on that date")
	// ErrVaccineNotOffered: the vaccine is not offered by the campaign, the
	// person's cohort or the clinic (or, with no vaccine asked for, the
	// clinic offers none of the cohort's vaccines).
	ErrVaccineNotOffered = errors.New("vaccine not offered")
	// ErrTooLate: online cancellation/change closes at 00:00 (Seoul) of the
	// day before the appointment (see ChangeDeadline).
	ErrTooLate = errors.New("too late to cancel or change online")
	// ErrInvalidRequest: a malformed request (e.g. an over-long
	// idempotency key).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrOverloaded: too many sessions or verifications in progress on this
	// node; try again shortly.
	ErrOverloaded = errors.New("too many sessions in progress; try again shortly")
)

// NotEligibleError is returned (as an error matching ErrNotEligible) when a
// person may not book at the server's current time. Eligibility says why and
// when their window opens (NextWindowOpensAt, WindowOpensAt).
type NotEligibleError struct {
	Eligibility Eligibility
}

func (e *NotEligibleError) Error() string {
	return "not eligible to book now (" + e.Eligibility.Reason + "): " + e.Eligibility.MessageEN
}

// Unwrap returns ErrNotEligible.
func (e *NotEligibleError) Unwrap() error { return ErrNotEligible }

// Defaults of ServiceConfig.
const (
	DefaultSessionTTL         = 30 * time.Minute
	DefaultBookingHorizonDays = 42
	DefaultMaxSessions        = 200_000
	maxIdempotencyKeyLen      = 256
	maxBookingNumberLen       = 32
)

// ServiceConfig configures a Service. Campaign, Store, Availability and
// PersonKeySecret are required.
type ServiceConfig struct {
	Campaign     *Campaign
	Store        Store
	Availability *Availability
	// Clock is the server clock every rule reads (default clock.System).
	Clock clock.Clock
	// PersonKeySecret is the HMAC key of PersonKey: random, at least 32
	// bytes, kept out of the database. Changing it orphans every booking
	// (look-ups would no longer match).
	PersonKeySecret []byte
	// Identity verifies people. If nil: in DemoMode a DemoIdentity sending
	// its codes through Sender; otherwise NewService fails.
	Identity IdentityProvider
	// Sender delivers outbox messages (default: a ConsoleSender on Log).
	Sender Sender
	// Log receives operational logs (default slog.Default()). The service
	// never logs an RRN, a name or a phone number.
	Log *slog.Logger
	// DemoMode passes the demo provider's code back to the person
	// (VerificationStarted.DemoCode).
	DemoMode bool

	// SessionTTL is the life of a booking session (default 30 minutes).
	SessionTTL time.Duration
	// BookingHorizonDays: a first dose may be booked at most this many days
	// after today, Seoul (default 42, six weeks).
	BookingHorizonDays int
	// MaxSessions bounds the sessions and the pending verifications kept in
	// memory, each (default 200,000).
	MaxSessions int
}

// Service is the booking service: it ties the campaign rules, identity
// verification, the in-memory availability index and the Store together.
// One Service serves one campaign. It is safe for concurrent use.
//
// Sessions and pending verifications are kept in the memory of this node;
// the identity lock (one session per identity, Cohort.SessionLock) is held
// in the Store, so it holds across nodes.
type Service struct {
	campaign *Campaign
	store    Store
	avail    *Availability
	clock    clock.Clock
	secret   []byte
	identity IdentityProvider
	sender   Sender
	log      *slog.Logger
	demo     bool

	sessionTTL  time.Duration
	horizonDays int

	mu sync.Mutex
	// sessions holds each session twice, under "s:"+id and under
	// "p:"+person key (the identity's current session), so both expire
	// together and the map stays bounded.
	sessions expiring[Session]
	pending  expiring[pendingVerification]

	numLocks [64]sync.Mutex // serialises Change/Cancel per booking number

	gen   atomic.Uint64 // bumped on every committed change (stats cache)
	stats statsCache

	outbox outboxState
}

// pendingVerification is what the service remembers between
// StartVerification and CompleteVerification: never the RRN.
type pendingVerification struct {
	personKey string
	name      string
	phone     string
	birth     Date
	sex       string
	foreign   bool
	expires   time.Time
}

// NewService checks the configuration, warms the availability index from
// Store.SlotCounts and gives each campaign vaccine with a Supply its
// allocation in the store, unless the store already has one (an operator's
// later change wins over the campaign file).
func NewService(cfg ServiceConfig) (*Service, error) {
	var problems []string
	if cfg.Campaign == nil {
		problems = append(problems, "Campaign is required")
	} else if err := cfg.Campaign.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if cfg.Availability == nil {
		problems = append(problems, "Availability is required")
	}
	if len(cfg.PersonKeySecret) < 32 {
		problems = append(problems, fmt.Sprintf("PersonKeySecret must be at least 32 bytes (have %d)", len(cfg.PersonKeySecret)))
	}
	if cfg.Identity == nil && !cfg.DemoMode {
		problems = append(problems, "Identity is required outside demo mode (use NewDemoIdentity for development)")
	}
	if cfg.SessionTTL < 0 || cfg.BookingHorizonDays < 0 || cfg.MaxSessions < 0 {
		problems = append(problems, "SessionTTL, BookingHorizonDays and MaxSessions must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("booking service: %s", strings.Join(problems, "; "))
	}
	s := &Service{
		campaign:    cfg.Campaign,
		store:       cfg.Store,
		avail:       cfg.Availability,
		clock:       cfg.Clock,
		secret:      append([]byte(nil), cfg.PersonKeySecret...),
		identity:    cfg.Identity,
		sender:      cfg.Sender,
		log:         cfg.Log,
		demo:        cfg.DemoMode,
		sessionTTL:  cfg.SessionTTL,
		horizonDays: cfg.BookingHorizonDays,
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.sender == nil {
		s.sender = NewConsoleSender(s.log)
	}
	if s.sessionTTL == 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.horizonDays == 0 {
		s.horizonDays = DefaultBookingHorizonDays
	}
	maxSessions := cfg.MaxSessions
	if maxSessions == 0 {
		maxSessions = DefaultMaxSessions
	}
	s.sessions = newExpiring[Session](2*maxSessions, func(v Session) time.Time { return v.ExpiresAt })
	s.pending = newExpiring[pendingVerification](maxSessions, func(v pendingVerification) time.Time { return v.expires })
	s.outbox.init()
	if s.identity == nil {
		sender := s.sender
		s.identity = NewDemoIdentity(s.clock, func(m Message) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return sender.Send(ctx, m)
		})
	}

	ctx := context.Background()
	warmed, err := s.loadAvailability(ctx)
	if err != nil {
		return nil, fmt.Errorf("booking service: warm availability: %w", err)
	}
	for _, v := range s.campaign.Vaccines {
		if v.Supply <= 0 {
			continue
		}
		allocated, _, err := s.store.Supply(ctx, v.ID)
		if err != nil {
			return nil, fmt.Errorf("booking service: supply of %s: %w", v.ID, err)
		}
		if allocated == 0 {
			if err := s.store.SetSupply(ctx, v.ID, v.Supply); err != nil {
				return nil, fmt.Errorf("booking service: set supply of %s: %w", v.ID, err)
			}
		}
	}
	s.log.Info("booking service ready", "campaign", s.campaign.ID,
		"slots_warmed", warmed, "demo", s.demo)
	return s, nil
}

// Campaign returns the campaign the service serves (read-only).
func (s *Service) Campaign() *Campaign { return s.campaign }

// Availability returns the availability index the service keeps up to date.
func (s *Service) Availability() *Availability { return s.avail }

// Sender returns the sender used by the outbox worker (for the operator
// dashboard: a *ConsoleSender has Recent).
func (s *Service) Sender() Sender { return s.sender }

// --- identity and sessions ---------------------------------------------------

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
	name, err := ValidName(name)
	if err != nil {
		return VerificationStarted{}, err
	}
	r, err := ParseRRN(rrn)
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
	s.mu.Lock()
	ok := s.pending.put(id, p, now)
	s.mu.Unlock()
	if !ok {
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
// Errors: ErrChallengeExpired, ErrWrongCode (the challenge stays open),
// ErrTooManyAttempts, ErrSessionHeld, ErrOverloaded.
func (s *Service) CompleteVerification(ctx context.Context, challengeID, code string) (Session, error) {
	now := s.clock.Now()
	s.mu.Lock()
	p, ok := s.pending.get(challengeID, now)
	s.mu.Unlock()
	if !ok {
		return Session{}, ErrChallengeExpired
	}
	good, err := s.identity.Check(ctx, challengeID, strings.TrimSpace(code))
	if err != nil {
		if errors.Is(err, ErrChallengeExpired) || errors.Is(err, ErrTooManyAttempts) {
			s.mu.Lock()
			s.pending.del(challengeID)
			s.mu.Unlock()
		}
		return Session{}, err
	}
	if !good {
		return Session{}, ErrWrongCode
	}
	s.mu.Lock()
	s.pending.del(challengeID)
	s.mu.Unlock()

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
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.sessions.m["p:"+p.personKey]; ok {
		s.sessions.del("s:" + old.ID)
	}
	if !s.sessions.put("s:"+sess.ID, sess, now) {
		return Session{}, ErrOverloaded
	}
	s.sessions.m["p:"+p.personKey] = sess
	return sess, nil
}

// Session returns an unexpired session by id.
func (s *Service) Session(id string) (Session, bool) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions.get("s:"+id, now)
}

// EndSession forgets a session (log-out). The identity lock in the store
// runs out on its own.
func (s *Service) EndSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions.m["s:"+id]; ok {
		if cur, ok := s.sessions.m["p:"+sess.PersonKey]; ok && cur.ID == id {
			s.sessions.del("p:" + sess.PersonKey)
		}
		s.sessions.del("s:" + id)
	}
}

// --- booking -----------------------------------------------------------------

// PersonInput identifies the person a proxy booking is for.
type PersonInput struct {
	Name string `json:"name"`
	RRN  string `json:"rrn"`
	// Phone receives the messages; empty means the booker's phone.
	Phone string `json:"phone,omitempty"`
}

// BookInput is a booking request from a verified session.
type BookInput struct {
	SessionID string    `json:"session_id"`
	ClinicID  int64     `json:"clinic_id"`
	Date      Date      `json:"date"`
	Block     TimeBlock `json:"block"`
	// VaccineID is optional: empty means the first vaccine of the cohort's
	// preference order that the clinic offers.
	VaccineID string `json:"vaccine_id,omitempty"`
	// IdempotencyKey is optional: a retry with the same key from the same
	// person returns the first booking (one booking, one message).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// ForPerson books for someone else (only for cohorts with
	// ProxyBooking). Nil books for the session's own person.
	ForPerson *PersonInput `json:"for_person,omitempty"`
}

// bookee is the person a booking is for.
type bookee struct {
	personKey, name, phone string
	birth                  Date
}

// Book books a first dose at the requested slot and, in the same store
// transaction, the second dose at the same clinic.
//
// Checks, in order: the session (ErrSessionExpired); for a proxy booking
// the other person's input (*InputError) and their cohort's policy
// (ErrProxyNotAllowed); eligibility now, by the server clock
// (*NotEligibleError); the clinic (ErrClinicNotFound); the slot
// (ErrInvalidSlot, ErrPastDate — today is allowed for blocks that start
// later than now —, ErrBeyondHorizon, ErrClinicClosed); the vaccine
// (ErrVaccineNotOffered); then a pre-check on the availability index that
// fails without touching the database (ErrSlotFull for the first dose,
// ErrNoSecondDose when no second-dose slot is free). Finally the store
// decides: its errors (ErrSlotFull, ErrNoSecondDose, ErrAlreadyBooked,
// ErrSupplyExhausted, ErrIdempotencyReuse, ...) are returned unchanged.
//
// Second-dose candidates are Vaccine.SecondDoseDates of the first-dose date
// at the same clinic, on days it is open, each date with the same block
// first, then the other blocks nearest first. The list does not depend on
// live counts, so an idempotent retry sends the same request.
func (s *Service) Book(ctx context.Context, in BookInput) (Booking, error) {
	now := s.clock.Now()
	sess, ok := s.Session(in.SessionID)
	if !ok {
		return Booking{}, ErrSessionExpired
	}
	p := bookee{personKey: sess.PersonKey, name: sess.Name, phone: sess.Phone, birth: sess.BirthDate}
	if in.ForPerson != nil {
		var err error
		if p, err = s.proxyBookee(sess, in.ForPerson); err != nil {
			return Booking{}, err
		}
	}
	el := s.campaign.Eligibility(p.birth, now)
	if !el.Eligible {
		return Booking{}, &NotEligibleError{Eligibility: el}
	}
	clinic, err := s.checkSlot(in.ClinicID, in.Date, in.Block, now)
	if err != nil {
		return Booking{}, err
	}
	v, err := s.chooseVaccine(el.Cohort, clinic, in.VaccineID)
	if err != nil {
		return Booking{}, err
	}
	if len(in.IdempotencyKey) > maxIdempotencyKeyLen {
		return Booking{}, fmt.Errorf("%w: idempotency key longer than %d bytes", ErrInvalidRequest, maxIdempotencyKeyLen)
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: in.Date, Block: in.Block}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	// Fail fast on the index. A request with an idempotency key goes to
	// the store anyway: it may be the retry of a booking that took the
	// last place.
	if in.IdempotencyKey == "" {
		if s.avail.Free(dose1) <= 0 {
			return Booking{}, fmt.Errorf("%s: %w", slotText(dose1), ErrSlotFull)
		}
		if !s.anyFree(cands, Slot{}) {
			return Booking{}, ErrNoSecondDose
		}
	}

	number := NewBookingNumber()
	b := Booking{
		Number:     number,
		CampaignID: s.campaign.ID,
		CohortID:   el.Cohort.ID,
		VaccineID:  v.ID,
		PersonKey:  p.personKey,
		Name:       p.name,
		Phone:      p.phone,
		BirthDate:  p.birth,
		BookedBy:   sess.PersonKey,
		Dose1:      Appointment{Slot: dose1, Dose: 1},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	req := BookRequest{
		Booking:         b,
		Dose2Candidates: cands,
		SlotCapacity:    s.avail.Capacity,
		Confirmation: Message{
			BookingNumber: number,
			Kind:          "confirmation",
			To:            p.phone,
			Body:          s.confirmationText(number, clinic, v, dose1),
			CreatedAt:     now,
		},
	}
	if in.IdempotencyKey != "" {
		req.IdempotencyKey = scopedKey(sess.PersonKey, in.IdempotencyKey)
	}
	got, err := s.store.Book(ctx, req)
	if err != nil {
		s.log.Debug("booking refused", "campaign", s.campaign.ID, "clinic", clinic.ID,
			"date", in.Date.String(), "block", int(in.Block), "err", err)
		return Booking{}, err
	}
	if got.Number == number { // not the replay of an earlier request
		s.avail.Add(got.Dose1.Slot, 1)
		s.avail.Add(got.Dose2.Slot, 1)
		s.gen.Add(1)
		s.log.Info("booked", "number", got.Number, "cohort", got.CohortID, "vaccine", got.VaccineID,
			"clinic", got.Dose1.ClinicID, "dose1", got.Dose1.Date.String(), "dose2", got.Dose2.Date.String(),
			"proxy", got.BookedBy != got.PersonKey)
	}
	return got, nil
}

// proxyBookee validates the other person of a proxy booking.
func (s *Service) proxyBookee(sess Session, in *PersonInput) (bookee, error) {
	name, err := ValidName(in.Name)
	if err != nil {
		return bookee{}, err
	}
	r, err := ParseRRN(in.RRN)
	if err != nil {
		return bookee{}, err
	}
	phone := sess.Phone
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = ParsePhone(in.Phone); err != nil {
			return bookee{}, err
		}
	}
	p := bookee{personKey: PersonKey(s.secret, r), name: name, phone: phone, birth: r.BirthDate}
	if p.personKey == sess.PersonKey { // "for" oneself: an ordinary booking
		return bookee{personKey: sess.PersonKey, name: sess.Name, phone: phone, birth: sess.BirthDate}, nil
	}
	if co := s.campaign.CohortOf(p.birth); co != nil && !co.ProxyBooking {
		return bookee{}, ErrProxyNotAllowed
	}
	return p, nil
}

// checkSlot validates a first-dose slot against the clinic data and the
// clock.
func (s *Service) checkSlot(clinicID int64, d Date, b TimeBlock, now time.Time) (*Clinic, error) {
	clinic, ok := s.avail.Clinic(clinicID)
	if !ok {
		return nil, ErrClinicNotFound
	}
	if _, ok := NewDate(d.Year, d.Month, d.Day); !ok || d.Year < 1 || b < 0 || b >= BlocksPerDay {
		return nil, ErrInvalidSlot
	}
	today := DateOf(now)
	if d.Before(today) || d == today && !BlockStart(d, b).After(now) {
		return nil, ErrPastDate
	}
	if d.After(today.AddDays(s.horizonDays)) {
		return nil, fmt.Errorf("%w: book at most %d days ahead (until %s)", ErrBeyondHorizon, s.horizonDays, today.AddDays(s.horizonDays))
	}
	if clinic.Capacity(b, d) <= 0 {
		return nil, ErrClinicClosed
	}
	return clinic, nil
}

// chooseVaccine returns the vaccine asked for, or the first of the cohort's
// preference order that the clinic offers.
func (s *Service) chooseVaccine(co *Cohort, clinic *Clinic, id string) (*Vaccine, error) {
	if id != "" {
		v := s.campaign.Vaccine(id)
		switch {
		case v == nil:
			return nil, fmt.Errorf("%w: %q is not a vaccine of this campaign", ErrVaccineNotOffered, id)
		case !co.Offers(id):
			return nil, fmt.Errorf("%w: %s is not offered to %s", ErrVaccineNotOffered, v.NameEN, co.NameEN)
		case !clinic.Offers(id):
			return nil, fmt.Errorf("%w: %s is not given at this clinic", ErrVaccineNotOffered, v.NameEN)
		}
		return v, nil
	}
	for _, v := range s.campaign.VaccinesFor(co) {
		if clinic.Offers(v.ID) {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w: this clinic gives none of the vaccines offered to %s", ErrVaccineNotOffered, co.NameEN)
}

// dose2Candidates lists the second-dose slots for a first dose, in order of
// preference, from static data only (dates, opening days, capacity).
func (s *Service) dose2Candidates(clinic *Clinic, v *Vaccine, dose1 Slot) []Slot {
	dates := v.SecondDoseDates(dose1.Date)
	out := make([]Slot, 0, len(dates)*BlocksPerDay)
	for _, d := range dates {
		if clinic.DayCapacity(d) <= 0 {
			continue
		}
		out = append(out, Slot{ClinicID: clinic.ID, Date: d, Block: dose1.Block})
		for k := 1; k < BlocksPerDay; k++ {
			for _, b := range [2]TimeBlock{dose1.Block + TimeBlock(k), dose1.Block - TimeBlock(k)} {
				if b >= 0 && b < BlocksPerDay {
					out = append(out, Slot{ClinicID: clinic.ID, Date: d, Block: b})
				}
			}
		}
	}
	return out
}

// anyFree reports whether the index shows a free place in some candidate;
// freed counts as free (the slot a change releases).
func (s *Service) anyFree(cands []Slot, freed Slot) bool {
	for _, c := range cands {
		if c == freed || s.avail.Free(c) > 0 {
			return true
		}
	}
	return false
}

// scopedKey namespaces an idempotency key by the person who sends it, so
// one person's key can never collide with another's.
func scopedKey(bookedBy, key string) string {
	h := sha256.Sum256([]byte("sluice-idem-v1\x00" + bookedBy + "\x00" + key))
	return "bk1-" + hex.EncodeToString(h[:])
}

// BlockStart returns the instant block b starts on date d (Seoul).
func BlockStart(d Date, b TimeBlock) time.Time { return d.At(FirstBlockHour+int(b), 0) }

// --- look-up, change, cancel --------------------------------------------------

// Lookup returns a booking of this campaign by number, if name and RRN
// match it. An unknown number and a mismatch both give ErrNotFound, so the
// answer never tells which. A malformed name or RRN gives its *InputError
// (it reveals nothing about the booking). Cancelled bookings are returned
// too (Status tells).
func (s *Service) Lookup(ctx context.Context, name, rrn, number string) (Booking, error) {
	return s.lookup(ctx, name, rrn, number)
}

func (s *Service) lookup(ctx context.Context, name, rrn, number string) (Booking, error) {
	name, err := ValidName(name)
	if err != nil {
		return Booking{}, err
	}
	r, err := ParseRRN(rrn)
	if err != nil {
		return Booking{}, err
	}
	number = normalizeNumber(number)
	if number == "" {
		return Booking{}, ErrNotFound
	}
	b, err := s.store.Get(ctx, number)
	if err != nil {
		return Booking{}, err
	}
	key := PersonKey(s.secret, r)
	if !hmac.Equal([]byte(key), []byte(b.PersonKey)) || name != b.Name || b.CampaignID != s.campaign.ID {
		return Booking{}, ErrNotFound
	}
	return b, nil
}

// ChangeDeadline returns the instant from which a booking can no longer be
// cancelled or changed online: 00:00 Seoul of the day before its next
// appointment (the first dose, or the second once the first dose's date has
// passed). Cancelling and changing are allowed while now is before it, i.e.
// until 23:59:59 two days before the appointment date. ok is false when
// both appointment dates have passed.
func ChangeDeadline(b Booking, now time.Time) (deadline time.Time, ok bool) {
	today := DateOf(now)
	for _, a := range [2]Appointment{b.Dose1, b.Dose2} {
		if !a.Date.Before(today) {
			return a.Date.AddDays(-1).Time(), true
		}
	}
	return time.Time{}, false
}

// Cancel cancels a booking (both doses) identified like Lookup, frees both
// places and writes a "cancel" message. Errors: those of Lookup,
// ErrCancelled, ErrTooLate (see ChangeDeadline).
func (s *Service) Cancel(ctx context.Context, name, rrn, number string) (Booking, error) {
	unlock := s.lockNumber(number)
	defer unlock()
	now := s.clock.Now()
	b, err := s.openForChange(ctx, name, rrn, number, now)
	if err != nil {
		return Booking{}, err
	}
	notice := Message{
		BookingNumber: b.Number,
		Kind:          "cancel",
		To:            b.Phone,
		Body:          s.cancelText(b),
		CreatedAt:     now,
	}
	got, err := s.store.Cancel(ctx, b.Number, notice, now)
	if err != nil {
		return Booking{}, err
	}
	s.avail.Add(got.Dose1.Slot, -1)
	s.avail.Add(got.Dose2.Slot, -1)
	s.gen.Add(1)
	s.log.Info("cancelled", "number", got.Number, "cohort", got.CohortID)
	return got, nil
}

// Change moves a booking identified like Lookup to a new first-dose slot
// (any clinic offering the booked vaccine), with a new second dose chosen as
// in Book, and writes a "change" message. It is refused with ErrTooLate
// once the first dose's date has passed (the second dose alone cannot be
// moved online) or from ChangeDeadline on. The new slot is checked as in
// Book (ErrClinicNotFound, ErrInvalidSlot, ErrPastDate, ErrBeyondHorizon,
// ErrClinicClosed, ErrVaccineNotOffered, ErrSlotFull, ErrNoSecondDose);
// eligibility is not checked again.
func (s *Service) Change(ctx context.Context, name, rrn, number string, newClinicID int64, newDate Date, newBlock TimeBlock) (Booking, error) {
	unlock := s.lockNumber(number)
	defer unlock()
	now := s.clock.Now()
	b, err := s.openForChange(ctx, name, rrn, number, now)
	if err != nil {
		return Booking{}, err
	}
	if b.Dose1.Date.Before(DateOf(now)) {
		return Booking{}, ErrTooLate
	}
	clinic, err := s.checkSlot(newClinicID, newDate, newBlock, now)
	if err != nil {
		return Booking{}, err
	}
	v := s.campaign.Vaccine(b.VaccineID)
	if v == nil {
		return Booking{}, fmt.Errorf("%w: %q is not a vaccine of this campaign", ErrVaccineNotOffered, b.VaccineID)
	}
	if !clinic.Offers(v.ID) {
		return Booking{}, fmt.Errorf("%w: %s is not given at this clinic", ErrVaccineNotOffered, v.NameEN)
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: newDate, Block: newBlock}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	if dose1 != b.Dose1.Slot && s.avail.Free(dose1) <= 0 {
		return Booking{}, fmt.Errorf("%s: %w", slotText(dose1), ErrSlotFull)
	}
	if !s.anyFree(cands, b.Dose2.Slot) {
		return Booking{}, ErrNoSecondDose
	}
	got, err := s.store.Change(ctx, ChangeRequest{
		Number:          b.Number,
		NewDose1:        dose1,
		Dose2Candidates: cands,
		SlotCapacity:    s.avail.Capacity,
		Notice: Message{
			BookingNumber: b.Number,
			Kind:          "change",
			To:            b.Phone,
			Body:          s.changeText(b.Number, clinic, v, dose1),
			CreatedAt:     now,
		},
		Now: now,
	})
	if err != nil {
		return Booking{}, err
	}
	s.avail.Add(b.Dose1.Slot, -1)
	s.avail.Add(b.Dose2.Slot, -1)
	s.avail.Add(got.Dose1.Slot, 1)
	s.avail.Add(got.Dose2.Slot, 1)
	s.gen.Add(1)
	s.log.Info("changed", "number", got.Number, "cohort", got.CohortID,
		"clinic", got.Dose1.ClinicID, "dose1", got.Dose1.Date.String(), "dose2", got.Dose2.Date.String())
	return got, nil
}

// openForChange looks a booking up like Lookup and checks that it may still
// be changed or cancelled online at now: not cancelled (ErrCancelled) and
// before ChangeDeadline (ErrTooLate). The caller holds the number's lock.
func (s *Service) openForChange(ctx context.Context, name, rrn, number string, now time.Time) (Booking, error) {
	b, err := s.lookup(ctx, name, rrn, number)
	if err != nil {
		return Booking{}, err
	}
	if b.Status == StatusCancelled {
		return Booking{}, ErrCancelled
	}
	if dl, ok := ChangeDeadline(b, now); !ok || !now.Before(dl) {
		return Booking{}, ErrTooLate
	}
	return b, nil
}

// lockNumber serialises Change and Cancel of one booking on this node, so
// the availability index moves by exactly what the store did.
func (s *Service) lockNumber(number string) func() {
	h := fnv.New32a()
	h.Write([]byte(normalizeNumber(number)))
	m := &s.numLocks[h.Sum32()%uint32(len(s.numLocks))]
	m.Lock()
	return m.Unlock
}

// normalizeNumber trims and upper-cases a booking number as typed; "" if it
// cannot be one.
func normalizeNumber(n string) string {
	n = strings.ToUpper(strings.TrimSpace(n))
	if n == "" || len(n) > maxBookingNumberLen {
		return ""
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return ""
		}
	}
	return n
}

// bookingNumberAlphabet has no 0/O or 1/I, so a number read aloud or copied
// by hand survives. 32 symbols: each random byte maps without bias.
const bookingNumberAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewBookingNumber returns a random booking number "SLC-XXXX-XXXX" (40
// bits), the format the stores generate.
func NewBookingNumber() string {
	var r [8]byte
	rand.Read(r[:])
	out := []byte("SLC-XXXX-XXXX")
	for i, p := range [8]int{4, 5, 6, 7, 9, 10, 11, 12} {
		out[p] = bookingNumberAlphabet[r[i]&31]
	}
	return string(out)
}

// --- messages ------------------------------------------------------------------

// Dose2Placeholder stands in a message body for the second-dose appointment,
// which the store chooses inside the booking transaction. The outbox worker
// replaces it with the committed appointment before sending.
const Dose2Placeholder = "{dose2}"

var koWeekdays = [7]string{"일", "월", "화", "수", "목", "금", "토"}

// AppointmentText formats a slot in Korean: "2021년 7월 26일(월) 09:00~10:00".
func AppointmentText(d Date, b TimeBlock) string {
	h := FirstBlockHour + int(b)
	return fmt.Sprintf("%d년 %d월 %d일(%s) %02d:00~%02d:00", d.Year, int(d.Month), d.Day,
		koWeekdays[d.Weekday()], h, h+1)
}

func (s *Service) confirmationText(number string, c *Clinic, v *Vaccine, dose1 Slot) string {
	return "[Sluice] 코로나19 예방접종 예약이 완료되었습니다.\n" +
		"예약번호: " + number + "\n" +
		"접종기관: " + c.Name + "\n" +
		"백신: " + v.Name + "\n" +
		"1차: " + AppointmentText(dose1.Date, dose1.Block) + "\n" +
		"2차: " + Dose2Placeholder + " (같은 기관)\n" +
		"변경·취소는 접종일 2일 전까지 가능합니다."
}

func (s *Service) changeText(number string, c *Clinic, v *Vaccine, dose1 Slot) string {
	return "[Sluice] 코로나19 예방접종 예약이 변경되었습니다.\n" +
		"예약번호: " + number + "\n" +
		"접종기관: " + c.Name + "\n" +
		"백신: " + v.Name + "\n" +
		"1차: " + AppointmentText(dose1.Date, dose1.Block) + "\n" +
		"2차: " + Dose2Placeholder + " (같은 기관)"
}

func (s *Service) cancelText(b Booking) string {
	name := "접종기관 " + strconv.FormatInt(b.Dose1.ClinicID, 10)
	if c, ok := s.avail.Clinic(b.Dose1.ClinicID); ok {
		name = c.Name
	}
	return "[Sluice] 코로나19 예방접종 예약이 취소되었습니다.\n" +
		"예약번호: " + b.Number + "\n" +
		"취소된 예약: " + name + "\n" +
		"1차: " + AppointmentText(b.Dose1.Date, b.Dose1.Block) + "\n" +
		"2차: " + AppointmentText(b.Dose2.Date, b.Dose2.Block)
}

func slotText(s Slot) string {
	return fmt.Sprintf("clinic %d %s block %d", s.ClinicID, s.Date, s.Block)
}

// --- errors for people -------------------------------------------------------------

// ErrorMessage returns the Korean and English sentences to show a person for
// an error of the service (including store, identity and input errors), or
// generic ones for anything else.
func ErrorMessage(err error) (ko, en string) {
	var ne *NotEligibleError
	var ie *InputError
	switch {
	case errors.As(err, &ne):
		return ne.Eligibility.Message, ne.Eligibility.MessageEN
	case errors.As(err, &ie):
		return ie.Message, ie.MessageEN
	}
	for _, m := range errorMessages {
		if errors.Is(err, m.err) {
			return m.ko, m.en
		}
	}
	return InputErrorMessage(err)
}

var errorMessages = []struct {
	err    error
	ko, en string
}{
	{ErrSessionExpired, "본인확인 시간이 지났습니다. 다시 본인확인을 해 주세요.", "Your session has expired. Please verify your identity again."},
	{ErrNotEligible, "지금은 예약 대상이 아닙니다.", "You cannot book now."},
	{ErrProxyNotAllowed, "이 연령대는 대리 예약을 할 수 없습니다. 본인이 직접 예약해 주세요.", "Booking for another person is not allowed for this age group. The person must book themselves."},
	{ErrClinicNotFound, "접종기관을 찾을 수 없습니다.", "The clinic was not found."},
	{ErrInvalidSlot, "접종 날짜나 시간이 올바르지 않습니다.", "The appointment date or time is not valid."},
	{ErrPastDate, "이미 지난 시간은 예약할 수 없습니다.", "That appointment time has passed."},
	{ErrBeyondHorizon, "그 날짜는 아직 예약할 수 없습니다. 더 가까운 날짜를 골라 주세요.", "That date cannot be booked yet. Please choose an earlier date."},
	{ErrClinicClosed, "접종기관이 그날 쉽니다. 다른 날짜를 골라 주세요.", "The clinic is closed on that day. Please choose another date."},
	{ErrVaccineNotOffered, "선택한 백신은 이 접종기관이나 연령대에 제공되지 않습니다.", "That vaccine is not offered at this clinic or for your age group."},
	{ErrTooLate, "접종일 2일 전까지만 온라인으로 변경·취소할 수 있습니다. 접종기관에 문의해 주세요.", "Online changes and cancellations close two days before the appointment. Please contact the clinic."},
	{ErrInvalidRequest, "요청이 올바르지 않습니다.", "The request is not valid."},
	{ErrOverloaded, "접속이 많습니다. 잠시 후 다시 시도해 주세요.", "The service is busy. Please try again shortly."},
	{ErrChallengeExpired, "인증 시간이 지났습니다. 인증번호를 다시 받아 주세요.", "The verification has expired. Please request a new code."},
	{ErrWrongCode, "인증번호가 맞지 않습니다. 다시 입력해 주세요.", "The verification code is wrong. Please try again."},
	{ErrTooManyAttempts, "인증번호를 여러 번 잘못 입력했습니다. 인증번호를 다시 받아 주세요.", "Too many wrong codes. Please request a new code."},
	{ErrSessionHeld, "다른 기기에서 같은 분의 예약이 진행 중입니다. 10분 후 다시 시도해 주세요.", "A booking for this person is in progress on another device. Please try again in 10 minutes."},
	{ErrSlotFull, "선택한 시간은 예약이 마감되었습니다. 다른 시간을 골라 주세요.", "That time is fully booked. Please choose another."},
	{ErrNoSecondDose, "2차 접종 가능한 날짜가 없습니다. 다른 날짜나 접종기관을 골라 주세요.", "No second-dose date is free. Please choose another date or clinic."},
	{ErrAlreadyBooked, "이미 예약이 있습니다. 예약 조회에서 확인해 주세요.", "You already have a booking. Please look it up."},
	{ErrSupplyExhausted, "이 백신의 예약이 마감되었습니다.", "Booking for this vaccine has closed: the supply is used up."},
	{ErrCancelled, "이미 취소된 예약입니다.", "This booking has been cancelled."},
	{ErrIdempotencyReuse, "같은 요청 번호로 다른 예약을 할 수 없습니다.", "The request id was already used for a different booking."},
	{ErrNotFound, "예약을 찾을 수 없습니다. 이름, 주민등록번호, 예약번호를 확인해 주세요.", "No booking found. Please check the name, registration number and booking number."},
}

// --- bounded expiring map ----------------------------------------------------------

// expiring is a map of values with an expiry, bounded in size. Not safe for
// concurrent use (the Service holds its mutex).
type expiring[V any] struct {
	m         map[string]V
	expiry    func(V) time.Time
	max       int
	lastPrune time.Time
}

func newExpiring[V any](max int, expiry func(V) time.Time) expiring[V] {
	return expiring[V]{m: map[string]V{}, expiry: expiry, max: max}
}

func (e *expiring[V]) get(k string, now time.Time) (V, bool) {
	v, ok := e.m[k]
	if !ok {
		return v, false
	}
	if !now.Before(e.expiry(v)) {
		delete(e.m, k)
		var zero V
		return zero, false
	}
	return v, true
}

// put stores v unless the map is full of unexpired values.
func (e *expiring[V]) put(k string, v V, now time.Time) bool {
	// Lazy expiry: look at a couple of entries on every insert.
	n := 0
	for key, old := range e.m {
		if !now.Before(e.expiry(old)) {
			delete(e.m, key)
		}
		if n++; n >= 2 {
			break
		}
	}
	if len(e.m) >= e.max {
		// A full scan, at most once a second.
		if e.lastPrune.IsZero() || now.Sub(e.lastPrune) >= time.Second || now.Before(e.lastPrune) {
			e.lastPrune = now
			for key, old := range e.m {
				if !now.Before(e.expiry(old)) {
					delete(e.m, key)
				}
			}
		}
		if _, exists := e.m[k]; !exists && len(e.m) >= e.max {
			return false
		}
	}
	e.m[k] = v
	return true
}

func (e *expiring[V]) del(k string) { delete(e.m, k) }

// ResyncAvailability reloads the booked counts of every slot from the store
// into the in-memory index used for search. With one node the index is kept
// exact by the node's own bookings; with several nodes sharing a database
// (PostgreSQL), each node calls this every few seconds to see the others'
// bookings. Search may lag by that much; a booking is still checked against
// the database's counts in its transaction, so it can never overbook.
func (s *Service) ResyncAvailability(ctx context.Context) error {
	if _, err := s.loadAvailability(ctx); err != nil {
		return fmt.Errorf("resync availability: %w", err)
	}
	return nil
}

// loadAvailability replaces the index's booked counts with the store's and
// returns how many slots have bookings.
func (s *Service) loadAvailability(ctx context.Context) (int, error) {
	counts, err := s.store.SlotCounts(ctx)
	if err != nil {
		return 0, err
	}
	s.avail.Load(counts)
	return len(counts), nil
}
