package booking

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// PersonInput identifies the person a proxy booking is for.
type PersonInput struct {
	Name string `json:"name"`
	RRN  string `json:"rrn"`
	// Phone receives the messages; empty means the booker's phone.
	Phone string `json:"phone,omitempty"`
}

// BookInput is a booking request from a verified session.
type BookInput struct {
	SessionID string    `json:"session_id"`
	ClinicID  int64     `json:"clinic_id"`
	Date      Date      `json:"date"`
	Block     TimeBlock `json:"block"`
	// VaccineID is optional: empty means the first vaccine of the cohort's
	// preference order that the clinic offers.
	VaccineID string `json:"vaccine_id,omitempty"`
	// IdempotencyKey is optional: a retry with the same key from the same
	// person returns the first booking (one booking, one message).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// ForPerson books for someone else (only for cohorts with
	// ProxyBooking). Nil books for the session's own person.
	ForPerson *PersonInput `json:"for_person,omitempty"`
}

// bookee is the person a booking is for.
type bookee struct {
	personKey, name, phone string
	birth                  Date
}

// Book books a first dose at the requested slot and, in the same store
// transaction, the second dose at the same clinic.
//
// Checks, in order: the session (ErrSessionExpired); for a proxy booking
// the other person's input (*InputError), that they are another person
// (ErrProxySelf) and their cohort's policy (ErrProxyNotAllowed); eligibility now, by the server clock
// (*NotEligibleError); the clinic (ErrClinicNotFound); the slot
// (ErrInvalidSlot, ErrPastDate — today is allowed for blocks that start
// later than now —, ErrBeyondHorizon, ErrClinicClosed); the vaccine
// (ErrVaccineNotOffered); then a pre-check on the availability index that
// fails without touching the database (ErrSlotFull for the first dose,
// ErrNoSecondDose when no second-dose slot is free). Finally the store
// decides: its errors (ErrSlotFull, ErrNoSecondDose, ErrAlreadyBooked,
// ErrSupplyExhausted, ErrIdempotencyReuse, ...) are returned unchanged,
// except that a person refused because they already have a booking hears
// which (*AlreadyBookedError), so that someone whose answer was lost and
// who sent no idempotency key learns their booking number.
//
// Second-dose candidates are Vaccine.SecondDoseDates of the first-dose date
// at the same clinic, on days it is open, each date with the same block
// first, then the other blocks nearest first. The list does not depend on
// live counts, so an idempotent retry sends the same request.
func (s *Service) Book(ctx context.Context, in BookInput) (_ Booking, err error) {
	sess, err := s.Session(ctx, in.SessionID)
	if err != nil {
		return Booking{}, err
	}
	defer s.noteStore(&err)
	now := s.clock.Now()
	p := bookee{personKey: sess.PersonKey, name: sess.Name, phone: sess.Phone, birth: sess.BirthDate}
	if in.ForPerson != nil {
		var err error
		if p, err = s.proxyBookee(sess, in.ForPerson); err != nil {
			return Booking{}, err
		}
	}
	el := s.programme.Eligibility(p.birth, now)
	if in.ForPerson != nil && el.Cohort != nil && !el.Cohort.ProxyBooking {
		return Booking{}, ErrProxyNotAllowed
	}
	if !el.Eligible {
		return Booking{}, &NotEligibleError{Eligibility: el}
	}
	clinic, err := s.checkSlot(in.ClinicID, in.Date, in.Block, now)
	if err != nil {
		return Booking{}, err
	}
	v, err := chooseVaccine(el.Campaign, el.Cohort, clinic, in.VaccineID)
	if err != nil {
		return Booking{}, err
	}
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return Booking{}, err
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: in.Date, Block: in.Block}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	// Fail fast on the index. A request with an idempotency key goes to
	// the store anyway: it may be the retry of a booking that took the
	// last place.
	share := s.shareFor(el, dose1, now)
	if in.IdempotencyKey == "" {
		if s.avail.Free(dose1) <= 0 || share != nil && s.shares.get(share.Key, dose1) >= share.Capacity {
			return Booking{}, fmt.Errorf("%v: %w", dose1, ErrSlotFull)
		}
		if !s.anyFree(cands, Slot{}) {
			return Booking{}, ErrNoSecondDose
		}
	}

	number := NewBookingNumber()
	b := Booking{
		Number:     number,
		CampaignID: el.Campaign.ID,
		CohortID:   el.Cohort.ID,
		VaccineID:  v.ID,
		PersonKey:  p.personKey,
		Name:       p.name,
		Phone:      p.phone,
		BirthDate:  p.birth,
		BookedBy:   sess.PersonKey,
		Dose1:      Appointment{Slot: dose1, Dose: 1},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	req := BookRequest{
		Booking:         b,
		Dose2Candidates: cands,
		SlotCapacity:    s.avail.Capacity,
		Share:           share,
		Confirmation:    messageAbout(b, "confirmation", s.confirmationText(number, clinic, v, dose1), now),
	}
	if in.IdempotencyKey != "" {
		req.IdempotencyKey = scopedKey(sess.PersonKey, in.IdempotencyKey)
	}
	got, err := s.store.Book(ctx, req)
	if err != nil {
		s.log.Debug("booking refused", "campaign", el.Campaign.ID, "clinic", clinic.ID,
			"date", in.Date.String(), "block", int(in.Block), "err", err)
		if errors.Is(err, ErrAlreadyBooked) && p.personKey == sess.PersonKey {
			if prev, perr := s.store.ActiveBooking(ctx, p.personKey); perr == nil {
				return Booking{}, &AlreadyBookedError{Booking: prev}
			}
		}
		return Booking{}, err
	}
	if got.Number == number { // not the replay of an earlier request
		s.placesMoved(Booking{}, got)
		s.log.Info("booked", "number", got.Number, "cohort", got.CohortID, "vaccine", got.VaccineID,
			"clinic", got.Dose1.ClinicID, "dose1", got.Dose1.Date.String(), "dose2", got.Dose2.Date.String(),
			"proxy", got.BookedBy != got.PersonKey)
	}
	return got, nil
}

