package storetest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Cancel and Change.

func testActiveBooking(t *testing.T, s booking.Store) {
	_, err := s.ActiveBooking(ctx, PersonKey("rowan"))
	wantErr(t, "nobody booked", err, booking.ErrNotFound)
	d1, d2 := slot(12, day1, 3), slot(12, day2, 3)
	mustBook(t, s, request("sage", d1, d2))
	b := mustBook(t, s, request("rowan", d1, d2))
	got, err := s.ActiveBooking(ctx, PersonKey("rowan"))
	if err != nil {
		t.Fatalf("ActiveBooking: %v", err)
	}
	sameBooking(t, "ActiveBooking", got, b)
	_, err = s.ActiveBooking(ctx, PersonKey("tove"))
	wantErr(t, "another person", err, booking.ErrNotFound)

	// Cancelled: none, until the person books again.
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Body: "x"}, Now: openedAt}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ActiveBooking(ctx, PersonKey("rowan"))
	wantErr(t, "cancelled", err, booking.ErrNotFound)
	again := mustBook(t, s, request("rowan", d1, d2))
	if got, err = s.ActiveBooking(ctx, PersonKey("rowan")); err != nil || got.Number != again.Number {
		t.Fatalf("after booking again: %v, %v; want %s", got.Number, err, again.Number)
	}
	if _, err := s.ActiveBooking(ctx, "6803151234567"); err == nil {
		t.Error("an RRN was taken for a person key")
	}
}

func testCancel(t *testing.T, s booking.Store) {
	if err := s.SetSupply(ctx, vaccine, 10); err != nil {
		t.Fatal(err)
	}
	d1, d2 := slot(11, day1, 1), slot(11, day2, 1)
	keep := mustBook(t, s, request("park", d1, d2))
	b := mustBook(t, s, request("quinn", d1, d2))
	wantCounts(t, s, map[booking.Slot]int{d1: 2, d2: 2})
	wantSupply(t, s, vaccine, 10, 4)

	at := openedAt.Add(24 * time.Hour)
	got, err := s.Cancel(ctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Kind: "cancel", To: b.Phone, Body: "Booking cancelled", CreatedAt: at}, Now: at})
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got.Status != booking.StatusCancelled || !got.UpdatedAt.Equal(at) || got.Number != b.Number {
		t.Errorf("Cancel returned %+v, want status cancelled updated at %v", got, at)
	}
	stored, err := s.Get(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := b
	want.Status, want.UpdatedAt = booking.StatusCancelled, at
	sameBooking(t, "Get after cancel", stored, want)

	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
	wantSupply(t, s, vaccine, 10, 2)
	wantBookings(t, s, map[string]int{cohort: 1})
	ms := wantPending(t, s, 3)
	m := ms[2]
	if m.BookingNumber != b.Number || m.Kind != "cancel" || m.To != b.Phone || m.Body != "Booking cancelled" || !m.CreatedAt.Equal(at) {
		t.Errorf("cancel notice = %+v", m)
	}
	if _, err := s.Get(ctx, keep.Number); err != nil {
		t.Errorf("the other booking: %v", err)
	}
}

func testDoubleCancel(t *testing.T, s booking.Store) {
	d1, d2 := slot(12, day1, 1), slot(12, day2, 1)
	b := mustBook(t, s, request("ryu", d1, d2))
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Body: "1"}, Now: openedAt.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Cancel(ctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Body: "2"}, Now: openedAt.Add(2 * time.Hour)})
	wantErr(t, "second Cancel", err, booking.ErrCancelled)
	wantCounts(t, s, nil)
	wantPending(t, s, 2)

	_, err = s.Cancel(ctx, booking.CancelRequest{Number: "SLC-NONE-NONE", Notice: booking.Message{Body: "x"}, Now: openedAt})
	wantErr(t, "Cancel of an unknown number", err, booking.ErrNotFound)
	wantPending(t, s, 2)
}

func testChange(t *testing.T, s booking.Store) {
	if err := s.SetSupply(ctx, vaccine, 10); err != nil {
		t.Fatal(err)
	}
	a1, a2 := slot(13, day1, 0), slot(13, day2, 0)
	b1, b2full, b2 := slot(14, day1.AddDays(1), 5), slot(14, day2.AddDays(1), 5), slot(14, day2.AddDays(2), 5)
	orig := mustBook(t, s, request("seo", a1, a2))

	at := openedAt.Add(48 * time.Hour)
	got, err := s.Change(ctx, booking.ChangeRequest{
		Number:          orig.Number,
		NewDose1:        b1,
		Dose2Candidates: []booking.Slot{b2full, b2},
		SlotCapacity:    capacities(3, map[booking.Slot]int{b2full: 0}),
		Notice:          booking.Message{Kind: "change", Body: "Booking changed", CreatedAt: at},
		Now:             at,
	})
	if err != nil {
		t.Fatalf("Change: %v", err)
	}
	want := orig
	want.Dose1 = booking.Appointment{Slot: b1, Dose: 1}
	want.Dose2 = booking.Appointment{Slot: b2, Dose: 2}
	want.UpdatedAt = at
	sameBooking(t, "Change result", got, want)
	stored, err := s.Get(ctx, orig.Number)
	if err != nil {
		t.Fatal(err)
	}
	sameBooking(t, "Get after Change", stored, want)

	wantCounts(t, s, map[booking.Slot]int{b1: 1, b2: 1})
	wantSupply(t, s, vaccine, 10, 2) // a change uses no more doses
	wantBookings(t, s, map[string]int{cohort: 1})
	ms := wantPending(t, s, 2)
	if m := ms[1]; m.BookingNumber != orig.Number || m.Kind != "change" || m.Body != "Booking changed" || m.To != orig.Phone {
		t.Errorf("change notice = %+v", m)
	}

	// Moving within the same full slot works: the old place is released first.
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: orig.Number, NewDose1: b1, Dose2Candidates: []booking.Slot{b2},
		SlotCapacity: capacities(1, nil), Notice: booking.Message{Body: "same"}, Now: at,
	})
	if err != nil {
		t.Fatalf("Change to the same full slots: %v", err)
	}
	wantCounts(t, s, map[booking.Slot]int{b1: 1, b2: 1})
}

func testChangeFails(t *testing.T, s booking.Store) {
	a1, a2 := slot(15, day1, 0), slot(15, day2, 0)
	full := slot(16, day1, 0)
	b := mustBook(t, s, request("tae", a1, a2))
	mustBook(t, s, request("uma", full, a2))
	before := counts(t, s)
	caps := capacities(5, map[booking.Slot]int{full: 1})

	_, err := s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: full, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change to a full slot", err, booking.ErrSlotFull)
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: slot(16, day1, 1), Dose2Candidates: []booking.Slot{full},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change with no free second dose", err, booking.ErrNoSecondDose)
	wantCounts(t, s, before)
	wantPending(t, s, 2)
	stored, err := s.Get(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	sameBooking(t, "booking after failed changes", stored, b)

	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: "SLC-NONE-NONE", NewDose1: a1, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change of an unknown number", err, booking.ErrNotFound)

	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Body: "bye"}, Now: openedAt}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: a1, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change of a cancelled booking", err, booking.ErrCancelled)
	wantCounts(t, s, map[booking.Slot]int{full: 1, a2: 1})
	wantPending(t, s, 3)
}
