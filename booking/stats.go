package booking

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DosesPerBooking is what a booking holds, a first and a second dose, and
// so what it takes from its vaccine's supply (the stores count with it).
const DosesPerBooking = 2

// statsTTL is how long Stats may serve a cached answer when nothing was
// booked, changed or cancelled through this service meanwhile.
const statsTTL = time.Second

// ProgrammeStats is the live booking picture of a programme: each
// campaign's figures, the totals over them, and the vaccine supply, which
// is national (one allocation per vaccine across the programme).
type ProgrammeStats struct {
	At         time.Time       `json:"at"` // when the figures were read (Seoul)
	Campaigns  []CampaignStats `json:"campaigns"`
	Population int             `json:"population"` // sum over campaigns
	Booked     int             `json:"booked"`     // active bookings, sum over campaigns
	Rate       float64         `json:"rate"`       // booked / population, 0..1
	Vaccines   []VaccineStats  `json:"vaccines"`
}

// CampaignStats is the live booking picture of one campaign.
type CampaignStats struct {
	CampaignID string        `json:"campaign_id"`
	Name       string        `json:"name"`
	NameEN     string        `json:"name_en"`
	Cohorts    []CohortStats `json:"cohorts"`
	Population int           `json:"population"` // sum over cohorts
	Booked     int           `json:"booked"`     // active bookings, sum over cohorts
	Rate       float64       `json:"rate"`       // booked / population, 0..1
}

// CohortStats is one cohort's booking figures.
type CohortStats struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	NameEN     string  `json:"name_en"`
	Population int     `json:"population"`
	Booked     int     `json:"booked"` // active (not cancelled) bookings
	Rate       float64 `json:"rate"`   // booked / population, 0..1 (0 when the population is unknown)
}

// VaccineStats is one vaccine's supply: doses (both doses of a booking
// count) allocated and used by active bookings. A vaccine without an
// allocation (Unlimited) counts the doses of its active bookings as used.
type VaccineStats struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	Unlimited bool   `json:"unlimited"` // no allocation: Allocated and Remaining are 0
	Allocated int    `json:"allocated"`
	Used      int    `json:"used"`
	Remaining int    `json:"remaining"`
}

type statsCache struct {
	mu  sync.Mutex
	gen uint64
	at  time.Time
	val *ProgrammeStats
}

// Stats returns booking figures per campaign, cohort and vaccine (from
// Store.CountBookings) and the supply of each vaccine (Store.Supply).
// Answers are cached for up to a second unless this service commits a
// change meanwhile.
func (s *Service) Stats(ctx context.Context) (_ ProgrammeStats, err error) {
	now := s.clock.Now()
	gen := s.gen.Load()
	c := &s.stats
	c.mu.Lock()
	if c.val != nil && c.gen == gen && !now.Before(c.at) && now.Sub(c.at) < statsTTL {
		v := c.val.clone()
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()

	defer s.noteStore(&err)
	counts, err := s.store.CountBookings(ctx)
	if err != nil {
		return ProgrammeStats{}, fmt.Errorf("stats: %w", err)
	}
	st := ProgrammeStats{At: now.In(Seoul)}
	for _, camp := range s.programme.Campaigns() {
		cst := CampaignStats{CampaignID: camp.ID, Name: camp.Name, NameEN: camp.NameEN,
			Cohorts: make([]CohortStats, 0, len(camp.Cohorts))}
		for _, co := range camp.Cohorts {
			cs := CohortStats{ID: co.ID, Name: co.Name, NameEN: co.NameEN,
				Population: co.Population, Booked: counts.ByCohort[CohortKey{camp.ID, co.ID}]}
			cs.Rate = rate(cs.Booked, cs.Population)
			cst.Population += cs.Population
			cst.Booked += cs.Booked
			cst.Cohorts = append(cst.Cohorts, cs)
		}
		cst.Rate = rate(cst.Booked, cst.Population)
		st.Population += cst.Population
		st.Booked += cst.Booked
		st.Campaigns = append(st.Campaigns, cst)
	}
	st.Rate = rate(st.Booked, st.Population)
	for _, v := range s.programme.Vaccines() {
		allocated, used, err := s.store.Supply(ctx, v.ID)
		if err != nil {
			return ProgrammeStats{}, fmt.Errorf("stats: supply of %s: %w", v.ID, err)
		}
		vs := VaccineStats{ID: v.ID, Name: v.Name, NameEN: v.NameEN,
			Unlimited: allocated == 0, Allocated: allocated, Used: used}
		if allocated > 0 {
			vs.Remaining = max(allocated-used, 0)
		} else {
			vs.Used = DosesPerBooking * counts.ByVaccine[v.ID]
		}
		st.Vaccines = append(st.Vaccines, vs)
	}

	c.mu.Lock()
	c.gen, c.at, c.val = gen, now, &st
	c.mu.Unlock()
	return st.clone(), nil
}

func (st *ProgrammeStats) clone() ProgrammeStats {
	v := *st
	v.Campaigns = make([]CampaignStats, len(st.Campaigns))
	for i, c := range st.Campaigns {
		c.Cohorts = append([]CohortStats(nil), c.Cohorts...)
		v.Campaigns[i] = c
	}
	v.Vaccines = append([]VaccineStats(nil), st.Vaccines...)
	return v
}

func rate(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// ClinicDayStats is one clinic's day, from the availability index.
type ClinicDayStats struct {
	ClinicID   int64        `json:"clinic_id"`
	ClinicName string       `json:"clinic_name"`
	Date       Date         `json:"date"`
	Open       bool         `json:"open"`
	Capacity   int          `json:"capacity"`
	Booked     int          `json:"booked"`
	Free       int          `json:"free"`
	Blocks     []BlockStats `json:"blocks"`
}

// BlockStats is one time block of a clinic day.
type BlockStats struct {
	Block    TimeBlock `json:"block"`
	Start    string    `json:"start"` // "09:00"
	End      string    `json:"end"`   // "10:00"
	Capacity int       `json:"capacity"`
	Booked   int       `json:"booked"`
	Free     int       `json:"free"`
}

// ClinicDayStats returns a clinic's capacity, bookings and free places on a
// date, per block, from the in-memory index (no database read). Errors:
// ErrClinicNotFound, ErrInvalidSlot for a date that does not exist.
func (s *Service) ClinicDayStats(clinicID int64, date Date) (ClinicDayStats, error) {
	c, ok := s.avail.Clinic(clinicID)
	if !ok {
		return ClinicDayStats{}, ErrClinicNotFound
	}
	if _, ok := NewDate(date.Year, date.Month, date.Day); !ok || date.Year < 1 {
		return ClinicDayStats{}, ErrInvalidSlot
	}
	out := ClinicDayStats{ClinicID: c.ID, ClinicName: c.Name, Date: date, Open: c.OpenOn(date),
		Blocks: make([]BlockStats, 0, BlocksPerDay)}
	for b := TimeBlock(0); b < BlocksPerDay; b++ {
		sl := Slot{ClinicID: c.ID, Date: date, Block: b}
		bs := BlockStats{
			Block:    b,
			Capacity: s.avail.Capacity(sl),
			Booked:   s.avail.Booked(sl),
			Free:     s.avail.Free(sl),
		}
		bs.Start, bs.End = b.Hours()
		out.Capacity += bs.Capacity
		out.Booked += bs.Booked
		out.Free += bs.Free
		out.Blocks = append(out.Blocks, bs)
	}
	return out, nil
}