// proxyBookee validates the other person of a proxy booking. Naming
// oneself is refused (ErrProxySelf): it would book the verified person
// with a phone nobody verified.
func (s *Service) proxyBookee(sess Session, in *PersonInput) (bookee, error) {
	name, r, err := parseNameRRN(in.Name, in.RRN)
	if err != nil {
		return bookee{}, err
	}
	phone := sess.Phone
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = ParsePhone(in.Phone); err != nil {
			return bookee{}, err
		}
	}
	p := bookee{personKey: PersonKey(s.secret, r), name: name, phone: phone, birth: r.BirthDate}
	if p.personKey == sess.PersonKey {
		return bookee{}, ErrProxySelf
	}
	return p, nil
}

// checkSlot validates a first-dose slot against the clinic data and the
// clock.
func (s *Service) checkSlot(clinicID int64, d Date, b TimeBlock, now time.Time) (*Clinic, error) {
	clinic, ok := s.avail.Clinic(clinicID)
	if !ok {
		return nil, ErrClinicNotFound
	}
	if _, ok := NewDate(d.Year, d.Month, d.Day); !ok || d.Year < 1 || b < 0 || b >= BlocksPerDay {
		return nil, ErrInvalidSlot
	}
	today := DateOf(now)
	if d.Before(today) || d == today && !BlockStart(d, b).After(now) {
		return nil, ErrPastDate
	}
	if d.After(today.AddDays(s.horizonDays)) {
		return nil, fmt.Errorf("%w: book at most %d days ahead (until %s)", ErrBeyondHorizon, s.horizonDays, today.AddDays(s.horizonDays))
	}
	if clinic.Capacity(b, d) <= 0 {
		return nil, ErrClinicClosed
	}
	return clinic, nil
}

