package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
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
	var wg sync.WaitGroup
	var mu sync.Mutex
	booked := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Book(ctx, shareRequest(fmt.Sprintf("share-rush-%d", i), d1, "c/day-11", share))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				booked++
			case !errors.Is(err, booking.ErrSlotFull):
				t.Errorf("booking in a share: %v", err)
			}
		}()
	}
	wg.Wait()
	if booked != share {
		t.Fatalf("%d of %d people booked a share of %d", booked, n, share)
	}
}
