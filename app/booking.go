package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicehq/sluice/booking"
	bpostgres "github.com/sluicehq/sluice/booking/postgres"
	bsqlite "github.com/sluicehq/sluice/booking/sqlite"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/atomicfile"
	"github.com/sluicehq/sluice/internal/every"
	"github.com/sluicehq/sluice/internal/outage"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// BookingRoom is the waiting room in front of the booking API in the demo
// (and the default for `serve` when booking.room is not set).
var BookingRoom = room.Settings{
	Name: "vaccine",
	// 250 inside at a time with stays of about 25 s keeps the demo crowd
	// moving at the configured 10 admissions per second.
	Capacity:     250,
	Rate:         10,
	PassTTL:      20 * time.Minute,
	ClaimTimeout: time.Minute,
	WaitingURL:   "/wait/vaccine",
}

// DemoStart is where the demo's clock starts by default: inside the 53-54
// window of the July 2021 campaign, one hour after it opened.
var DemoStart = time.Date(2021, 7, 19, 21, 0, 0, 0, booking.Seoul)

// DemoCampaigns is the programme of `sluice demo`: both 2021 campaigns,
// so that moving the demo clock from July to August answers August's rules.
var DemoCampaigns = []string{"2021-07-50s", "2021-08-18-49"}

// loadProgramme loads the campaigns of booking.campaigns (shipped ids or
// files) as one programme.
func loadProgramme(sources []string) (*booking.Programme, error) {
	var camps []*booking.Campaign
	for _, src := range sources {
		var c *booking.Campaign
		var err error
		if config.IsCampaignFile(src) {
			f, ferr := os.Open(src)
			if ferr != nil {
				return nil, fmt.Errorf("booking campaign: %w", ferr)
			}
			c, err = booking.LoadCampaign(f)
			f.Close()
		} else {
			c, err = booking.ShippedCampaign(src)
		}
		if err != nil {
			return nil, fmt.Errorf("booking campaign %s: %w", src, err)
		}
		camps = append(camps, c)
	}
	prog, err := booking.NewProgramme(camps...)
	if err != nil {
		return nil, fmt.Errorf("booking: %w", err)
	}
	return prog, nil
}

type bookingParts struct {
	store booking.Store
	// shared: the store is a database several nodes use (PostgreSQL), so
	// the search index is reloaded from it every availabilityResync.
	shared  bool
	service *booking.Service
	sender  *booking.ConsoleSender
	api     *web.BookingAPI
	tmpDir  string
}

