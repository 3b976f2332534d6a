package rehearsal

import (
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// booker books through the real rules, in memory: eligibility by
// booking.Campaign.Eligibility, clinics and free places by
// booking.Availability.Search and Free, second doses by
// booking.Dose2Candidates (the order booking.Service tries them), and
// both doses taken with Availability.Add. It does not go through
// booking.Service (no store, no idempotency keys, no sessions, no vaccine
// supply): the night's question is whether the places and the rules hold,
// and a store in memory would measure SQLite rather than the night.
type booker struct {
	camp    *booking.Campaign
	cohort  *booking.Cohort
	av      *booking.Availability
	clinics []booking.Clinic
	homes   []int32 // clinics that give one of the cohort's vaccines
	horizon int
	vax     []*booking.Vaccine
	// The eligibility of a birth date, as the rule gave it, and until
	// when that answer holds (the window's close or the next window's
	// opening).
	memo []eligMemo // by dateIndex
	// Birth dates to draw from: the cohort's and the rest of 1935-2002.
	cohortDays, otherDays []booking.Date
	// The bookable dates of the day they were computed for.
	datesOf booking.Date
	dates   []booking.Date
	// Free first-dose places over dates, as of freeOf.
	freeOf booking.Date
	free   int
}

type eligMemo struct {
	asked bool
	ok    bool
	from  time.Time
	until time.Time // zero: for ever
}

func newBooker(sc *Scenario, seed uint64) (*booker, error) {
	camp, err := booking.ShippedCampaign(sc.Campaign.ID)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: campaign: %w", sc.Name, err)
	}
	co := camp.Cohort(sc.Campaign.Cohort)
	if co == nil {
		return nil, fmt.Errorf("scenario %s: campaign %s has no cohort %q", sc.Name, sc.Campaign.ID, sc.Campaign.Cohort)
	}
	clinics := booking.DefaultClinics()
	b := &booker{camp: camp, cohort: co, av: booking.NewAvailability(clinics), clinics: clinics,
		horizon: sc.Campaign.HorizonDays, vax: camp.VaccinesFor(co), memo: make([]eligMemo, 200*12*32)}
	for i := range clinics {
		if slices.ContainsFunc(b.vax, func(v *booking.Vaccine) bool { return clinics[i].Offers(v.ID) }) {
			b.homes = append(b.homes, int32(i))
		}
	}
	if len(b.homes) == 0 {
		return nil, fmt.Errorf("scenario %s: no clinic gives the vaccines of cohort %s", sc.Name, co.ID)
	}
	from, _ := booking.NewDate(1935, time.January, 1)
	to, _ := booking.NewDate(2002, time.December, 31)
	for d := from; !d.After(to); d = d.AddDays(1) {
		switch {
		case co.Contains(d):
			b.cohortDays = append(b.cohortDays, d)
		case !slices.ContainsFunc(camp.Cohorts, func(c booking.Cohort) bool { return c.Contains(d) }):
			b.otherDays = append(b.otherDays, d)
		}
	}
	return b, nil
}

// birth is a birth date drawn from h: in the cohort, or (ineligible)
// from 1935 to 2002 outside every cohort of the campaign.
func (b *booker) birth(h uint64, ineligible bool) booking.Date {
	if ineligible {
		return b.otherDays[h%uint64(len(b.otherDays))]
	}
	return b.cohortDays[h%uint64(len(b.cohortDays))]
}

// dateIndex is the memo's index of a birth date from 1900 to 2099.
func dateIndex(d booking.Date) int { return ((d.Year-1900)*12+int(d.Month)-1)*32 + d.Day }

// eligible asks the campaign's rule, once per birth date while its answer
// holds.
func (b *booker) eligible(birth booking.Date, now time.Time) bool {
	m := &b.memo[dateIndex(birth)]
	if m.asked && !now.Before(m.from) && (m.until.IsZero() || now.Before(m.until)) {
		return m.ok
	}
	el := b.camp.Eligibility(birth, now)
	*m = eligMemo{asked: true, ok: el.Eligible, from: now}
	switch {
	case el.Eligible && el.WindowClosesAt != nil:
		m.until = *el.WindowClosesAt
	case !el.Eligible && el.WindowOpensAt != nil && el.WindowOpensAt.After(now):
		m.until = *el.WindowOpensAt
	case el.NextWindowOpensAt != nil:
		m.until = *el.NextWindowOpensAt
	}
	return m.ok
}

// bookableDates are the first-dose dates at now (booking.Service's
// BookableDates), kept for the day.
func (b *booker) bookableDates(now time.Time) []booking.Date {
	today := booking.DateOf(now)
	if today == b.datesOf && b.dates != nil {
		return b.dates
	}
	b.dates = booking.AppendBookableDates(b.dates[:0], now, b.horizon)
	b.datesOf = today
	return b.dates
}

