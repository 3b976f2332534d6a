package booking

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/randid"
)

// Leftover doses (잔여백신): from late May 2021 a clinic with doses left at
// the end of a day (an opened vial, a no-show) could offer them, and
// verified people nearby booked them first come, first served, for the
// same day. A leftover booking is a first dose like any other: the second
// dose is booked with it, and one booking per person still holds.

// A Leftover is a clinic's offer of leftover doses for one day.
type Leftover struct {
	ID        int64     `json:"id"`
	ClinicID  int64     `json:"clinic_id"`
	VaccineID string    `json:"vaccine_id"`
	Date      Date      `json:"date"`
	Doses     int       `json:"doses"`
	Booked    int       `json:"booked"`
	Until     time.Time `json:"until"` // bookable until (the same day)
	PostedAt  time.Time `json:"posted_at"`
}

// Left is how many doses may still be booked.
func (l Leftover) Left() int { return max(l.Doses-l.Booked, 0) }

// A ClinicToken is a clinic's credential for posting leftovers: the store
// keeps only the SHA-256 of the token, which the operator hands to the
// clinic once.
type ClinicToken struct {
	Hash      string // hex SHA-256 of the token
	ClinicID  int64
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// Limits of a leftover offer.
const (
	MaxLeftoverDoses = 100
	maxClinicToken   = 128
)

// clinicTokenPrefix marks a clinic credential ("sct_..."), so that one
// pasted in the wrong place is recognised.
const clinicTokenPrefix = "sct_"

// HashClinicToken is what the store keeps of a clinic credential.
func HashClinicToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// IssueClinicToken makes a new credential for a clinic and returns it: the
// only time it is seen in clear (the store keeps its hash).
func (s *Service) IssueClinicToken(ctx context.Context, clinicID int64) (_ string, err error) {
	defer s.noteStore(&err)
	if _, ok := s.avail.Clinic(clinicID); !ok {
		return "", ErrClinicNotFound
	}
	token := clinicTokenPrefix + randid.New(24)
	if err := s.store.PutClinicToken(ctx, ClinicToken{Hash: HashClinicToken(token), ClinicID: clinicID, CreatedAt: s.clock.Now()}); err != nil {
		return "", err
	}
	s.log.Info("clinic token issued", "clinic", clinicID)
	return token, nil
}

// RevokeClinicTokens revokes every credential of a clinic; it returns how
// many were valid.
func (s *Service) RevokeClinicTokens(ctx context.Context, clinicID int64) (_ int, err error) {
	defer s.noteStore(&err)
	if _, ok := s.avail.Clinic(clinicID); !ok {
		return 0, ErrClinicNotFound
	}
	n, err := s.store.RevokeClinicTokens(ctx, clinicID, s.clock.Now())
	if err == nil {
		s.log.Info("clinic tokens revoked", "clinic", clinicID, "revoked", n)
	}
	return n, err
}

// ClinicOf returns the clinic a credential belongs to (ErrClinicToken if
// it is unknown or revoked).
func (s *Service) ClinicOf(ctx context.Context, token string) (_ *Clinic, err error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, clinicTokenPrefix) || len(token) > maxClinicToken {
		return nil, ErrClinicToken
	}
	defer s.noteStore(&err)
	t, err := s.store.ClinicToken(ctx, HashClinicToken(token))
	if err != nil {
		return nil, err
	}
	if !t.RevokedAt.IsZero() {
		return nil, ErrClinicToken
	}
	c, ok := s.avail.Clinic(t.ClinicID)
	if !ok {
		return nil, ErrClinicToken
	}
	return c, nil
}

// LeftoverInput is a clinic's offer as posted.
type LeftoverInput struct {
	VaccineID string    `json:"vaccine_id"`
	Doses     int       `json:"doses"`
	Until     time.Time `json:"until"`
}

