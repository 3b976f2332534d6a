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

// A change counts against the person's window share of the new slot as a
// booking does, and the search's share counts follow changes and
// cancellations at once, not at the next reload.
func TestSharesFollowChangesAndCancels(t *testing.T) {
	e := newEnv(t, "2021-08-18-49", time.Date(2021, 8, 9, 21, 0, 0, 0, booking.Seoul), nil)
	c := e.svc.Programme().Campaign("2021-08-18-49")
	_, w := windowByID(c, "day-09")
	now := e.clk.Now()
	// clinicSmall has 8 places a block for ten windows: day-09 has one
	// place at some blocks, none at others.
	day := date(2021, 8, 23)
	var one []booking.Slot
	var none booking.Slot
	for d := range 4 {
		for b := range booking.BlocksPerDay {
			sl := slot(clinicSmall, day.AddDays(d), booking.TimeBlock(b))
			sh, ok := c.ShareFor(w, sl, e.avail.Capacity(sl), now)
			switch {
			case !ok:
				t.Fatalf("%v: no share for day-09", sl)
			case sh.Capacity == 1:
				one = append(one, sl)
			case sh.Capacity == 0:
				none = sl
			}
		}
	}
	if len(one) < 3 || none == (booking.Slot{}) {
		t.Fatalf("want three slots with a share of one and one with none; have %v and %v", one, none)
	}
	a, b, cc := one[0], one[1], one[2]
	people := []person{newPerson(1, date(1990, 3, 9)), newPerson(2, date(1985, 7, 19)), newPerson(3, date(1979, 1, 29))}
	sess1, sess2 := e.verify(people[0]), e.verify(people[1])
	view := e.svc.ShareView(e.svc.Programme().Eligibility(date(1990, 3, 9), now), now)
	freeIn := func(view func(*booking.ClinicAvailability), sl booking.Slot) int {
		t.Helper()
		for _, ca := range e.avail.Search(booking.SearchQuery{DistrictCode: "11680", Date: sl.Date}) {
			if ca.Clinic.ID == sl.ClinicID {
				view(&ca)
				return ca.Free[sl.Block]
			}
		}
		t.Fatalf("%v not found", sl)
		return 0
	}
	free := func(sl booking.Slot) int { t.Helper(); return freeIn(view, sl) }
	change := func(p person, number string, to booking.Slot) (booking.Booking, error) {
		return e.svc.Change(ctx, ref(p.name, p.rrn, number), to, "")
	}

	b1 := e.book(sess1, a.ClinicID, a.Date, a.Block)
	b2 := e.book(sess2, b.ClinicID, b.Date, b.Block)
	if free(a) != 0 || free(b) != 0 || free(cc) != 1 {
		t.Fatalf("after booking: free %d %d %d, want 0 0 1", free(a), free(b), free(cc))
	}
	// The change pages show b2 what its window's share leaves it: nothing
	// at a or none, its own place at b.
	cv := e.svc.ChangeShareView(b2, now)
	if cv == nil {
		t.Fatal("no share view for moving a booking made in a share")
	}
	if freeIn(cv, a) != 0 || freeIn(cv, none) != 0 || freeIn(cv, b) != 1 || freeIn(cv, cc) != 1 {
		t.Fatalf("change view: free %d at a, %d at none, %d at its own slot, %d at cc; want 0 0 1 1",
			freeIn(cv, a), freeIn(cv, none), freeIn(cv, b), freeIn(cv, cc))
	}
	// Into a used-up share, or a slot without one: refused, though the
	// slots have room.
	_, err := change(people[1], b2.Number, a)
	wantErr(t, "change into a used-up share", err, booking.ErrSlotFull)
	_, err = change(people[1], b2.Number, none)
	wantErr(t, "change into a slot without a share for the window", err, booking.ErrSlotFull)
	// The store refuses it too, whatever this node's counts say.
	_, err = e.store.Change(ctx, booking.ChangeRequest{Number: b2.Number, NewDose1: a,
		Dose2Candidates: []booking.Slot{slot(a.ClinicID, a.Date.AddDays(42), a.Block)}, SlotCapacity: e.avail.Capacity,
		Share: &booking.ShareLimit{Key: b2.ShareKey, Capacity: 1}, Notice: booking.Message{Body: "x"}, Now: now})
	wantErr(t, "store change into a used-up share", err, booking.ErrSlotFull)

	// Out of a: a's share is free at once, then taken by b2.
	if _, err := change(people[0], b1.Number, cc); err != nil {
		t.Fatalf("change into a free share: %v", err)
	}
	if free(a) != 1 || free(cc) != 0 {
		t.Fatalf("after the change: free at the old slot %d, at the new %d; want 1 and 0", free(a), free(cc))
	}
	if _, err := change(people[1], b2.Number, a); err != nil {
		t.Fatalf("change into a share freed by a change: %v", err)
	}
	if free(a) != 0 || free(b) != 1 {
		t.Fatalf("after the second change: free %d at a, %d at b; want 0 and 1", free(a), free(b))
	}
	// A cancellation frees the share at once.
	if _, err := e.svc.Cancel(ctx, ref(people[1].name, people[1].rrn, b2.Number), ""); err != nil {
		t.Fatal(err)
	}
	if free(a) != 1 {
		t.Fatalf("after the cancellation: free %d at a, want 1", free(a))
	}
	// The same counts as the store's after a reload.
	before := []int{free(a), free(b), free(cc), free(none)}
	if err := e.svc.ResyncAvailability(ctx); err != nil {
		t.Fatal(err)
	}
	if after := []int{free(a), free(b), free(cc), free(none)}; fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("free places %v before the reload, %v after", before, after)
	}

	// From release_at a change is limited by the slot only, and leaves
	// the shares.
	e.clk.Set(c.Shares.ReleaseAt)
	moved, err := change(people[0], b1.Number, none)
	if err != nil {
		t.Fatalf("change after release: %v", err)
	}
	if moved.ShareKey != "" {
		t.Fatalf("changed after release: share %q, want none", moved.ShareKey)
	}
	if e.svc.ChangeShareView(moved, c.Shares.ReleaseAt) != nil {
		t.Fatal("a share view for moving a booking without a share")
	}
	if free(cc) != 1 {
		t.Fatalf("the share left after release: free %d, want 1", free(cc))
	}
}
