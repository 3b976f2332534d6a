package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/outage"
	"github.com/sluicehq/sluice/internal/seal"
)

// The service's flows live in files of their own: sessions.go (identity
// verification and booking sessions, kept in the store: state.go), book.go (booking a first dose and its
// second), changes.go (look-up, change, cancel), messages.go (the texts the
// outbox sends), outbox.go (delivering them), stats.go (statistics).

// Defaults of ServiceConfig.
const (
	DefaultSessionTTL         = 30 * time.Minute
	DefaultBookingHorizonDays = 42
	maxIdempotencyKeyLen      = 256
)

// MinPersonKeySecret is the shortest PersonKeySecret NewService accepts
// (256 bits); the configuration checks SLUICE_PERSON_KEY_SECRET with it.
const MinPersonKeySecret = 32

// ServiceConfig configures a Service. Programme, Store, Availability,
// PersonKeySecret and Sealer are required.
type ServiceConfig struct {
	// Programme is the campaigns served (NewProgramme; one campaign is a
	// programme of one).
	Programme    *Programme
	Store        Store
	Availability *Availability
	// Clock is the server clock every rule reads (default clock.System).
	Clock clock.Clock
	// PersonKeySecret is the HMAC key of PersonKey: random, at least
	// MinPersonKeySecret bytes, kept out of the database. Changing it orphans every booking
	// (look-ups would no longer match).
	PersonKeySecret []byte
	// Sealer encrypts what the store keeps about a person in the middle of
	// a journey (challenges, sessions, look-ups: state.go). Every node
	// sharing a store needs the same keys.
	Sealer *seal.Sealer
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
}

// Service is the booking service: it ties the campaign rules, identity
// verification, the in-memory availability index and the Store together.
// One Service serves a programme of campaigns on one set of clinics. It
// is safe for concurrent use.
//
// A service keeps nothing about a person in memory: challenges, sessions
// and look-ups are in the Store (state.go), so any node sharing the store
// serves anyone, and a node that stops loses nobody's session.
type Service struct {
	programme *Programme
	store     Store
	avail     *Availability
	clock     clock.Clock
	secret    []byte
	sealer    *seal.Sealer
	identity  IdentityProvider
	sender    Sender
	log       *slog.Logger
	demo      bool

	sessionTTL  time.Duration
	horizonDays int

	// storeDown logs the store's outages (ErrUnavailable) once, not per
	// request; sealFailures the records that do not open (a key removed
	// too early).
	storeDown, sealFailures *outage.Log

	numLocks [64]sync.Mutex // serialises Change/Cancel per booking number

	shares shareCounts // the shares' bookings per slot (shares.go)

	gen   atomic.Uint64 // bumped on every committed change (stats cache)
	stats statsCache

	outbox outboxState
}

// NewService checks the configuration, warms the availability index from
// Store.SlotCounts and gives each vaccine with a Supply its allocation in
// the store, unless the store already has one (an operator's later change
// wins over the campaign file). Supply is national: a vaccine given a
// Supply by several campaigns gets the first campaign's (programme order).
func NewService(cfg ServiceConfig) (*Service, error) {
	var problems []string
	if cfg.Programme == nil {
		problems = append(problems, "Programme is required")
	}
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if cfg.Availability == nil {
		problems = append(problems, "Availability is required")
	}
	if len(cfg.PersonKeySecret) < MinPersonKeySecret {
		problems = append(problems, fmt.Sprintf("PersonKeySecret must be at least %d bytes (have %d)", MinPersonKeySecret, len(cfg.PersonKeySecret)))
	}
	if cfg.Sealer == nil {
		problems = append(problems, "Sealer is required (the keys of the per-person state in the store)")
	}
	if cfg.Identity == nil && !cfg.DemoMode {
		problems = append(problems, "Identity is required outside demo mode (use NewDemoIdentity for development)")
	}
	if cfg.SessionTTL < 0 || cfg.BookingHorizonDays < 0 {
		problems = append(problems, "SessionTTL and BookingHorizonDays must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("booking service: %s", strings.Join(problems, "; "))
	}
	s := &Service{
		programme:   cfg.Programme,
		store:       cfg.Store,
		avail:       cfg.Availability,
		clock:       cfg.Clock,
		secret:      append([]byte(nil), cfg.PersonKeySecret...),
		sealer:      cfg.Sealer,
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
	s.storeDown = &outage.Log{Logger: s.log, What: "booking database", Now: s.clock.Now}
	s.sealFailures = &outage.Log{Logger: s.log, What: "opening sealed session records (SLUICE_SESSION_KEYS)", Now: s.clock.Now}
	s.outbox.init(s.log, s.clock)
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
	for _, v := range s.programme.supplies() {
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
	s.log.Info("booking service ready", "campaigns", strings.Join(s.programme.IDs(), ","),
		"slots_warmed", warmed, "demo", s.demo)
	return s, nil
}

// Programme returns the campaigns the service serves (read-only).
func (s *Service) Programme() *Programme { return s.programme }

// Availability returns the availability index the service keeps up to date.
func (s *Service) Availability() *Availability { return s.avail }

// Sender returns the sender used by the outbox worker (for the operator
// dashboard: a *ConsoleSender has Recent).
func (s *Service) Sender() Sender { return s.sender }

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
	shareCounts, err := s.store.ShareCounts(ctx)
	if err != nil {
		return 0, err
	}
	s.avail.Load(counts)
	s.shares.load(shareCounts)
	return len(counts), nil
}

// noteStore records, through a deferred call in every method that reaches
// the store, whether the store answered: an error of ErrUnavailable is
// logged once as an outage with its cause (and then every
// outage.DefaultEvery), not once per request.
func (s *Service) noteStore(err *error) {
	switch {
	case *err == nil:
		s.storeDown.Succeeded()
	case errors.Is(*err, ErrUnavailable):
		s.storeDown.Failed(*err)
	}
}
