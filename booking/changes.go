package booking

import (
	"context"
	"crypto/hmac"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/sluicehq/sluice/internal/randid"
)

// Lookup returns a booking of this campaign by number, if name and RRN
// match it. An unknown number and a mismatch both give ErrNotFound, so the
// answer never tells which. A malformed name or RRN gives its *InputError
// (it reveals nothing about the booking). Cancelled bookings are returned
// too (Status tells).
func (s *Service) Lookup(ctx context.Context, name, rrn, number string) (_ Booking, err error) {
	defer s.noteStore(&err)
	o, err := s.owner(ctx, BookingRef{Name: name, RRN: rrn, Number: number})
	if err != nil {
		return Booking{}, err
	}
	return s.ownBooking(ctx, o)
}

// BookingRef is how a person shows that a booking is theirs: its number
// with their name and RRN as typed (the API), or Grant, the token of a
// recent look-up (GrantLookup: the pages' change and cancel steps, which
// never carry the RRN).
type BookingRef struct {
	Name, RRN, Number string
	Grant             string
}

// LookupGrantTTL is how long a look-up grant lasts.
const LookupGrantTTL = 10 * time.Minute

// bookingOwner is a person who showed a booking number is theirs, not yet
// checked against the booking.
type bookingOwner struct {
	personKey, number string
	name              string // "" for a grant: its name was checked when it was made
}

// grantData is a look-up grant's sealed content.
type grantData struct {
	PersonKey string `json:"k"`
	Number    string `json:"n"`
}