// PostLeftover records leftover doses of today at the credential's clinic.
// The vaccine must be one the clinic gives and the programme offers;
// doses 1 to MaxLeftoverDoses; until later than now and today (Seoul).
func (s *Service) PostLeftover(ctx context.Context, token string, in LeftoverInput) (_ Leftover, err error) {
	c, err := s.ClinicOf(ctx, token)
	if err != nil {
		return Leftover{}, err
	}
	defer s.noteStore(&err)
	now := s.clock.Now()
	switch {
	case s.programme.Vaccine(in.VaccineID) == nil || !c.Offers(in.VaccineID):
		return Leftover{}, fmt.Errorf("%w: %q is not given at this clinic", ErrVaccineNotOffered, in.VaccineID)
	case in.Doses < 1 || in.Doses > MaxLeftoverDoses:
		return Leftover{}, fmt.Errorf("%w: doses must be 1 to %d", ErrInvalidRequest, MaxLeftoverDoses)
	case !in.Until.After(now) || DateOf(in.Until) != DateOf(now):
		return Leftover{}, fmt.Errorf("%w: until must be later today", ErrInvalidRequest)
	}
	l, err := s.store.PostLeftover(ctx, Leftover{ClinicID: c.ID, VaccineID: in.VaccineID, Date: DateOf(now),
		Doses: in.Doses, Until: in.Until.In(Seoul), PostedAt: now})
	if err == nil {
		s.log.Info("leftover doses posted", "clinic", c.ID, "vaccine", l.VaccineID, "doses", l.Doses)
	}
	return l, err
}

// LeftoversNear lists today's leftover doses still bookable now (some
// left, until later than now), newest first; in a district if district is
// not "" (then in its region if none is there). A leftover is offered
// only to people whose cohort is offered its vaccine: that is checked on
// booking.
func (s *Service) LeftoversNear(ctx context.Context, district string) (_ []Leftover, err error) {
	defer s.noteStore(&err)
	now := s.clock.Now()
	all, err := s.store.Leftovers(ctx, DateOf(now))
	if err != nil {
		return nil, err
	}
	var open []Leftover
	for _, l := range all {
		if l.Left() > 0 && l.Until.After(now) {
			open = append(open, l)
		}
	}
	if district == "" {
		return open, nil
	}
	var inDistrict, inRegion []Leftover
	for _, l := range open {
		c, ok := s.avail.Clinic(l.ClinicID)
		switch {
		case !ok:
		case c.DistrictCode == district:
			inDistrict = append(inDistrict, l)
		case len(district) >= 2 && c.RegionCode == district[:2]:
			inRegion = append(inRegion, l)
		}
	}
	if len(inDistrict) > 0 {
		return inDistrict, nil
	}
	return inRegion, nil
}

// ClinicDay is a clinic's view of today: its leftover offers and the
// people coming for a first dose (masked), by time block.
type ClinicDay struct {
	Clinic    *Clinic
	Date      Date
	Leftovers []Leftover
	Coming    []ComingPerson
}

// ComingPerson is one person booked for a first dose at a clinic.
type ComingPerson struct {
	Number  string    `json:"booking_number"`
	Name    string    `json:"name"`  // masked: 김*수
	Phone   string    `json:"phone"` // masked
	Block   TimeBlock `json:"block"`
	Vaccine string    `json:"vaccine_id"`
}

// ClinicToday returns the credential's clinic's day.
func (s *Service) ClinicToday(ctx context.Context, token string) (_ ClinicDay, err error) {
	c, err := s.ClinicOf(ctx, token)
	if err != nil {
		return ClinicDay{}, err
	}
	defer s.noteStore(&err)
	today := DateOf(s.clock.Now())
	d := ClinicDay{Clinic: c, Date: today}
	all, err := s.store.Leftovers(ctx, today)
	if err != nil {
		return ClinicDay{}, err
	}
	for _, l := range all {
		if l.ClinicID == c.ID {
			d.Leftovers = append(d.Leftovers, l)
		}
	}
	bs, err := s.store.BookingsAt(ctx, c.ID, today)
	if err != nil {
		return ClinicDay{}, err
	}
	for _, b := range bs {
		d.Coming = append(d.Coming, ComingPerson{Number: b.Number, Name: MaskName(b.Name), Phone: MaskPhone(b.Phone),
			Block: b.Dose1.Block, Vaccine: b.VaccineID})
	}
	sort.SliceStable(d.Coming, func(i, j int) bool { return d.Coming[i].Block < d.Coming[j].Block })
	return d, nil
}

