package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Fair shares: a booking with a Share counts against its share of the
// first dose's slot.

func shareRequest(person string, d1 booking.Slot, key string, capacity int) booking.BookRequest {
	r := request(person, d1, slot(d1.ClinicID, day2, int(d1.Block)))
	if key != "" {
		r.Share = &booking.ShareLimit{Key: key, Capacity: capacity}
	}
	return r
}

func testShares(t *testing.T, s booking.Store) {
	d1 := slot(51, day1, 4)
	mustBook(t, s, shareRequest("share-a1", d1, "c/day-09", 2))
	mustBook(t, s, shareRequest("share-a2", d1, "c/day-09", 2))
	_, err := s.Book(ctx, shareRequest("share-a3", d1, "c/day-09", 2))
	wantErr(t, "third booking of a share of two", err, booking.ErrSlotFull)
	b1 := mustBook(t, s, shareRequest("share-b1", d1, "c/day-10", 1))
	_, err = s.Book(ctx, shareRequest("share-b2", d1, "c/day-10", 1))
	wantErr(t, "second booking of a share of one", err, booking.ErrSlotFull)
	// Without a share (released, or a window without one): only the slot.
	mustBook(t, s, shareRequest("share-free", d1, "", 0))
	// The same share at another slot is another count.
	mustBook(t, s, shareRequest("share-a3", slot(51, day1, 5), "c/day-09", 2))
	wantCounts(t, s, map[booking.Slot]int{d1: 4, slot(51, day2, 4): 4, slot(51, day1, 5): 1, slot(51, day2, 5): 1})

	got, err := s.ShareCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]) < fmt.Sprint(got[j]) })
	want := []booking.ShareCount{{Slot: d1, Key: "c/day-09", Booked: 2}, {Slot: d1, Key: "c/day-10", Booked: 1}, {Slot: slot(51, day1, 5), Key: "c/day-09", Booked: 1}}
	sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ShareCounts = %v, want %v", got, want)
	}

	// A cancelled booking gives its share's place back.
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: b1.Number, Notice: booking.Message{Body: "x"}, Now: openedAt.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mustBook(t, s, shareRequest("share-b2", d1, "c/day-10", 1))
}

func testSharesConcurrent(t *testing.T, s booking.Store) {
	d1 := slot(52, day1, 2)
	const n, share = 10, 3
	errs := atOnce(n, func(i int) error {
		_, err := s.Book(ctx, shareRequest(fmt.Sprintf("share-rush-%d", i), d1, "c/day-11", share))
		return err
	})
	if booked := succeeded(t, "booking in a share", errs, booking.ErrSlotFull); booked != share {
		t.Fatalf("%d of %d people booked a share of %d", booked, n, share)
	}
}

// shareChange is a Change request of booking number to d1 (its second dose
// the same block on day2) counting against share key of capacity
// capacity, or against none with key "".
func shareChange(number string, d1 booking.Slot, key string, capacity int) booking.ChangeRequest {
	r := booking.ChangeRequest{
		Number:          number,
		NewDose1:        d1,
		Dose2Candidates: []booking.Slot{slot(d1.ClinicID, day2, int(d1.Block))},
		SlotCapacity:    capacities(100, nil),
		Notice:          booking.Message{Kind: "change", Body: "moved"},
		Now:             openedAt.Add(time.Hour),
	}
	if key != "" {
		r.Share = &booking.ShareLimit{Key: key, Capacity: capacity}
	}
	return r
}

// wantShareCounts checks Store.ShareCounts against want.
func wantShareCounts(t *testing.T, s booking.Store, want map[booking.Slot]map[string]int) {
	t.Helper()
	got, err := s.ShareCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[booking.Slot]map[string]int{}
	for _, c := range got {
		if m[c.Slot] == nil {
			m[c.Slot] = map[string]int{}
		}
		m[c.Slot][c.Key] += c.Booked
	}
	if want == nil {
		want = map[booking.Slot]map[string]int{}
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ShareCounts = %v, want %v", m, want)
	}
}