// GrantLookup records that the person looked up booking b (found by
// Lookup) and returns a token, valid for LookupGrantTTL on any node, that
// stands for their name and RRN in Change, Cancel and Granted: the pages
// keep the token in a cookie, never the RRN. The store keeps neither the
// token (only its hash) nor the RRN (only the person key, sealed).
func (s *Service) GrantLookup(ctx context.Context, b Booking) (token string, expires time.Time, err error) {
	defer s.noteStore(&err)
	token = randid.New(24)
	id := StateID("lookup", token)
	expires = s.clock.Now().Add(LookupGrantTTL)
	sealed, err := s.sealJSON("lookup", id, "", grantData{PersonKey: b.PersonKey, Number: b.Number})
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.store.PutLookupGrant(ctx, id, sealed, expires); err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// Granted returns the booking a look-up grant stands for, read afresh
// (ErrLookupExpired if the grant is unknown or has expired).
func (s *Service) Granted(ctx context.Context, token string) (_ Booking, err error) {
	if token == "" {
		return Booking{}, ErrLookupExpired
	}
	defer s.noteStore(&err)
	o, err := s.owner(ctx, BookingRef{Grant: token})
	if err != nil {
		return Booking{}, err
	}
	return s.ownBooking(ctx, o)
}

// owner is the person a BookingRef names, and the booking number.
func (s *Service) owner(ctx context.Context, ref BookingRef) (bookingOwner, error) {
	if ref.Grant != "" {
		if len(ref.Grant) > maxTokenLen {
			return bookingOwner{}, ErrLookupExpired
		}
		id := StateID("lookup", ref.Grant)
		sealed, err := s.store.LookupGrant(ctx, id, s.clock.Now())
		if err != nil {
			return bookingOwner{}, err
		}
		var g grantData
		if err := s.openJSON("lookup", id, "", sealed, &g); err != nil {
			return bookingOwner{}, err
		}
		return bookingOwner{personKey: g.PersonKey, number: g.Number}, nil
	}
	name, r, err := parseNameRRN(ref.Name, ref.RRN)
	if err != nil {
		return bookingOwner{}, err
	}
	number := normalizeNumber(ref.Number)
	if number == "" {
		return bookingOwner{}, ErrNotFound
	}
	return bookingOwner{personKey: PersonKey(s.secret, r), number: number, name: name}, nil
}

// ownBooking reads the owner's booking: ErrNotFound unless it is theirs
// and of a campaign of the programme.
func (s *Service) ownBooking(ctx context.Context, o bookingOwner) (Booking, error) {
	b, err := s.store.Get(ctx, o.number)
	if err != nil {
		return Booking{}, err
	}
	if !hmac.Equal([]byte(o.personKey), []byte(b.PersonKey)) || o.name != "" && o.name != b.Name || s.programme.Campaign(b.CampaignID) == nil {
		return Booking{}, ErrNotFound
	}
	return b, nil
}

// BookingOf returns the booking of the person a booking session verified,
// if they have one that is not cancelled (ErrNotFound if not;
// ErrSessionExpired without the session). With it a person who already
// booked is told so at once, and one who lost their booking number finds
// it by verifying their identity again.
func (s *Service) BookingOf(ctx context.Context, sessionID string) (_ Booking, err error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return Booking{}, err
	}
	defer s.noteStore(&err)
	return s.store.ActiveBooking(ctx, sess.PersonKey)
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

// Cancel cancels a booking (both doses) identified by ref, frees both
// places and writes a "cancel" message. Errors: those of Lookup (or
// ErrLookupExpired), ErrCancelled, ErrTooLate (see ChangeDeadline). With
// an idempotency key, a cancel sent again returns the booking (cancelled)
// instead of ErrCancelled.
func (s *Service) Cancel(ctx context.Context, ref BookingRef, idempotencyKey string) (_ Booking, err error) {
	defer s.noteStore(&err)
	b, key, now, unlock, err := s.openForChange(ctx, ref, idempotencyKey, func(number string) []byte { return CancelHash(number) })
	defer unlock()
	if err != nil || key.replayed {
		return b, err
	}
	got, err := s.store.Cancel(ctx, CancelRequest{
		Number:         b.Number,
		Notice:         messageAbout(b, "cancel", s.cancelText(b), now),
		Now:            now,
		IdempotencyKey: key.scoped,
	})
	if err != nil {
		return Booking{}, err
	}
	if got.UpdatedAt.Equal(now) { // not the replay of a concurrent request
		s.placesMoved(got, Booking{})
		s.log.Info("cancelled", "number", got.Number, "cohort", got.CohortID)
	}
	return got, nil
}

// Change moves a booking identified by ref to a new first-dose slot (any
// clinic offering the booked vaccine), with a new second dose chosen as in
// Book, and writes a "change" message. It is refused with ErrTooLate once
// the first dose's date has passed (the second dose alone cannot be moved
// online) or from ChangeDeadline on. The new slot is checked as in Book
// (ErrClinicNotFound, ErrInvalidSlot, ErrPastDate, ErrBeyondHorizon,
// ErrClinicClosed, ErrVaccineNotOffered, ErrSlotFull, ErrNoSecondDose);
// eligibility is not checked again, but a booking made in a window with a
// share counts against that window's share of the new slot, as a booking
// made now would (ErrSlotFull when it is used up; none from release_at),
// and gives its place in the old slot's share back. With an idempotency key, a change sent
// again returns the booking as it is, changing nothing.
func (s *Service) Change(ctx context.Context, ref BookingRef, to Slot, idempotencyKey string) (_ Booking, err error) {
	defer s.noteStore(&err)
	b, key, now, unlock, err := s.openForChange(ctx, ref, idempotencyKey, func(number string) []byte {
		return ChangeHash(&ChangeRequest{Number: number, NewDose1: to})
	})
	defer unlock()
	if err != nil || key.replayed {
		return b, err
	}
	if b.Dose1.Date.Before(DateOf(now)) {
		return Booking{}, ErrTooLate
	}
	clinic, err := s.checkSlot(to.ClinicID, to.Date, to.Block, now)
	if err != nil {
		return Booking{}, err
	}
	v := s.programme.Campaign(b.CampaignID).Vaccine(b.VaccineID)
	if v == nil {
		return Booking{}, fmt.Errorf("%w: %q is not a vaccine of this campaign", ErrVaccineNotOffered, b.VaccineID)
	}
	if !clinic.Offers(v.ID) {
		return Booking{}, fmt.Errorf("%w: %s is not given at this clinic", ErrVaccineNotOffered, v.NameEN)
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: to.Date, Block: to.Block}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	if dose1 != b.Dose1.Slot && s.avail.Free(dose1) <= 0 {
		return Booking{}, fmt.Errorf("%v: %w", dose1, ErrSlotFull)
	}
	// The person's window's share of the new slot, as for a booking; the
	// booking's own place counts as free when it stays in its share.
	share := s.shareOfMove(b, dose1, now)
	if share != nil && (dose1 != b.Dose1.Slot || b.ShareKey != share.Key) && s.shares.get(share.Key, dose1) >= share.Capacity {
		return Booking{}, fmt.Errorf("%v: share %s: %w", dose1, share.Key, ErrSlotFull)
	}
	if !s.anyFree(cands, b.Dose2.Slot) {
		return Booking{}, ErrNoSecondDose
	}
	got, err := s.store.Change(ctx, ChangeRequest{
		Number:          b.Number,
		NewDose1:        dose1,
		Dose2Candidates: cands,
		SlotCapacity:    s.avail.Capacity,
		Share:           share,
		Notice:          messageAbout(b, "change", s.changeText(b.Number, clinic, v, dose1), now),
		Now:             now,
		IdempotencyKey:  key.scoped,
	})
	if err != nil {
		return Booking{}, err
	}
	if got.UpdatedAt.Equal(now) { // not the replay of a concurrent request
		s.placesMoved(b, got)
		s.log.Info("changed", "number", got.Number, "cohort", got.CohortID,
			"clinic", got.Dose1.ClinicID, "dose1", got.Dose1.Date.String(), "dose2", got.Dose2.Date.String())
	}
	return got, nil
}

// idempotency is a change or cancel request's key as the store keeps it,
// and whether the request was answered from it.
type idempotency struct {
	scoped   string // "" without a key
	replayed bool
}

// openForChange finds the booking ref names and takes its number's lock
// (unlock gives it back, also after an error). With an idempotency key
// whose request the store already holds, it returns the booking as it is
// (key.replayed). Otherwise it checks that the booking may still be
// changed or cancelled online at now, the server clock: not cancelled
// (ErrCancelled) and before ChangeDeadline (ErrTooLate).
func (s *Service) openForChange(ctx context.Context, ref BookingRef, idempotencyKey string, hash func(number string) []byte) (b Booking, key idempotency, now time.Time, unlock func(), err error) {
	unlock = func() {}
	if err := checkIdempotencyKey(idempotencyKey); err != nil {
		return Booking{}, key, now, unlock, err
	}
	o, err := s.owner(ctx, ref)
	if err != nil {
		return Booking{}, key, now, unlock, err
	}
	unlock = s.lockNumber(o.number)
	now = s.clock.Now()
	if b, err = s.ownBooking(ctx, o); err != nil {
		return Booking{}, key, now, unlock, err
	}
	if idempotencyKey != "" {
		key.scoped = scopedKey(o.personKey, idempotencyKey)
		prev, found, err := s.store.Replay(ctx, key.scoped, hash(b.Number))
		if err != nil || found {
			key.replayed = found
			return prev, key, now, unlock, err
		}
	}
	if b.Status == StatusCancelled {
		return Booking{}, key, now, unlock, ErrCancelled
	}
	if dl, ok := ChangeDeadline(b, now); !ok || !now.Before(dl) {
		return Booking{}, key, now, unlock, ErrTooLate
	}
	return b, key, now, unlock, nil
}

// lockNumber serialises Change and Cancel of one booking on this node, so
// the availability index moves by exactly what the store did.
func (s *Service) lockNumber(number string) func() {
	h := fnv.New32a()
	h.Write([]byte(number))
	m := &s.numLocks[h.Sum32()%uint32(len(s.numLocks))]
	m.Lock()
	return m.Unlock
}