// chooseVaccine returns the vaccine asked for, or the first of the cohort's
// preference order that the clinic offers.
func chooseVaccine(c *Campaign, co *Cohort, clinic *Clinic, id string) (*Vaccine, error) {
	if id != "" {
		v := c.Vaccine(id)
		switch {
		case v == nil:
			return nil, fmt.Errorf("%w: %q is not a vaccine of this campaign", ErrVaccineNotOffered, id)
		case !co.Offers(id):
			return nil, fmt.Errorf("%w: %s is not offered to %s", ErrVaccineNotOffered, v.NameEN, co.NameEN)
		case !clinic.Offers(id):
			return nil, fmt.Errorf("%w: %s is not given at this clinic", ErrVaccineNotOffered, v.NameEN)
		}
		return v, nil
	}
	for _, v := range c.VaccinesFor(co) {
		if clinic.Offers(v.ID) {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w: this clinic gives none of the vaccines offered to %s", ErrVaccineNotOffered, co.NameEN)
}

// dose2Candidates lists the second-dose slots for a first dose, in order of
// preference (Dose2Candidates).
func (s *Service) dose2Candidates(clinic *Clinic, v *Vaccine, dose1 Slot) []Slot {
	return slices.Collect(Dose2Candidates(clinic, v, dose1))
}

// Dose2Candidates yields the second-dose slots for a first dose at clinic,
// in the order booking takes the first free one: the dates of v's interval
// (SecondDoseDates) the clinic is open, on each the first dose's block,
// then the blocks ever further from it, later first. From static data only
// (dates, opening days, capacity). The rehearsal (sim/rehearsal) books
// second doses in this order too, stopping at the first free one.
func Dose2Candidates(clinic *Clinic, v *Vaccine, dose1 Slot) iter.Seq[Slot] {
	return func(yield func(Slot) bool) {
		for _, d := range v.SecondDoseDates(dose1.Date) {
			if clinic.DayCapacity(d) <= 0 {
				continue
			}
			if !yield(Slot{ClinicID: clinic.ID, Date: d, Block: dose1.Block}) {
				return
			}
			for k := 1; k < BlocksPerDay; k++ {
				for _, b := range [2]TimeBlock{dose1.Block + TimeBlock(k), dose1.Block - TimeBlock(k)} {
					if b >= 0 && b < BlocksPerDay && !yield(Slot{ClinicID: clinic.ID, Date: d, Block: b}) {
						return
					}
				}
			}
		}
	}
}

// anyFree reports whether the index shows a free place in some candidate;
// freed counts as free (the slot a change releases).
func (s *Service) anyFree(cands []Slot, freed Slot) bool {
	for _, c := range cands {
		if c == freed || s.avail.Free(c) > 0 {
			return true
		}
	}
	return false
}

// BookableDates are the dates a first dose may be booked on at now, in
// order: from today while a block of today is still ahead (else from
// tomorrow) to the booking horizon (ServiceConfig.BookingHorizonDays),
// without Sundays, when no clinic vaccinates. Book refuses any other date
// (ErrPastDate, ErrBeyondHorizon, ErrClinicClosed).
func (s *Service) BookableDates(now time.Time) []Date {
	return AppendBookableDates(nil, now, s.horizonDays)
}

// AppendBookableDates appends to dst the dates BookableDates gives at now
// for a booking horizon of horizonDays: the one rule, which the rehearsal
// (sim/rehearsal) replays without a Service.
func AppendBookableDates(dst []Date, now time.Time, horizonDays int) []Date {
	today := DateOf(now)
	first := today
	if !BlockStart(today, BlocksPerDay-1).After(now) {
		first = today.AddDays(1)
	}
	last := today.AddDays(horizonDays)
	dst = slices.Grow(dst, max(first.DaysUntil(last)+1, 0))
	for d := first; !d.After(last); d = d.AddDays(1) {
		if d.Weekday() != time.Sunday {
			dst = append(dst, d)
		}
	}
	return dst
}

// BlockStart returns the instant block b starts on date d (Seoul).
func BlockStart(d Date, b TimeBlock) time.Time { return d.At(FirstBlockHour+int(b), 0) }

// placesMoved records in memory a change of places this node committed:
// the places booking from held are given back and those to holds are
// taken (a zero Booking: none), and the statistics cached from the old
// counts are stale.
func (s *Service) placesMoved(from, to Booking) {
	if from.Number != "" {
		s.countPlaces(from, -1)
	}
	if to.Number != "" {
		s.countPlaces(to, 1)
	}
	s.gen.Add(1)
}

// countPlaces moves the availability index and the share counts by n (1:
// booked, -1: given back) at the places booking b holds: both doses, and
// the place in its share of the first dose's slot if it has one.
func (s *Service) countPlaces(b Booking, n int) {
	s.avail.Add(b.Dose1.Slot, n)
	s.avail.Add(b.Dose2.Slot, n)
	s.shares.add(b.ShareKey, b.Dose1.Slot, n)
}