// book finds and takes a first and a second dose for a person whose
// choices come from h: at a clinic near home that gives the cohort's
// vaccines (drawn by h; clinics are spread by population), on the first
// date with room in the two weeks from the date they want (earlier dates
// are wanted more), as the clinic's dates page shows them
// (Availability.FreeDates); failing that, a search of the district, then
// of the region, on a few dates (Availability.Search).
func (b *booker) book(h uint64, now time.Time) bool {
	home := &b.clinics[b.homes[h%uint64(len(b.homes))]]
	dates := b.bookableDates(now)
	if len(dates) == 0 {
		return false
	}
	u := float64(h>>32&0xffff) / 65536
	first := int(u * u * float64(len(dates)))
	block := booking.TimeBlock(h >> 48 % booking.BlocksPerDay)
	for _, d := range b.av.FreeDates(home.ID, dates[first], dates[first].AddDays(13)) {
		if d.DayFree > 0 && b.take(booking.ClinicAvailability{Clinic: home, DayAvailability: d}, block) {
			return true
		}
	}
	for _, wide := range [2]bool{false, true} {
		for i := range min(len(dates), 7) {
			q := booking.SearchQuery{Date: dates[(first+i)%len(dates)], OnlyFree: true, Limit: 5}
			if wide {
				q.RegionCode = home.RegionCode
			} else {
				q.DistrictCode = home.DistrictCode
			}
			for _, ca := range b.av.Search(q) {
				if b.take(ca, block) {
					return true
				}
			}
		}
	}
	return false
}

// take books the first free block of a search result nearest the wanted
// one, with a vaccine of the cohort the clinic gives and a second dose
// in the first free place of its interval (Dose2Candidates), as
// booking.Service does.
func (b *booker) take(ca booking.ClinicAvailability, want booking.TimeBlock) bool {
	c := ca.Clinic
	var v *booking.Vaccine
	for _, x := range b.vax {
		if c.Offers(x.ID) {
			v = x
			break
		}
	}
	if v == nil {
		return false
	}
	for _, blk := range blockOrder(want) {
		if ca.Free[blk] <= 0 {
			continue
		}
		s1 := booking.Slot{ClinicID: c.ID, Date: ca.Date, Block: blk}
		for s2 := range booking.Dose2Candidates(c, v, s1) {
			if b.av.Free(s2) > 0 {
				b.take1(s1)
				b.take1(s2)
				return true
			}
		}
		return false
	}
	return false
}

// overbooked counts the slots holding more bookings than their capacity,
// over every clinic, block and date from the start's day on for the
// horizon and the longest second-dose interval after it.
func (b *booker) overbooked(start time.Time) int {
	n := 0
	d0 := booking.DateOf(start)
	for i := range b.clinics {
		id := b.clinics[i].ID
		for day := range b.horizon + 90 {
			d := d0.AddDays(day)
			if booked, _ := b.av.DayStats(id, d); booked == 0 {
				continue
			}
			for blk := range booking.TimeBlock(booking.BlocksPerDay) {
				s := booking.Slot{ClinicID: id, Date: d, Block: blk}
				if b.av.Booked(s) > b.av.Capacity(s) {
					n++
				}
			}
		}
	}
	return n
}

// freeSlots is the number of free first-dose places over the bookable
// dates at now: summed from the index once per day of the night, less the
// places booked on those dates since.
func (b *booker) freeSlots(now time.Time) int {
	if today := booking.DateOf(now); today != b.freeOf {
		b.free = 0
		for _, d := range b.bookableDates(now) {
			_, free := b.av.Totals(d)
			b.free += free
		}
		b.freeOf = today
	}
	return b.free
}

// take1 books one place, counting it off the free first-dose places if
// its date is one of them.
func (b *booker) take1(s booking.Slot) {
	b.av.Add(s, 1)
	if b.free > 0 && len(b.dates) > 0 && b.datesOf == b.freeOf && !s.Date.Before(b.dates[0]) && !s.Date.After(b.dates[len(b.dates)-1]) && s.Date.Weekday() != time.Sunday {
		b.free--
	}
}

// blockOrder is want, then the blocks ever further from it.
func blockOrder(want booking.TimeBlock) []booking.TimeBlock {
	out := make([]booking.TimeBlock, 0, booking.BlocksPerDay)
	out = append(out, want)
	for k := booking.TimeBlock(1); k < booking.BlocksPerDay; k++ {
		for _, x := range [2]booking.TimeBlock{want + k, want - k} {
			if x >= 0 && x < booking.BlocksPerDay {
				out = append(out, x)
			}
		}
	}
	return out
}