func (a *App) setupBooking() error {
	bc := a.Cfg.Booking
	if a.Opts.Demo && !bc.Enabled() {
		bc.Campaigns = DemoCampaigns
	}
	if !bc.Enabled() {
		return nil
	}
	prog, err := loadProgramme(bc.CampaignSources())
	if err != nil {
		return err
	}
	secret := a.Cfg.PersonKeySecret
	p := &bookingParts{}
	db := bc.Database
	if db == "" {
		if !a.Opts.Demo {
			return errors.New("booking: set booking.database (or SLUICE_DATABASE) to the SQLite file to use, or to a postgres:// URL")
		}
		// The demo keeps its bookings in a temporary database unless a
		// state directory is given, so every demo starts fresh.
		if a.Cfg.StateDir != "" {
			db = filepath.Join(a.Cfg.StateDir, "sluice-demo.db")
		} else {
			p.tmpDir, err = os.MkdirTemp("", "sluice-demo-")
			if err != nil {
				return err
			}
			db = filepath.Join(p.tmpDir, "sluice.db")
		}
	}
	if len(secret) == 0 {
		if !a.Opts.Demo {
			return errors.New("booking: set SLUICE_PERSON_KEY_SECRET (or SLUICE_PERSON_KEY_SECRET_FILE): the key of the hash that replaces RRNs in the database")
		}
		if secret, err = a.demoSecret("person-key-secret"); err != nil {
			return err
		}
	}
	sealer := a.Cfg.SessionKeys
	if sealer == nil {
		// Every node of a shared database must open what the others
		// sealed, and a node restarted must open what it sealed before:
		// only the demo on its own embedded database may make up a key.
		if !a.Opts.Demo || config.IsPostgresURL(db) {
			return errors.New("booking: set SLUICE_SESSION_KEYS (or SLUICE_SESSION_KEYS_FILE), the same on every node: the keys that encrypt the sessions kept in the booking database (`sluice keygen --session` makes one)")
		}
		key, err := a.demoSecret("session-key")
		if err != nil {
			return err
		}
		if sealer, err = seal.New(seal.Key{ID: "demo", Secret: key}); err != nil {
			return err
		}
	}
	if config.IsPostgresURL(db) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		timeout := a.Cfg.RequestTimeout.D()
		p.store, err = bpostgres.Open(ctx, db, bpostgres.Timeouts{Statement: timeout, Lock: timeout / 2})
		cancel()
		if err != nil {
			return fmt.Errorf("booking database: %w", err) // the error names the URL without its password
		}
		p.shared = true
	} else {
		p.store, err = bsqlite.Open(db)
		if err != nil {
			return fmt.Errorf("booking database %s: %w", db, err)
		}
	}
	p.sender = booking.NewConsoleSender(a.Log)
	// Real identity providers (mobile carrier, certificates, Kakao/Naver/PASS)
	// plug in through booking.IdentityProvider. Until one is configured the
	// server sends a one-time code through the notification sender; only the
	// demo also returns it in the response.
	var identity booking.IdentityProvider = booking.NewDemoIdentity(a.Clock, func(m booking.Message) error {
		return p.sender.Send(context.Background(), m)
	})
	if len(a.Cfg.TestIdentitySecret) > 0 {
		if identity, err = booking.NewTestIdentity(a.Cfg.TestIdentitySecret, identity); err != nil {
			p.store.Close()
			return err
		}
		a.Log.Warn("TEST IDENTITY PROVIDER ENABLED (SLUICE_TEST_IDENTITY_SECRET): phones 010-1XXX-XXXX are verified with codes derived from that secret; never set it in production")
	}
	p.service, err = booking.NewService(booking.ServiceConfig{
		Programme: prog, Store: p.store, Availability: booking.NewAvailability(booking.DefaultClinics()),
		Clock: a.Clock, PersonKeySecret: secret, Sealer: sealer, Sender: p.sender, Log: a.Log, DemoMode: a.Opts.Demo,
		Identity: identity, BookingHorizonDays: bc.HorizonDays,
	})
	if err != nil {
		p.store.Close()
		return err
	}
	roomName := bc.Room
	if roomName == "" {
		roomName = BookingRoom.Name
	}
	if _, ok := a.Rooms.Get(roomName); !ok {
		st := BookingRoom
		st.Name, st.WaitingURL = roomName, "/wait/"+roomName
		if _, err := a.Rooms.Add(st); err != nil {
			return err
		}
	}
	p.api = &web.BookingAPI{Server: a.Server, Service: p.service, Room: roomName, Sent: p.sender.Recent}
	if sc, ok := a.Clock.(*clock.Settable); ok && a.Opts.Demo {
		p.api.DemoClock = sc
	}
	a.booking = p
	return nil
}

// demoSecret makes a secret for the demo (32 random bytes). With a state
// directory it is kept there under name, next to the database and the
// rooms' lines, so that tickets, look-ups and sessions keep working across
// demo restarts; it is on disk whole (atomicfile) before anything is
// signed or sealed with it, so a kill -9 cannot leave a key cut short.
func (a *App) demoSecret(name string) ([]byte, error) {
	if a.Cfg.StateDir == "" {
		return seal.RandomSecret(), nil
	}
	path := filepath.Join(a.Cfg.StateDir, name)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := seal.RandomSecret()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return b, atomicfile.Write(path, b)
}

// run delivers outbox messages until ctx ends.
// availabilityResync is how often a node sharing its booking database with
// others reloads the booked counts its clinic search shows.
const availabilityResync = 2 * time.Second

// purgeInterval is how often a node deletes the expired sessions,
// challenges and look-ups of its booking database.
const purgeInterval = time.Minute

func (p *bookingParts) run(ctx context.Context, log *slog.Logger) {
	if p.shared {
		failing := &outage.Log{Logger: log, What: "clinic search seeing other nodes' bookings"}
		go every.Interval(ctx, availabilityResync, func() {
			if err := p.service.ResyncAvailability(ctx); err != nil && ctx.Err() == nil {
				failing.Failed(err)
			} else {
				failing.Succeeded()
			}
		})
	}
	go p.service.RunPurge(ctx, purgeInterval)
	p.service.RunOutbox(ctx, 200*time.Millisecond)
}

func (p *bookingParts) close() {
	p.store.Close()
	if p.tmpDir != "" {
		os.RemoveAll(p.tmpDir)
	}
}

// Booking returns the booking service (nil when booking is not configured).
func (a *App) Booking() *booking.Service {
	if a.booking == nil {
		return nil
	}
	return a.booking.service
}
