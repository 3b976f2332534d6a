package booking

import (
	"context"
	"crypto/hmac"
	"fmt"
	"hash/fnv"
	"time"
)

// Lookup returns a booking of this campaign by number, if name and RRN
// match it. An unknown number and a mismatch both give ErrNotFound, so the
// answer never tells which. A malformed name or RRN gives its *InputError
// (it reveals nothing about the booking). Cancelled bookings are returned
// too (Status tells).
func (s *Service) Lookup(ctx context.Context, name, rrn, number string) (Booking, error) {
	name, r, err := parseNameRRN(name, rrn)
	if err != nil {
		return Booking{}, err
	}
	number = normalizeNumber(number)
	if number == "" {
		return Booking{}, ErrNotFound
	}
	b, err := s.store.Get(ctx, number)
	if err != nil {
		return Booking{}, err
	}
	key := PersonKey(s.secret, r)
	if !hmac.Equal([]byte(key), []byte(b.PersonKey)) || name != b.Name || b.CampaignID != s.campaign.ID {
		return Booking{}, ErrNotFound
	}
	return b, nil
}

// BookingOf returns the booking of the person a booking session verified,
// if they have one that is not cancelled (ErrNotFound if not;
// ErrSessionExpired without the session). With it a person who already
// booked is told so at once, and one who lost their booking number finds
// it by verifying their identity again.
func (s *Service) BookingOf(ctx context.Context, sessionID string) (Booking, error) {
	sess, ok := s.Session(sessionID)
	if !ok {
		return Booking{}, ErrSessionExpired
	}
	return s.store.ActiveBooking(ctx, s.campaign.ID, sess.PersonKey)
}

// ChangeDeadline returns the instant from which a booking can no longer be
// cancelled or changed online: 00:00 Seoul of the day before its next
// appointment (the first dose, or the second once the first dose's date has
// passed). Cancelling and changing are allowed while now is before it, i.e.
// until 23:59:59 two days before the appointment date. ok is false when
// both appointment dates have passed.
func ChangeDeadline(b Booking, now time.Time) (deadline time.Time, ok bool) {
	today := DateOf(now)
	for _, a := range [2]Appointment{b.Dose1, b.Dose2} {
		if !a.Date.Before(today) {
			return a.Date.AddDays(-1).Time(), true
		}
	}
	return time.Time{}, false
}

// Cancel cancels a booking (both doses) identified like Lookup, frees both
// places and writes a "cancel" message. Errors: those of Lookup,
// ErrCancelled, ErrTooLate (see ChangeDeadline).
func (s *Service) Cancel(ctx context.Context, name, rrn, number string) (Booking, error) {
	b, now, unlock, err := s.openForChange(ctx, name, rrn, number)
	defer unlock()
	if err != nil {
		return Booking{}, err
	}
	notice := Message{
		BookingNumber: b.Number,
		Kind:          "cancel",
		To:            b.Phone,
		Body:          s.cancelText(b),
		CreatedAt:     now,
	}
	got, err := s.store.Cancel(ctx, b.Number, notice, now)
	if err != nil {
		return Booking{}, err
	}
	s.avail.Add(got.Dose1.Slot, -1)
	s.avail.Add(got.Dose2.Slot, -1)
	s.gen.Add(1)
	s.log.Info("cancelled", "number", got.Number, "cohort", got.CohortID)
	return got, nil
}

// Change moves a booking identified like Lookup to a new first-dose slot
// (any clinic offering the booked vaccine), with a new second dose chosen as
// in Book, and writes a "change" message. It is refused with ErrTooLate
// once the first dose's date has passed (the second dose alone cannot be
// moved online) or from ChangeDeadline on. The new slot is checked as in
// Book (ErrClinicNotFound, ErrInvalidSlot, ErrPastDate, ErrBeyondHorizon,
// ErrClinicClosed, ErrVaccineNotOffered, ErrSlotFull, ErrNoSecondDose);
// eligibility is not checked again.
func (s *Service) Change(ctx context.Context, name, rrn, number string, newClinicID int64, newDate Date, newBlock TimeBlock) (Booking, error) {
	b, now, unlock, err := s.openForChange(ctx, name, rrn, number)
	defer unlock()
	if err != nil {
		return Booking{}, err
	}
	if b.Dose1.Date.Before(DateOf(now)) {
		return Booking{}, ErrTooLate
	}
	clinic, err := s.checkSlot(newClinicID, newDate, newBlock, now)
	if err != nil {
		return Booking{}, err
	}
	v := s.campaign.Vaccine(b.VaccineID)
	if v == nil {
		return Booking{}, fmt.Errorf("%w: %q is not a vaccine of this campaign", ErrVaccineNotOffered, b.VaccineID)
	}
	if !clinic.Offers(v.ID) {
		return Booking{}, fmt.Errorf("%w: %s is not given at this clinic", ErrVaccineNotOffered, v.NameEN)
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: newDate, Block: newBlock}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	if dose1 != b.Dose1.Slot && s.avail.Free(dose1) <= 0 {
		return Booking{}, fmt.Errorf("%v: %w", dose1, ErrSlotFull)
	}
	if !s.anyFree(cands, b.Dose2.Slot) {
		return Booking{}, ErrNoSecondDose
	}
	got, err := s.store.Change(ctx, ChangeRequest{
		Number:          b.Number,
		NewDose1:        dose1,
		Dose2Candidates: cands,
		SlotCapacity:    s.avail.Capacity,
		Notice: Message{
			BookingNumber: b.Number,
			Kind:          "change",
			To:            b.Phone,
			Body:          s.changeText(b.Number, clinic, v, dose1),
			CreatedAt:     now,
		},
		Now: now,
	})
	if err != nil {
		return Booking{}, err
	}
	s.avail.Add(b.Dose1.Slot, -1)
	s.avail.Add(b.Dose2.Slot, -1)
	s.avail.Add(got.Dose1.Slot, 1)
	s.avail.Add(got.Dose2.Slot, 1)
	s.gen.Add(1)
	s.log.Info("changed", "number", got.Number, "cohort", got.CohortID,
		"clinic", got.Dose1.ClinicID, "dose1", got.Dose1.Date.String(), "dose2", got.Dose2.Date.String())
	return got, nil
}

// openForChange takes the booking number's lock (unlock gives it back,
// also after an error), looks the booking up like Lookup and checks that it
// may still be changed or cancelled online at now, the server clock: not
// cancelled (ErrCancelled) and before ChangeDeadline (ErrTooLate).
func (s *Service) openForChange(ctx context.Context, name, rrn, number string) (b Booking, now time.Time, unlock func(), err error) {
	unlock = s.lockNumber(number)
	now = s.clock.Now()
	if b, err = s.Lookup(ctx, name, rrn, number); err != nil {
		return Booking{}, now, unlock, err
	}
	if b.Status == StatusCancelled {
		return Booking{}, now, unlock, ErrCancelled
	}
	if dl, ok := ChangeDeadline(b, now); !ok || !now.Before(dl) {
		return Booking{}, now, unlock, ErrTooLate
	}
	return b, now, unlock, nil
}

// lockNumber serialises Change and Cancel of one booking on this node, so
// the availability index moves by exactly what the store did.
func (s *Service) lockNumber(number string) func() {
	h := fnv.New32a()
	h.Write([]byte(normalizeNumber(number)))
	m := &s.numLocks[h.Sum32()%uint32(len(s.numLocks))]
	m.Lock()
	return m.Unlock
}
