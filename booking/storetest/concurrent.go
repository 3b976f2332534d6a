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

func testConcurrentSameSlot(t *testing.T, s booking.Store) {
	const people, capacity = 50, 7
	d1 := slot(21, day1, 0)
	caps := capacities(1000, map[booking.Slot]int{d1: capacity})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []string
		refused int
		other   []error
	)
	start := make(chan struct{})
	for i := range people {
		r := request(fmt.Sprint("crowd", i), d1, slot(21, day2, 0), slot(21, day2.AddDays(1), 0))
		r.SlotCapacity = caps
		wg.Go(func() {
			<-start
			b, err := s.Book(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, b.Number)
			case errors.Is(err, booking.ErrSlotFull):
				refused++
			default:
				other = append(other, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	if len(won) != capacity || refused != people-capacity {
		t.Fatalf("%d booked, %d refused; want %d and %d", len(won), refused, capacity, people-capacity)
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
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		won, dup, others int
	)
	start := make(chan struct{})
	for i := range tries {
		// Each device picks a different slot.
		r := request("twin", slot(22, day1, i%booking.BlocksPerDay), slot(22, day2, 0))
		r.Booking.Dose1.Date = day1.AddDays(i / booking.BlocksPerDay)
		wg.Go(func() {
			<-start
			_, err := s.Book(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, booking.ErrAlreadyBooked):
				dup++
			default:
				others++
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || dup != tries-1 {
		t.Fatalf("%d booked, %d already booked, %d other; want 1 and %d", won, dup, others, tries-1)
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
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		numbers = map[string]int{}
	)
	for range tries {
		wg.Go(func() {
			b, err := s.Book(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Book: %v", err)
				return
			}
			numbers[b.Number]++
		})
	}
	wg.Wait()
	if len(numbers) != 1 {
		t.Fatalf("retries got numbers %v, want one", numbers)
	}
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
	wantCounts(t, s, map[booking.Slot]int{slot(23, day1, 0): 1, slot(23, day2, 0): 1})
}
