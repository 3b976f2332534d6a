package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// BenchmarkJourneyStore measures what one citizen journey asks of the store
// on a file database, with many journeys at once (group commit at work):
// "book" is the booking alone; "session+book" adds what a journey's
// identity check and session cost (the challenge used up as the session
// opens, the session read back) before the booking. Besides
// ns/op it reports the process's CPU time per journey (cpu-us/op), the
// figure the flow benchmark's server CPU per journey is made of.
//
//	go test -run '^$' -bench JourneyStore -benchtime 20000x ./booking/sqlite/
func BenchmarkJourneyStore(b *testing.B) {
	b.Run("book", func(b *testing.B) { benchJourney(b, false) })
	b.Run("session+book", func(b *testing.B) { benchJourney(b, true) })
}

func benchJourney(b *testing.B, sessions bool) {
	s, err := Open(filepath.Join(b.TempDir(), "journey.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.SetSupply(ctx, "pfizer", 2*benchCapacity); err != nil {
		b.Fatal(err)
	}
	capacity := func(booking.Slot) int { return benchCapacity }
	sealed := make([]byte, 160) // about what a sealed person record is
	rand.Read(sealed)
	var next atomic.Int64
	token := func() string {
		var r [32]byte
		rand.Read(r[:])
		return base64.RawURLEncoding.EncodeToString(r[:])
	}
	journey := func() error {
		i := int(next.Add(1))
		pk := benchPersonKey(i)
		now := time.Now()
		if sessions {
			ch := booking.StateID("challenge", token())
			sess := booking.SessionRecord{ID: booking.StateID("session", token()), PersonKey: pk, Sealed: sealed,
				LockedUntil: now.Add(10 * time.Minute), Expires: now.Add(30 * time.Minute)}
			if err := s.OpenSession(ctx, booking.OpenSessionRequest{ChallengeID: ch, ChallengeExpires: now.Add(5 * time.Minute),
				MaxAttempts: 5, Session: sess, Now: now}); err != nil {
				return err
			}
			if _, err := s.Session(ctx, sess.ID, now); err != nil {
				return err
			}
		}
		_, err := s.Book(ctx, booking.BookRequest{
			Booking: booking.Booking{
				CampaignID: "c", CohortID: "18-49", VaccineID: "pfizer", PersonKey: pk,
				Name: "Name", Phone: "01012345678", BirthDate: booking.Date{Year: 1985, Month: time.March, Day: 9},
				Dose1: booking.Appointment{Slot: benchDose1},
			},
			Dose2Candidates: []booking.Slot{benchDose2},
			SlotCapacity:    capacity,
			Confirmation:    booking.Message{Body: "Your booking is confirmed"},
			IdempotencyKey:  pk,
		})
		return err
	}
	cpu0 := processCPU()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := journey(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