// MaskName hides the middle of a name: 김민수 -> 김*수, 이준 -> 이*.
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0:
		return ""
	case 1, 2:
		return string(r[:1]) + "*"
	}
	return string(r[:1]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1:])
}

// BookLeftover books one of a leftover offer's doses for the session's
// person, first come, first served: the first dose today at that clinic
// (in the time block when the offer ends, or the current one), the second
// as for any booking. The person must be in a cohort of the programme
// offered the vaccine, but need not be in an open window (leftovers were
// for anyone of the programme's ages). Errors as Book's, and
// ErrLeftoverGone.
func (s *Service) BookLeftover(ctx context.Context, sessionID string, leftoverID int64) (_ Booking, err error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return Booking{}, err
	}
	defer s.noteStore(&err)
	now := s.clock.Now()
	var l Leftover
	all, err := s.store.Leftovers(ctx, DateOf(now))
	if err != nil {
		return Booking{}, err
	}
	for _, x := range all {
		if x.ID == leftoverID {
			l = x
		}
	}
	if l.ID == 0 || l.Left() <= 0 || !l.Until.After(now) {
		return Booking{}, ErrLeftoverGone
	}
	camp, co := s.programme.CohortOf(sess.BirthDate)
	if co == nil {
		return Booking{}, &NotEligibleError{Eligibility: s.programme.Eligibility(sess.BirthDate, now)}
	}
	clinic, ok := s.avail.Clinic(l.ClinicID)
	if !ok {
		return Booking{}, ErrClinicNotFound
	}
	v, err := chooseVaccine(camp, co, clinic, l.VaccineID)
	if err != nil {
		return Booking{}, err
	}
	dose1 := Slot{ClinicID: clinic.ID, Date: l.Date, Block: leftoverBlock(l.Date, now, l.Until)}
	cands := s.dose2Candidates(clinic, v, dose1)
	if len(cands) == 0 {
		return Booking{}, ErrNoSecondDose
	}
	number := NewBookingNumber()
	b := Booking{Number: number, CampaignID: camp.ID, CohortID: co.ID, VaccineID: v.ID, PersonKey: sess.PersonKey,
		Name: sess.Name, Phone: sess.Phone, BirthDate: sess.BirthDate, BookedBy: sess.PersonKey,
		Dose1: Appointment{Slot: dose1, Dose: 1}, CreatedAt: now, UpdatedAt: now}
	got, err := s.store.Book(ctx, BookRequest{Booking: b, Dose2Candidates: cands, SlotCapacity: s.avail.Capacity, LeftoverID: l.ID,
		Confirmation: messageAbout(b, "confirmation", s.confirmationText(number, clinic, v, dose1), now)})
	if err != nil {
		if errors.Is(err, ErrAlreadyBooked) {
			if prev, perr := s.store.ActiveBooking(ctx, sess.PersonKey); perr == nil {
				return Booking{}, &AlreadyBookedError{Booking: prev}
			}
		}
		return Booking{}, err
	}
	s.placesMoved(Booking{}, got)
	s.log.Info("leftover booked", "number", got.Number, "clinic", clinic.ID, "leftover", l.ID)
	return got, nil
}

// leftoverBlock is the time block of a leftover first dose: the block now
// is in, if the clinic day has started, else the first; never after the
// block the offer ends in.
func leftoverBlock(day Date, now, until time.Time) TimeBlock {
	b := TimeBlock(0)
	for b+1 < BlocksPerDay && !BlockStart(day, b+1).After(now) {
		b++
	}
	for b > 0 && !BlockStart(day, b).Before(until) {
		b--
	}
	return b
}
