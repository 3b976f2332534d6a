package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/booking"
)

// Concurrent callers: what the database's locks and constraints must
// decide, not the caller.

// atOnce runs call(0) ... call(n-1) in n goroutines released together and
// returns their errors, errs[i] that of call(i).
func atOnce(n int, call func(i int) error) (errs []error) {
	errs = make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// succeeded counts the calls of atOnce that succeeded, and fails the test
// for an error other than refused, the one the race may end in.
func succeeded(t *testing.T, what string, errs []error, refused error) (n int) {
	t.Helper()
	for i, err := range errs {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, refused):
			t.Errorf("%s %d: %v", what, i, err)
		}
	}
	return n
}

func testConcurrentSameSlot(t *testing.T, s booking.Store) {
	const people, capacity = 50, 7
	d1 := slot(21, day1, 0)
	caps := capacities(1000, map[booking.Slot]int{d1: capacity})
	numbers := make([]string, people)
	errs := atOnce(people, func(i int) error {
		r := request(fmt.Sprint("crowd", i), d1, slot(21, day2, 0), slot(21, day2.AddDays(1), 0))
		r.SlotCapacity = caps
		b, err := s.Book(ctx, r)
		numbers[i] = b.Number
		return err
	})
	if n := succeeded(t, "booking", errs, booking.ErrSlotFull); n != capacity {
		t.Fatalf("%d of %d booked; want %d", n, people, capacity)
	}
	var won []string
	for _, n := range numbers {
		if n != "" {
			won = append(won, n)
		}
	}
	c := counts(t, s)
	if c[d1] != capacity {
		t.Fatalf("slot count %d, want %d", c[d1], capacity)
	}
	ms := wantPending(t, s, capacity)
	var got []string
	for _, m := range ms {
		got = append(got, m.BookingNumber)
	}
	sort.Strings(got)
	sort.Strings(won)
	if !reflect.DeepEqual(got, won) {
		t.Fatalf("outbox numbers %v, want one per booking %v", got, won)
	}
	wantBookings(t, s, map[string]int{cohort: capacity})
}

func testConcurrentSamePerson(t *testing.T, s booking.Store) {
	const tries = 20
	errs := atOnce(tries, func(i int) error {
		// Each device picks a different slot.
		r := request("twin", slot(22, day1, i%booking.BlocksPerDay), slot(22, day2, 0))
		r.Booking.Dose1.Date = day1.AddDays(i / booking.BlocksPerDay)
		_, err := s.Book(ctx, r)
		return err
	})
	if won := succeeded(t, "device", errs, booking.ErrAlreadyBooked); won != 1 {
		t.Fatalf("%d of %d devices of one person booked; want 1", won, tries)
	}
	total := 0
	for _, n := range counts(t, s) {
		total += n
	}
	if total != 2 {
		t.Fatalf("slots hold %d places, want 2 (one booking)", total)
	}
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
}

func testConcurrentIdempotent(t *testing.T, s booking.Store) {
	const tries = 10
	req := request("retry", slot(23, day1, 0), slot(23, day2, 0))
	req.IdempotencyKey = "idem-retry"
	got := make([]string, tries)
	errs := atOnce(tries, func(i int) error {
		b, err := s.Book(ctx, req)
		got[i] = b.Number
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Book: %v", err)
	}
	numbers := map[string]int{}
	for _, n := range got {
		numbers[n]++
	}
	if len(numbers) != 1 {
		t.Fatalf("retries got numbers %v, want one", numbers)
	}
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
	wantCounts(t, s, map[booking.Slot]int{slot(23, day1, 0): 1, slot(23, day2, 0): 1})
}
