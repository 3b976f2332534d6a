package storetest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Leftover doses and clinic credentials.

func postLeftover(t *testing.T, s booking.Store, clinic int64, doses int, until time.Time, posted time.Time) booking.Leftover {
	t.Helper()
	l, err := s.PostLeftover(ctx, booking.Leftover{ClinicID: clinic, VaccineID: vaccine, Date: day1, Doses: doses, Until: until, PostedAt: posted})
	if err != nil || l.ID == 0 {
		t.Fatalf("PostLeftover: %+v, %v", l, err)
	}
	return l
}

// leftoverRequest books person's first dose from leftover l, at a slot
// already full for ordinary bookings.
func leftoverRequest(person string, l booking.Leftover, at time.Time) booking.BookRequest {
	d1, d2 := slot(l.ClinicID, day1, 7), slot(l.ClinicID, day2, 7)
	r := request(person, d1, d2)
	r.LeftoverID = l.ID
	r.SlotCapacity = capacities(100, map[booking.Slot]int{d1: 0})
	r.Booking.CreatedAt, r.Booking.UpdatedAt = at, at
	return r
}

func testLeftovers(t *testing.T, s booking.Store) {
	morning := day1.Time().Add(9 * time.Hour)
	until := day1.Time().Add(18 * time.Hour)
	first := postLeftover(t, s, 31, 2, until, morning)
	second := postLeftover(t, s, 32, 1, until, morning.Add(time.Hour))
	if other, err := s.PostLeftover(ctx, booking.Leftover{ClinicID: 33, VaccineID: vaccine, Date: day1.AddDays(1), Doses: 1, Until: until.Add(24 * time.Hour), PostedAt: morning}); err != nil || other.ID == 0 {
		t.Fatalf("another day: %v", err)
	}
	if _, err := s.PostLeftover(ctx, booking.Leftover{ClinicID: 31, VaccineID: vaccine, Date: day1, Doses: 0, Until: until, PostedAt: morning}); err == nil {
		t.Error("no doses accepted")
	}

	// First come, first served; none beyond the offer, and not after its
	// time; the slot's own capacity does not matter.
	at := morning.Add(2 * time.Hour)
	a := mustBook(t, s, leftoverRequest("leftover-a", first, at))
	mustBook(t, s, leftoverRequest("leftover-b", first, at))
	_, err := s.Book(ctx, leftoverRequest("leftover-c", first, at))
	wantErr(t, "third of two leftover doses", err, booking.ErrLeftoverGone)
	_, err = s.Book(ctx, leftoverRequest("leftover-c", second, until))
	wantErr(t, "leftover after its time", err, booking.ErrLeftoverGone)
	_, err = s.Book(ctx, leftoverRequest("leftover-c", booking.Leftover{ID: 1 << 40, ClinicID: 31}, at))
	wantErr(t, "no such leftover", err, booking.ErrLeftoverGone)
	// One booking per person still holds: told so, not "gone".
	_, err = s.Book(ctx, leftoverRequest("leftover-a", second, at))
	wantErr(t, "a booked person takes a leftover", err, booking.ErrAlreadyBooked)
	if a.Dose2.Slot != slot(31, day2, 7) {
		t.Errorf("second dose %v", a.Dose2.Slot)
	}
	wantCounts(t, s, map[booking.Slot]int{slot(31, day1, 7): 2, slot(31, day2, 7): 2})

	ls, err := s.Leftovers(ctx, day1)
	if err != nil || len(ls) != 2 || ls[0].ID != second.ID || ls[1].ID != first.ID || ls[1].Booked != 2 || ls[0].Booked != 0 ||
		ls[1].Doses != 2 || !ls[1].Until.Equal(until) || !ls[1].PostedAt.Equal(morning) || ls[1].ClinicID != 31 || ls[1].VaccineID != vaccine {
		t.Fatalf("Leftovers = %+v, %v; want the day's two, newest first", ls, err)
	}
	coming, err := s.BookingsAt(ctx, 31, day1)
	if err != nil || len(coming) != 2 || coming[0].Dose1.ClinicID != 31 {
		t.Fatalf("BookingsAt = %+v, %v", coming, err)
	}
	if none, err := s.BookingsAt(ctx, 31, day2); err != nil || len(none) != 0 {
		t.Errorf("BookingsAt second-dose day = %d, %v; want first doses only", len(none), err)
	}
}

func testLeftoverConcurrent(t *testing.T, s booking.Store) {
	at := day1.Time().Add(10 * time.Hour)
	l := postLeftover(t, s, 41, 3, day1.Time().Add(18*time.Hour), at)
	const n = 12
	errs := atOnce(n, func(i int) error {
		_, err := s.Book(ctx, leftoverRequest("rush-"+string(rune('a'+i)), l, at))
		return err
	})
	if booked := succeeded(t, "booking a leftover", errs, booking.ErrLeftoverGone); booked != 3 {
		t.Fatalf("%d of %d people booked 3 leftover doses", booked, n)
	}
}

func testClinicTokens(t *testing.T, s booking.Store) {
	h1, h2, h3 := booking.HashClinicToken("sct_one"), booking.HashClinicToken("sct_two"), booking.HashClinicToken("sct_three")
	_, err := s.ClinicToken(ctx, h1)
	wantErr(t, "unknown token", err, booking.ErrClinicToken)
	for _, tk := range []booking.ClinicToken{{Hash: h1, ClinicID: 5, CreatedAt: openedAt}, {Hash: h2, ClinicID: 5, CreatedAt: openedAt}, {Hash: h3, ClinicID: 6, CreatedAt: openedAt}} {
		if err := s.PutClinicToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClinicToken(ctx, h1)
	if err != nil || got.ClinicID != 5 || !got.RevokedAt.IsZero() || !got.CreatedAt.Equal(openedAt) {
		t.Fatalf("ClinicToken = %+v, %v", got, err)
	}
	if n, err := s.RevokeClinicTokens(ctx, 5, openedAt.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("RevokeClinicTokens = %d, %v; want 2", n, err)
	}
	if n, err := s.RevokeClinicTokens(ctx, 5, openedAt.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("revoking again = %d, %v; want 0", n, err)
	}
	if got, err := s.ClinicToken(ctx, h2); err != nil || !got.RevokedAt.Equal(openedAt.Add(time.Hour)) {
		t.Fatalf("revoked token = %+v, %v", got, err)
	}
	if got, err := s.ClinicToken(ctx, h3); err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("another clinic's token = %+v, %v", got, err)
	}
	h4 := booking.HashClinicToken("sct_four")
	revoked := booking.ClinicToken{Hash: h4, ClinicID: 7, CreatedAt: openedAt, RevokedAt: openedAt.Add(time.Minute)}
	if err := s.PutClinicToken(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClinicToken(ctx, h4); err != nil || got.ClinicID != 7 || !got.RevokedAt.Equal(revoked.RevokedAt) {
		t.Fatalf("token put revoked = %+v, %v", got, err)
	}
	if err := s.PutClinicToken(ctx, booking.ClinicToken{Hash: "sct_in_clear", ClinicID: 5}); err == nil {
		t.Error("a token in clear was stored")
	}
}
