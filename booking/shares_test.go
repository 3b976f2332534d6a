package booking_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// The parts of a slot always add up to its capacity, each window gets at
// least its weight's part rounded down and at most one more, and over the
// slots of a day no window is left out.
func TestShareCapacitiesAddUp(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-08-18-49")
	if err != nil {
		t.Fatal(err)
	}
	n := len(c.Shares.Windows)
	for capacity := 0; capacity <= 300; capacity++ {
		got := make([]int, n)
		for rot := range 2 * n {
			parts := c.ShareCapacities(capacity, rot)
			sum := 0
			for i, p := range parts {
				sum += p
				got[i] += p
				if low := c.ShareCapacities(capacity, 0)[i] - 1; p < low || p < 0 {
					t.Fatalf("capacity %d rot %d: part %d = %d", capacity, rot, i, p)
				}
			}
			if sum != capacity {
				t.Fatalf("capacity %d rot %d: parts %v add up to %d", capacity, rot, parts, sum)
			}
		}
		for i, g := range got {
			if capacity >= 1 && g == 0 {
				t.Fatalf("capacity %d: window %s gets nothing over %d slots", capacity, c.Shares.Windows[i], 2*n)
			}
		}
	}
}

// Release on time: a share limits a booking up to the instant before
// release_at, not at it.
func TestSharesReleaseOnTime(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-08-18-49")
	if err != nil {
		t.Fatal(err)
	}
	_, w := windowByID(c, "day-18")
	sl := booking.Slot{ClinicID: 1, Date: date(2021, 8, 23), Block: 3}
	if _, ok := c.ShareFor(w, sl, 8, c.Shares.ReleaseAt.Add(-time.Nanosecond)); !ok {
		t.Error("no share 1 ns before release")
	}
	if _, ok := c.ShareFor(w, sl, 8, c.Shares.ReleaseAt); ok {
		t.Error("a share at release_at")
	}
	_, cu := windowByID(c, "catch-up-36-49")
	if _, ok := c.ShareFor(cu, sl, 8, c.Shares.ReleaseAt.Add(-time.Hour)); ok {
		t.Error("a catch-up window has a share")
	}
}

func windowByID(c *booking.Campaign, id string) (*booking.Cohort, *booking.Window) {
	for i := range c.Cohorts {
		for j := range c.Cohorts[i].Windows {
			if c.Cohorts[i].Windows[j].ID == id {
				return &c.Cohorts[i], &c.Cohorts[i].Windows[j]
			}
		}
	}
	return nil, nil
}

// Property: through the service and the store, on every night of the
// digit windows people of that night book one slot until refused; each
// window books exactly its share of the slot (never more; not fewer while
// the slot has room), and from release_at the places left go to the
// catch-up window, up to the slot's capacity.
func TestSharesNoWindowBeyondItsShare(t *testing.T) {
	e := newEnv(t, "2021-08-18-49", time.Date(2021, 8, 9, 21, 0, 0, 0, booking.Seoul), nil)
	c := e.svc.Programme().Campaign("2021-08-18-49")
	for _, block := range []booking.TimeBlock{0, 3, 6} {
		sl := booking.Slot{ClinicID: clinicSmall, Date: date(2021, 8, 23), Block: block}
		capacity := e.avail.Capacity(sl)
		parts := c.ShareCapacities(capacity, 0) // recomputed per slot below
		total := 0
		person := 200 * (int(block) + 1)
		for night := range 10 {
			digit := (9 + night) % 10
			id := fmt.Sprintf("day-%02d", 9+night)
			_, w := windowByID(c, id)
			e.clk.Set(w.Opens.Add(time.Hour))
			share, ok := c.ShareFor(w, sl, capacity, e.clk.Now())
			if !ok {
				t.Fatalf("%s: no share", id)
			}
			parts[night] = share.Capacity
			day := digit
			if day == 0 {
				day = 10
			}
			booked := 0
			for try := 0; try < capacity+2; try++ {
				person++
				sess := e.verify(newPerson(person, date(1990, time.Month(1+try%12), day)))
				_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: sl.ClinicID, Date: sl.Date, Block: sl.Block})
				if errors.Is(err, booking.ErrSlotFull) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				booked++
			}
			if booked != share.Capacity {
				t.Fatalf("block %d, %s: booked %d, share %d", block, id, booked, share.Capacity)
			}
			total += booked
		}
		sum := 0
		for _, p := range parts {
			sum += p
		}
		if sum != capacity || total != capacity {
			t.Fatalf("block %d: shares %v (sum %d), booked %d, capacity %d", block, parts, sum, total, capacity)
		}
		e.wantBooked(sl, capacity)
	}

	// A slot of the day nobody of the digit windows took: from release_at
	// the catch-up window takes it whole.
	sl := booking.Slot{ClinicID: clinicSmall, Date: date(2021, 8, 24), Block: 2}
	e.clk.Set(c.Shares.ReleaseAt)
	for i := range e.avail.Capacity(sl) {
		sess := e.verify(newPerson(5000+i, date(1975, 3, 3)))
		if _, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: sl.ClinicID, Date: sl.Date, Block: sl.Block}); err != nil {
			t.Fatalf("catch-up booking %d after release: %v", i, err)
		}
	}
	e.wantBooked(sl, e.avail.Capacity(sl))
}
