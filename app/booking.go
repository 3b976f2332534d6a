package app

import (
	"context"
	"crypto/rand"
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
		bc.Campaign = "2021-07-50s"
	}
	if !bc.Enabled() {
		return nil
	}
	var camp *booking.Campaign
	var err error
	if bc.CampaignFile != "" {
		f, ferr := os.Open(bc.CampaignFile)
		if ferr != nil {
			return fmt.Errorf("booking campaign: %w", ferr)
		}
		camp, err = booking.LoadCampaign(f)
		f.Close()
	} else {
		camp, err = booking.ShippedCampaign(bc.Campaign)
	}
	if err != nil {
		return fmt.Errorf("booking campaign: %w", err)
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
		if a.Cfg.StateDir != "" {
			secret, err = demoSecret(filepath.Join(a.Cfg.StateDir, "person-key-secret"))
			if err != nil {
				return err
			}
		} else {
			secret = make([]byte, 32)
			rand.Read(secret)
		}
	}
	if config.IsPostgresURL(db) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p.store, err = bpostgres.Open(ctx, db)
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
		if identity, err = booking.NewTestIdentity(a.Clock, a.Cfg.TestIdentitySecret, identity); err != nil {
			p.store.Close()
			return err
		}
		a.Log.Warn("TEST IDENTITY PROVIDER ENABLED (SLUICE_TEST_IDENTITY_SECRET): phones 010-1XXX-XXXX are verified with codes derived from that secret; never set it in production")
	}
	p.service, err = booking.NewService(booking.ServiceConfig{
		Campaign: camp, Store: p.store, Availability: booking.NewAvailability(booking.DefaultClinics()),
		Clock: a.Clock, PersonKeySecret: secret, Sender: p.sender, Log: a.Log, DemoMode: a.Opts.Demo,
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

// demoSecret keeps the demo's person-key secret next to its database, so
// look-ups keep working across demo restarts with a state directory.
func demoSecret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return b, os.WriteFile(path, b, 0o600)
}

// run delivers outbox messages until ctx ends.
// availabilityResync is how often a node sharing its booking database with
// others reloads the booked counts its clinic search shows.
const availabilityResync = 2 * time.Second

func (p *bookingParts) run(ctx context.Context, log *slog.Logger) {
	if p.shared {
		go func() {
			t := time.NewTicker(availabilityResync)
			defer t.Stop()
			failing := false
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				err := p.service.ResyncAvailability(ctx)
				if err != nil && !failing && ctx.Err() == nil {
					log.Warn("clinic search is not seeing other nodes' bookings; retrying", "err", err)
				} else if err == nil && failing {
					log.Info("clinic search sees other nodes' bookings again")
				}
				failing = err != nil
			}
		}()
	}
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
