package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Fixtures.

var (
	ctx      = context.Background()
	day1     = booking.Date{Year: 2021, Month: time.August, Day: 26}
	day2     = day1.AddDays(42)
	openedAt = time.Date(2021, time.August, 9, 20, 0, 1, 123456000, booking.Seoul) // µs precision
)

const (
	campaign = "covid19-2021"
	cohort   = "18-49"
	// otherCampaign is a second campaign of the programme.
	otherCampaign = "flu-2021"
	vaccine       = "pfizer"
)

func slot(clinic int64, d booking.Date, block int) booking.Slot {
	return booking.Slot{ClinicID: clinic, Date: d, Block: booking.TimeBlock(block)}
}

// PersonKey returns a stand-in for the keyed hash of a person's RRN.
func PersonKey(name string) string {
	sum := sha256.Sum256([]byte("storetest person " + name))
	return hex.EncodeToString(sum[:])
}

// capacities returns a SlotCapacity function: the listed slots have the
// given capacity, every other slot def.
func capacities(def int, m map[booking.Slot]int) func(booking.Slot) int {
	return func(s booking.Slot) int {
		if c, ok := m[s]; ok {
			return c
		}
		return def
	}
}

var phoneSeq struct {
	sync.Mutex
	n int
}

func request(person string, dose1 booking.Slot, dose2 ...booking.Slot) booking.BookRequest {
	phoneSeq.Lock()
	phoneSeq.n++
	phone := fmt.Sprintf("010%08d", phoneSeq.n)
	phoneSeq.Unlock()
	return booking.BookRequest{
		Booking: booking.Booking{
			CampaignID: campaign,
			CohortID:   cohort,
			VaccineID:  vaccine,
			PersonKey:  PersonKey(person),
			Name:       "Person " + person,
			Phone:      phone,
			BirthDate:  booking.Date{Year: 1985, Month: time.March, Day: 9},
			BookedBy:   PersonKey(person),
			Dose1:      booking.Appointment{Slot: dose1, Dose: 1},
			CreatedAt:  openedAt,
			UpdatedAt:  openedAt,
		},
		Dose2Candidates: dose2,
		SlotCapacity:    capacities(100, nil),
		Confirmation: booking.Message{
			Kind:      "confirmation",
			To:        phone,
			Body:      "Booking confirmed for " + person,
			CreatedAt: openedAt,
		},
	}
}

// Request is a plain Book request for the person, for a store's own tests:
// clinic 1 on 26 August 2021 at block 2, the second dose 42 days later,
// room for 1000 in every slot.
func Request(person string) booking.BookRequest {
	d1 := booking.Slot{ClinicID: 1, Date: booking.Date{Year: 2021, Month: time.August, Day: 26}, Block: 2}
	d2 := d1
	d2.Date = d1.Date.AddDays(42)
	return booking.BookRequest{
		Booking: booking.Booking{
			CampaignID: "c", CohortID: "18-49", VaccineID: "pfizer",
			PersonKey: PersonKey(person), Name: person, Phone: "01012345678",
			Dose1: booking.Appointment{Slot: d1},
		},
		Dose2Candidates: []booking.Slot{d2},
		SlotCapacity:    func(booking.Slot) int { return 1000 },
		Confirmation:    booking.Message{Body: "booked " + person},
	}
}

// Assertions.

func mustBook(t *testing.T, s booking.Store, req booking.BookRequest) booking.Booking {
	t.Helper()
	b, err := s.Book(ctx, req)
	if err != nil {
		t.Fatalf("Book(%s): %v", req.Booking.Name, err)
	}
	return b
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func counts(t *testing.T, s booking.Store) map[booking.Slot]int {
	t.Helper()
	cs, err := s.SlotCounts(ctx)
	if err != nil {
		t.Fatalf("SlotCounts: %v", err)
	}
	m := map[booking.Slot]int{}
	for _, c := range cs {
		if c.Booked <= 0 {
			t.Errorf("SlotCounts lists %v with %d bookings; want only slots with at least one", c.Slot, c.Booked)
		}
		if _, dup := m[c.Slot]; dup {
			t.Errorf("SlotCounts lists %v twice", c.Slot)
		}
		m[c.Slot] = c.Booked
	}
	return m
}

func wantCounts(t *testing.T, s booking.Store, want map[booking.Slot]int) {
	t.Helper()
	got := counts(t, s)
	if want == nil {
		want = map[booking.Slot]int{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("slot counts = %v, want %v", got, want)
	}
}

func pending(t *testing.T, s booking.Store) []booking.Message {
	t.Helper()
	ms, err := s.PendingMessages(ctx, 1000)
	if err != nil {
		t.Fatalf("PendingMessages: %v", err)
	}
	return ms
}

func wantPending(t *testing.T, s booking.Store, n int) []booking.Message {
	t.Helper()
	ms := pending(t, s)
	if len(ms) != n {
		t.Fatalf("%d pending messages, want %d: %+v", len(ms), n, ms)
	}
	return ms
}

func wantBookings(t *testing.T, s booking.Store, want map[string]int) {
	t.Helper()
	counts, err := s.CountBookings(ctx)
	if err != nil {
		t.Fatalf("CountBookings: %v", err)
	}
	// Cohorts of the suite's campaign by id, others as "campaign/cohort".
	got := map[string]int{}
	for k, v := range counts.ByCohort {
		name := k.Cohort
		if k.Campaign != campaign {
			name = k.Campaign + "/" + k.Cohort
		}
		if v != 0 {
			got[name] += v
		}
	}
	if want == nil {
		want = map[string]int{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CountBookings = %v, want %v", got, want)
	}
}

func wantSupply(t *testing.T, s booking.Store, vaccineID string, allocated, used int) {
	t.Helper()
	a, u, err := s.Supply(ctx, vaccineID)
	if err != nil {
		t.Fatalf("Supply(%s): %v", vaccineID, err)
	}
	if a != allocated || u != used {
		t.Fatalf("Supply(%s) = %d allocated, %d used; want %d, %d", vaccineID, a, u, allocated, used)
	}
}

func sameBooking(t *testing.T, what string, got, want booking.Booking) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: times = %v / %v, want %v / %v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

var numberRE = regexp.MustCompile(`^SLC-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}$`)

// The tests.
