package storecheck

import (
	"fmt"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Places is what a store does in its open transaction to hold the places of
// a booking, each step with the store's own SQL and locks. HoldBooking and
// HoldChange decide the steps and their order, so that every store refuses
// a request with the same error.
type Places interface {
	// TakeLeftover books one dose of leftover id, if some is left and its
	// time is not over at now (else booking.ErrLeftoverGone).
	TakeLeftover(id int64, now time.Time) error
	// TryTake holds one place at slot if it has fewer than c bookings
	// (ok).
	TryTake(slot booking.Slot, c int) (ok bool, err error)
	// ShareBooked counts the active bookings at slot in share key, other
	// than booking except, as they are while no booking at slot can commit.
	ShareBooked(slot booking.Slot, key, except string) (int, error)
	// TakeDose2 holds the first candidate with room (else
	// booking.ErrNoSecondDose).
	TakeDose2(candidates []booking.Slot, capacity func(booking.Slot) int) (booking.Slot, error)
}

// beyondCapacity is the capacity a leftover first dose is counted against
// at its slot: none to check.
func beyondCapacity(booking.Slot) int { return 1 << 30 }

// takeSlot holds one place at slot if it has fewer bookings than
// capacity(slot) (else booking.ErrSlotFull).
func takeSlot(p Places, slot booking.Slot, capacity func(booking.Slot) int) error {
	ok, err := p.TryTake(slot, capacity(slot))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", slot, booking.ErrSlotFull)
	}
	return nil
}

// checkShare refuses (booking.ErrSlotFull) a booking at slot, or the move
// of booking except to it, once its share sh of the slot holds its
// capacity of other active bookings; nil sh: no share, nothing to check.
func checkShare(p Places, slot booking.Slot, sh *booking.ShareLimit, except string) error {
	if sh == nil {
		return nil
	}
	n, err := p.ShareBooked(slot, sh.Key, except)
	if err != nil {
		return err
	}
	if n >= sh.Capacity {
		return fmt.Errorf("%s: share %s: %w", slot, sh.Key, booking.ErrSlotFull)
	}
	return nil
}

// HoldBooking holds the places of new booking b: its first dose's slot (a
// leftover dose counted beyond the slot's capacity), its place in the
// request's share of that slot, and a second dose, which it writes into b.
// Errors a person can meet pass through refuse (see Refusal).
func HoldBooking(p Places, req *booking.BookRequest, b *booking.Booking, refuse func(error) error) error {
	if req.LeftoverID != 0 {
		if err := p.TakeLeftover(req.LeftoverID, b.CreatedAt); err != nil {
			return refuse(err)
		}
		if err := takeSlot(p, b.Dose1.Slot, beyondCapacity); err != nil {
			return err
		}
	} else if err := takeSlot(p, b.Dose1.Slot, req.SlotCapacity); err != nil {
		return refuse(err)
	}
	if err := checkShare(p, b.Dose1.Slot, req.Share, ""); err != nil {
		return refuse(err)
	}
	dose2, err := p.TakeDose2(req.Dose2Candidates, req.SlotCapacity)
	if err != nil {
		return refuse(err)
	}
	b.Dose2 = booking.Appointment{Slot: dose2, Dose: 2}
	return nil
}

// HoldChange holds the places of booking b moved by req, whose old places
// the store has given back: the new first dose's slot, its place in the
// request's share of it and a second dose. It writes them, the share and
// the time of the change into b.
func HoldChange(p Places, req *booking.ChangeRequest, b *booking.Booking, now time.Time) error {
	if err := takeSlot(p, req.NewDose1, req.SlotCapacity); err != nil {
		return err
	}
	if err := checkShare(p, req.NewDose1, req.Share, b.Number); err != nil {
		return err
	}
	dose2, err := p.TakeDose2(req.Dose2Candidates, req.SlotCapacity)
	if err != nil {
		return err
	}
	b.Dose1 = booking.Appointment{Slot: req.NewDose1, Dose: 1}
	b.Dose2 = booking.Appointment{Slot: dose2, Dose: 2}
	b.ShareKey = ShareKeyOf(req.Share)
	b.UpdatedAt = now
	return nil
}

// InsertNumbered inserts booking b with insert, which reports whether b's
// number is taken already (inserting nothing). A number the store draws
// (b.Number "" on entry, newNumber) is drawn again, up to nine times; a
// number the caller chose that is taken is refused (ErrInvalid).
func InsertNumbered(b *booking.Booking, newNumber func() string, insert func() (taken bool, err error)) error {
	generated := b.Number == ""
	for attempt := 1; ; attempt++ {
		if generated {
			b.Number = newNumber()
		}
		taken, err := insert()
		if err != nil || !taken {
			return err
		}
		if !generated {
			return fmt.Errorf("%w: booking number %q already exists", ErrInvalid, b.Number)
		}
		if attempt >= 9 {
			return fmt.Errorf("no unused booking number after %d attempts", attempt)
		}
	}
}