// A change counts against the share of the new first dose's slot as a
// booking does, and the old slot's share has the place back.
func testSharesChange(t *testing.T, s booking.Store) {
	const k = "c/day-09"
	a, b, c, d := slot(53, day1, 1), slot(53, day1, 2), slot(53, day1, 3), slot(53, day1, 4)
	p1 := mustBook(t, s, shareRequest("move-1", a, k, 1))
	p2 := mustBook(t, s, shareRequest("move-2", b, k, 1))
	p3 := mustBook(t, s, shareRequest("move-3", c, k, 1))
	if p1.ShareKey != k {
		t.Fatalf("Book with a share: ShareKey %q, want %q", p1.ShareKey, k)
	}
	if got, err := s.Get(ctx, p1.Number); err != nil || got.ShareKey != k {
		t.Fatalf("Get: ShareKey %q, %v; want %q", got.ShareKey, err, k)
	}
	wantPending(t, s, 3)

	// Into a slot whose share is used up: refused though the slot has
	// room, and nothing moves.
	_, err := s.Change(ctx, shareChange(p2.Number, a, k, 1))
	wantErr(t, "change into a used-up share", err, booking.ErrSlotFull)
	if got, err := s.Get(ctx, p2.Number); err != nil {
		t.Fatal(err)
	} else {
		sameBooking(t, "booking after a refused change", got, p2)
	}
	wantPending(t, s, 3)
	wantShareCounts(t, s, map[booking.Slot]map[string]int{a: {k: 1}, b: {k: 1}, c: {k: 1}})

	// Within its own slot and share: its own place is its own.
	if _, err := s.Change(ctx, shareChange(p1.Number, a, k, 1)); err != nil {
		t.Fatalf("change within its own full share: %v", err)
	}
	// Out of a slot: its share there has the place back, which another
	// change takes.
	moved, err := s.Change(ctx, shareChange(p1.Number, d, k, 1))
	if err != nil {
		t.Fatalf("change into a free share: %v", err)
	}
	if moved.ShareKey != k || moved.Dose1.Slot != d {
		t.Fatalf("moved booking: share %q at %v, want %q at %v", moved.ShareKey, moved.Dose1.Slot, k, d)
	}
	if _, err := s.Change(ctx, shareChange(p2.Number, a, k, 1)); err != nil {
		t.Fatalf("change into a share freed by a change: %v", err)
	}
	mustBook(t, s, shareRequest("move-4", b, k, 1)) // b's share was freed by p2's move
	wantShareCounts(t, s, map[booking.Slot]map[string]int{a: {k: 1}, b: {k: 1}, c: {k: 1}, d: {k: 1}})

	// Without a share (released): limited by the slot only, and the
	// booking no longer counts against any share.
	free, err := s.Change(ctx, shareChange(p3.Number, a, "", 0))
	if err != nil {
		t.Fatalf("change without a share into a slot whose share is used up: %v", err)
	}
	if free.ShareKey != "" {
		t.Fatalf("changed without a share: ShareKey %q, want none", free.ShareKey)
	}
	if got, err := s.Get(ctx, p3.Number); err != nil || got.ShareKey != "" {
		t.Fatalf("Get after a change without a share: ShareKey %q, %v", got.ShareKey, err)
	}
	wantShareCounts(t, s, map[booking.Slot]map[string]int{a: {k: 1}, b: {k: 1}, d: {k: 1}})

	// A cancellation frees the share of the slot the booking moved to.
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: p2.Number, Notice: booking.Message{Body: "x"}, Now: openedAt.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	wantShareCounts(t, s, map[booking.Slot]map[string]int{b: {k: 1}, d: {k: 1}})
	mustBook(t, s, shareRequest("move-5", a, k, 1))
	wantCounts(t, s, map[booking.Slot]int{a: 2, b: 1, d: 1, slot(53, day2, 1): 2, slot(53, day2, 2): 1, slot(53, day2, 4): 1})
}

// Changes and bookings racing into one slot's share: exactly the share's
// capacity of them hold it.
func testSharesChangeConcurrent(t *testing.T, s booking.Store) {
	const k, share, movers, bookers = "c/day-12", 3, 8, 4
	target := slot(54, day1, 6)
	mustBook(t, s, shareRequest("race-held", target, k, share))
	var numbers []string
	for i := range movers {
		b := mustBook(t, s, shareRequest(fmt.Sprintf("race-mover-%d", i), slot(55+int64(i), day1, i%booking.BlocksPerDay), k, 1))
		numbers = append(numbers, b.Number)
	}
	// Calls 0 to movers-1 change the movers' bookings, the others book.
	errs := atOnce(movers+bookers, func(i int) error {
		if i < movers {
			_, err := s.Change(ctx, shareChange(numbers[i], target, k, share))
			return err
		}
		_, err := s.Book(ctx, shareRequest(fmt.Sprintf("race-booker-%d", i-movers), target, k, share))
		return err
	})
	var moved []string
	for i, n := range numbers {
		if errs[i] == nil {
			moved = append(moved, n)
		}
	}
	if won := succeeded(t, "change or booking into a share", errs, booking.ErrSlotFull); won != share-1 {
		t.Fatalf("%d changes and bookings into a share with %d free places held one", won, share-1)
	}
	got, err := s.ShareCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := map[booking.Slot]int{}
	for _, c := range got {
		if c.Key != k {
			t.Fatalf("ShareCounts: key %q, want only %q", c.Key, k)
		}
		at[c.Slot] += c.Booked
	}
	if at[target] != share {
		t.Fatalf("share at the target slot holds %d, want %d", at[target], share)
	}
	// Every booking still counts once, where it is: the movers that won
	// left their slots' shares.
	total := 0
	for _, n := range at {
		total += n
	}
	if want := 1 + movers + (share - 1 - len(moved)); total != want {
		t.Fatalf("ShareCounts hold %d bookings, want %d", total, want)
	}
	for _, n := range moved {
		b, err := s.Get(ctx, n)
		if err != nil || b.Dose1.Slot != target || b.ShareKey != k {
			t.Fatalf("moved booking %s: %v at %v share %q", n, err, b.Dose1.Slot, b.ShareKey)
		}
	}
}
