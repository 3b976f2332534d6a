// Package storetest is the contract every booking.Store must meet. A store
// package runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) booking.Store { ... a fresh, empty store ... })
//	}
//
// The suite uses only the booking.Store interface. newStore must return an
// empty store isolated from every other call; the suite closes it.
// Timestamps in the suite have microsecond precision so that stores that keep
// microseconds (PostgreSQL) can pass.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Run runs the contract suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) booking.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s booking.Store)
	}{
		{"BookGetRoundTrip", testRoundTrip},
		{"BookGeneratesNumber", testGeneratedNumber},
		{"BookNumberCollision", testNumberCollision},
		{"Dose2FirstCandidateWithCapacity", testDose2FirstFree},
		{"SlotFull", testSlotFull},
		{"NoSecondDose", testNoSecondDose},
		{"OneActiveBookingPerPersonPerCampaign", testOnePerPerson},
		{"IdempotentRetry", testIdempotentRetry},
		{"IdempotencyKeyReuse", testIdempotencyReuse},
		{"SupplyExhausted", testSupply},
		{"Cancel", testCancel},
		{"DoubleCancel", testDoubleCancel},
		{"Change", testChange},
		{"ChangeFailsCleanly", testChangeFails},
		{"ClaimSession", testClaimSession},
		{"Outbox", testOutbox},
		{"CountBookings", testCountBookings},
		{"BadInput", testBadInput},
		{"ContextCancelled", testContextCancelled},
		{"ConcurrentSameSlot", testConcurrentSameSlot},
		{"ConcurrentSamePerson", testConcurrentSamePerson},
		{"ConcurrentIdempotentRetry", testConcurrentIdempotent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

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
	vaccine  = "pfizer"
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
	got, err := s.CountBookings(ctx)
	if err != nil {
		t.Fatalf("CountBookings: %v", err)
	}
	for k, v := range got {
		if v == 0 {
			delete(got, k)
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

func testRoundTrip(t *testing.T, s booking.Store) {
	d1, d2 := slot(101, day1, 3), slot(101, day2, 3)
	req := request("alice", d1, d2)
	req.Booking.Number = "SLC-TEST-0001"
	req.Booking.BookedBy = PersonKey("alice's daughter") // proxy booking
	req.Booking.UpdatedAt = openedAt.Add(time.Second)
	got := mustBook(t, s, req)

	want := req.Booking
	want.Dose2 = booking.Appointment{Slot: d2, Dose: 2}
	want.Status = booking.StatusBooked
	sameBooking(t, "Book result", got, want)

	again, err := s.Get(ctx, "SLC-TEST-0001")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameBooking(t, "Get", again, want)

	_, err = s.Get(ctx, "SLC-NONE-NONE")
	wantErr(t, "Get unknown number", err, booking.ErrNotFound)

	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
	ms := wantPending(t, s, 1)
	m := ms[0]
	if m.BookingNumber != "SLC-TEST-0001" || m.Kind != "confirmation" || m.To != req.Booking.Phone ||
		m.Body != req.Confirmation.Body || !m.CreatedAt.Equal(openedAt) || m.SentAt != nil || m.ID == 0 {
		t.Errorf("outbox message = %+v, want the confirmation of SLC-TEST-0001", m)
	}
}

func testGeneratedNumber(t *testing.T, s booking.Store) {
	seen := map[string]bool{}
	for i := range 20 {
		b := mustBook(t, s, request(fmt.Sprint("p", i), slot(1, day1, 0), slot(1, day2, 0)))
		if !numberRE.MatchString(b.Number) {
			t.Errorf("generated number %q, want SLC-XXXX-XXXX from the unambiguous alphabet", b.Number)
		}
		if seen[b.Number] {
			t.Errorf("number %q generated twice", b.Number)
		}
		seen[b.Number] = true
		got, err := s.Get(ctx, b.Number)
		if err != nil || got.Number != b.Number {
			t.Fatalf("Get(%q) = %v, %v", b.Number, got.Number, err)
		}
		if ms := pending(t, s); ms[len(ms)-1].BookingNumber != b.Number {
			t.Errorf("confirmation for %q carries number %q", b.Number, ms[len(ms)-1].BookingNumber)
		}
	}
}

// NumberGenerator is implemented, in a store's own tests, by a store whose
// booking number generator can be replaced; the suite then checks what a
// collision does.
type NumberGenerator interface {
	SetNumberGenerator(func() string)
}

func testNumberCollision(t *testing.T, s booking.Store) {
	gen, ok := s.(NumberGenerator)
	if !ok {
		t.Skip("the store's tests do not expose its number generator")
	}
	r := request("a", slot(20, day1, 0), slot(20, day2, 0))
	r.Booking.Number = "SLC-2222-2222"
	mustBook(t, s, r)
	// A caller-chosen number that exists is refused, not overwritten.
	r = request("b", slot(20, day1, 0), slot(20, day2, 0))
	r.Booking.Number = "SLC-2222-2222"
	if _, err := s.Book(ctx, r); !errors.Is(err, storecheck.ErrInvalid) {
		t.Fatalf("duplicate caller number: err = %v, want ErrInvalid", err)
	}
	// A generated number that collides is replaced by a fresh one.
	next := []string{"SLC-2222-2222", "SLC-2222-2222", "SLC-3333-3333"}
	gen.SetNumberGenerator(func() string { n := next[0]; next = next[1:]; return n })
	b := mustBook(t, s, request("c", slot(20, day1, 0), slot(20, day2, 0)))
	if b.Number != "SLC-3333-3333" {
		t.Fatalf("generated booking number %q, want SLC-3333-3333", b.Number)
	}
	wantPending(t, s, 2)
}

func testDose2FirstFree(t *testing.T, s booking.Store) {
	full, zero, free, later := slot(7, day2, 0), slot(7, day2, 1), slot(7, day2.AddDays(1), 0), slot(7, day2.AddDays(2), 0)
	caps := capacities(5, map[booking.Slot]int{full: 1, zero: 0})

	// Someone else takes the only place at `full` (as a first dose).
	r := request("bob", full, slot(9, day2.AddDays(3), 0))
	r.SlotCapacity = caps
	mustBook(t, s, r)

	r = request("carol", slot(7, day1, 0), full, zero, free, later)
	r.SlotCapacity = caps
	b := mustBook(t, s, r)
	if b.Dose2.Slot != free || b.Dose2.Dose != 2 {
		t.Fatalf("Dose2 = %+v, want the first candidate with capacity %v", b.Dose2, free)
	}
	got, err := s.Get(ctx, b.Number)
	if err != nil || got.Dose2 != b.Dose2 {
		t.Fatalf("Get: Dose2 = %+v, %v; want %+v", got.Dose2, err, b.Dose2)
	}
	wantCounts(t, s, map[booking.Slot]int{
		full: 1, slot(9, day2.AddDays(3), 0): 1, slot(7, day1, 0): 1, free: 1,
	})
}

func testSlotFull(t *testing.T, s booking.Store) {
	d1, d2 := slot(2, day1, 4), slot(2, day2, 4)
	caps := capacities(10, map[booking.Slot]int{d1: 1})
	if err := s.SetSupply(ctx, vaccine, 100); err != nil {
		t.Fatal(err)
	}
	r := request("dan", d1, d2)
	r.SlotCapacity = caps
	mustBook(t, s, r)

	r = request("erin", d1, d2)
	r.SlotCapacity = caps
	r.Booking.Number = "SLC-FULL-0002"
	_, err := s.Book(ctx, r)
	wantErr(t, "Book at a full slot", err, booking.ErrSlotFull)

	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
	wantSupply(t, s, vaccine, 100, 2)
	_, err = s.Get(ctx, "SLC-FULL-0002")
	wantErr(t, "Get of the refused booking", err, booking.ErrNotFound)

	// A slot with capacity 0 is full from the start.
	r = request("erin", slot(3, day1, 0), d2)
	r.SlotCapacity = capacities(0, nil)
	_, err = s.Book(ctx, r)
	wantErr(t, "Book at a zero-capacity slot", err, booking.ErrSlotFull)
	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
}

func testNoSecondDose(t *testing.T, s booking.Store) {
	d1 := slot(4, day1, 2)
	c1, c2 := slot(4, day2, 2), slot(4, day2.AddDays(1), 2)
	caps := capacities(10, map[booking.Slot]int{c1: 1, c2: 0})
	r := request("frank", slot(4, day1, 1), c1) // fills c1
	r.SlotCapacity = caps
	mustBook(t, s, r)
	before := counts(t, s)

	r = request("gina", d1, c1, c2)
	r.SlotCapacity = caps
	r.Booking.Number = "SLC-NONE-0002"
	_, err := s.Book(ctx, r)
	wantErr(t, "Book with every dose-2 candidate full", err, booking.ErrNoSecondDose)
	wantCounts(t, s, before) // in particular no place held at d1
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
	_, err = s.Get(ctx, "SLC-NONE-0002")
	wantErr(t, "Get of the refused booking", err, booking.ErrNotFound)

	r = request("gina", d1)
	_, err = s.Book(ctx, r)
	wantErr(t, "Book with no dose-2 candidates", err, booking.ErrNoSecondDose)
	wantCounts(t, s, before)
}

func testOnePerPerson(t *testing.T, s booking.Store) {
	a, b, c := slot(5, day1, 0), slot(5, day1, 1), slot(5, day2, 0)
	first := mustBook(t, s, request("hana", a, c))

	_, err := s.Book(ctx, request("hana", b, c))
	wantErr(t, "second booking of the same person", err, booking.ErrAlreadyBooked)
	// Being booked already is the answer even where the slot is also full.
	r := request("hana", b, c)
	r.SlotCapacity = capacities(0, nil)
	_, err = s.Book(ctx, r)
	wantErr(t, "second booking at a full slot", err, booking.ErrAlreadyBooked)
	wantCounts(t, s, map[booking.Slot]int{a: 1, c: 1})
	wantPending(t, s, 1)

	// Another campaign is another matter.
	other := request("hana", b, c)
	other.Booking.CampaignID = "flu-2021"
	mustBook(t, s, other)

	if _, err := s.Cancel(ctx, first.Number, booking.Message{Body: "cancelled"}, openedAt.Add(time.Hour)); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	again := mustBook(t, s, request("hana", b, c))
	if again.Number == first.Number {
		t.Fatalf("rebooking after cancel reused number %s", first.Number)
	}
	wantBookings(t, s, map[string]int{cohort: 2})
}

func testIdempotentRetry(t *testing.T, s booking.Store) {
	if err := s.SetSupply(ctx, vaccine, 10); err != nil {
		t.Fatal(err)
	}
	d1, d2 := slot(6, day1, 0), slot(6, day2, 0)
	req := request("ivan", d1, d2)
	req.IdempotencyKey = "idem-ivan-1"
	first := mustBook(t, s, req)

	// A retry: same request, the client's clock moved on.
	retry := req
	retry.Booking.CreatedAt = openedAt.Add(3 * time.Second)
	retry.Booking.UpdatedAt = retry.Booking.CreatedAt
	second := mustBook(t, s, retry)
	if second.Number != first.Number {
		t.Fatalf("retry got number %s, first %s", second.Number, first.Number)
	}
	sameBooking(t, "retry result", second, first)

	wantBookings(t, s, map[string]int{cohort: 1})
	wantPending(t, s, 1)
	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
	wantSupply(t, s, vaccine, 10, 2)
}

func testIdempotencyReuse(t *testing.T, s booking.Store) {
	d1, d2 := slot(8, day1, 0), slot(8, day2, 0)
	req := request("jun", d1, d2)
	req.IdempotencyKey = "idem-jun"
	mustBook(t, s, req)

	other := request("jun", slot(8, day1, 5), d2)
	other.IdempotencyKey = "idem-jun"
	_, err := s.Book(ctx, other)
	wantErr(t, "same key, other slot", err, booking.ErrIdempotencyReuse)

	other = request("kim", d1, d2)
	other.IdempotencyKey = "idem-jun"
	_, err = s.Book(ctx, other)
	wantErr(t, "same key, other person", err, booking.ErrIdempotencyReuse)

	wantBookings(t, s, map[string]int{cohort: 1})
	wantPending(t, s, 1)
	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
}

func testSupply(t *testing.T, s booking.Store) {
	wantSupply(t, s, vaccine, 0, 0)
	if err := s.SetSupply(ctx, vaccine, 4); err != nil {
		t.Fatal(err)
	}
	wantSupply(t, s, vaccine, 4, 0)
	d1, d2 := slot(10, day1, 0), slot(10, day2, 0)
	mustBook(t, s, request("lee", d1, d2))
	mustBook(t, s, request("min", d1, d2))
	wantSupply(t, s, vaccine, 4, 4)

	r := request("nam", d1, d2)
	r.Booking.Number = "SLC-SUPP-0003"
	_, err := s.Book(ctx, r)
	wantErr(t, "Book beyond the allocation", err, booking.ErrSupplyExhausted)
	wantSupply(t, s, vaccine, 4, 4)
	wantCounts(t, s, map[booking.Slot]int{d1: 2, d2: 2})
	wantPending(t, s, 2)
	_, err = s.Get(ctx, "SLC-SUPP-0003")
	wantErr(t, "Get of the refused booking", err, booking.ErrNotFound)

	// Other vaccines are not limited by this one.
	r = request("nam", d1, d2)
	r.Booking.VaccineID = "moderna"
	mustBook(t, s, r)

	// More supply arrives.
	if err := s.SetSupply(ctx, vaccine, 6); err != nil {
		t.Fatal(err)
	}
	mustBook(t, s, request("oh", d1, d2))
	wantSupply(t, s, vaccine, 6, 6)
	wantBookings(t, s, map[string]int{cohort: 4})
}

func testCancel(t *testing.T, s booking.Store) {
	if err := s.SetSupply(ctx, vaccine, 10); err != nil {
		t.Fatal(err)
	}
	d1, d2 := slot(11, day1, 1), slot(11, day2, 1)
	keep := mustBook(t, s, request("park", d1, d2))
	b := mustBook(t, s, request("quinn", d1, d2))
	wantCounts(t, s, map[booking.Slot]int{d1: 2, d2: 2})
	wantSupply(t, s, vaccine, 10, 4)

	at := openedAt.Add(24 * time.Hour)
	got, err := s.Cancel(ctx, b.Number, booking.Message{Kind: "cancel", To: b.Phone, Body: "Booking cancelled", CreatedAt: at}, at)
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got.Status != booking.StatusCancelled || !got.UpdatedAt.Equal(at) || got.Number != b.Number {
		t.Errorf("Cancel returned %+v, want status cancelled updated at %v", got, at)
	}
	stored, err := s.Get(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := b
	want.Status, want.UpdatedAt = booking.StatusCancelled, at
	sameBooking(t, "Get after cancel", stored, want)

	wantCounts(t, s, map[booking.Slot]int{d1: 1, d2: 1})
	wantSupply(t, s, vaccine, 10, 2)
	wantBookings(t, s, map[string]int{cohort: 1})
	ms := wantPending(t, s, 3)
	m := ms[2]
	if m.BookingNumber != b.Number || m.Kind != "cancel" || m.To != b.Phone || m.Body != "Booking cancelled" || !m.CreatedAt.Equal(at) {
		t.Errorf("cancel notice = %+v", m)
	}
	if _, err := s.Get(ctx, keep.Number); err != nil {
		t.Errorf("the other booking: %v", err)
	}
}

func testDoubleCancel(t *testing.T, s booking.Store) {
	d1, d2 := slot(12, day1, 1), slot(12, day2, 1)
	b := mustBook(t, s, request("ryu", d1, d2))
	if _, err := s.Cancel(ctx, b.Number, booking.Message{Body: "1"}, openedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Cancel(ctx, b.Number, booking.Message{Body: "2"}, openedAt.Add(2*time.Hour))
	wantErr(t, "second Cancel", err, booking.ErrCancelled)
	wantCounts(t, s, nil)
	wantPending(t, s, 2)

	_, err = s.Cancel(ctx, "SLC-NONE-NONE", booking.Message{Body: "x"}, openedAt)
	wantErr(t, "Cancel of an unknown number", err, booking.ErrNotFound)
	wantPending(t, s, 2)
}

func testChange(t *testing.T, s booking.Store) {
	if err := s.SetSupply(ctx, vaccine, 10); err != nil {
		t.Fatal(err)
	}
	a1, a2 := slot(13, day1, 0), slot(13, day2, 0)
	b1, b2full, b2 := slot(14, day1.AddDays(1), 5), slot(14, day2.AddDays(1), 5), slot(14, day2.AddDays(2), 5)
	orig := mustBook(t, s, request("seo", a1, a2))

	at := openedAt.Add(48 * time.Hour)
	got, err := s.Change(ctx, booking.ChangeRequest{
		Number:          orig.Number,
		NewDose1:        b1,
		Dose2Candidates: []booking.Slot{b2full, b2},
		SlotCapacity:    capacities(3, map[booking.Slot]int{b2full: 0}),
		Notice:          booking.Message{Kind: "change", Body: "Booking changed", CreatedAt: at},
		Now:             at,
	})
	if err != nil {
		t.Fatalf("Change: %v", err)
	}
	want := orig
	want.Dose1 = booking.Appointment{Slot: b1, Dose: 1}
	want.Dose2 = booking.Appointment{Slot: b2, Dose: 2}
	want.UpdatedAt = at
	sameBooking(t, "Change result", got, want)
	stored, err := s.Get(ctx, orig.Number)
	if err != nil {
		t.Fatal(err)
	}
	sameBooking(t, "Get after Change", stored, want)

	wantCounts(t, s, map[booking.Slot]int{b1: 1, b2: 1})
	wantSupply(t, s, vaccine, 10, 2) // a change uses no more doses
	wantBookings(t, s, map[string]int{cohort: 1})
	ms := wantPending(t, s, 2)
	if m := ms[1]; m.BookingNumber != orig.Number || m.Kind != "change" || m.Body != "Booking changed" || m.To != orig.Phone {
		t.Errorf("change notice = %+v", m)
	}

	// Moving within the same full slot works: the old place is released first.
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: orig.Number, NewDose1: b1, Dose2Candidates: []booking.Slot{b2},
		SlotCapacity: capacities(1, nil), Notice: booking.Message{Body: "same"}, Now: at,
	})
	if err != nil {
		t.Fatalf("Change to the same full slots: %v", err)
	}
	wantCounts(t, s, map[booking.Slot]int{b1: 1, b2: 1})
}

func testChangeFails(t *testing.T, s booking.Store) {
	a1, a2 := slot(15, day1, 0), slot(15, day2, 0)
	full := slot(16, day1, 0)
	b := mustBook(t, s, request("tae", a1, a2))
	mustBook(t, s, request("uma", full, a2))
	before := counts(t, s)
	caps := capacities(5, map[booking.Slot]int{full: 1})

	_, err := s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: full, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change to a full slot", err, booking.ErrSlotFull)
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: slot(16, day1, 1), Dose2Candidates: []booking.Slot{full},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change with no free second dose", err, booking.ErrNoSecondDose)
	wantCounts(t, s, before)
	wantPending(t, s, 2)
	stored, err := s.Get(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	sameBooking(t, "booking after failed changes", stored, b)

	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: "SLC-NONE-NONE", NewDose1: a1, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change of an unknown number", err, booking.ErrNotFound)

	if _, err := s.Cancel(ctx, b.Number, booking.Message{Body: "bye"}, openedAt); err != nil {
		t.Fatal(err)
	}
	_, err = s.Change(ctx, booking.ChangeRequest{
		Number: b.Number, NewDose1: a1, Dose2Candidates: []booking.Slot{a2},
		SlotCapacity: caps, Notice: booking.Message{Body: "x"}, Now: openedAt,
	})
	wantErr(t, "Change of a cancelled booking", err, booking.ErrCancelled)
	wantCounts(t, s, map[booking.Slot]int{full: 1, a2: 1})
	wantPending(t, s, 3)
}

func testClaimSession(t *testing.T, s booking.Store) {
	pk := PersonKey("vera")
	t0 := openedAt
	claim := func(session string, now time.Time) error {
		return s.ClaimSession(ctx, pk, session, now, now.Add(10*time.Minute))
	}
	if err := claim("phone", t0); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	wantErr(t, "claim from another device", claim("laptop", t0.Add(time.Minute)), booking.ErrSessionHeld)
	if err := claim("phone", t0.Add(2*time.Minute)); err != nil { // extends to t0+12m
		t.Fatalf("same session again: %v", err)
	}
	wantErr(t, "claim before the extended end", claim("laptop", t0.Add(11*time.Minute)), booking.ErrSessionHeld)
	if err := claim("laptop", t0.Add(12*time.Minute)); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	wantErr(t, "old session after takeover", claim("phone", t0.Add(13*time.Minute)), booking.ErrSessionHeld)
	if err := s.ClaimSession(ctx, PersonKey("walt"), "phone", t0, t0.Add(time.Minute)); err != nil {
		t.Fatalf("other person, same session id: %v", err)
	}
}

func testOutbox(t *testing.T, s booking.Store) {
	var numbers []string
	for i, p := range []string{"xena", "yuri", "zoe"} {
		r := request(p, slot(17, day1, i), slot(17, day2, i))
		r.Confirmation.Body = "msg " + p
		r.Confirmation.CreatedAt = openedAt.Add(time.Duration(i) * time.Second)
		numbers = append(numbers, mustBook(t, s, r).Number)
	}
	ms, err := s.PendingMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Body != "msg xena" || ms[1].Body != "msg yuri" || ms[0].ID >= ms[1].ID {
		t.Fatalf("PendingMessages(2) = %+v, want xena then yuri", ms)
	}
	for i, m := range ms {
		if m.BookingNumber != numbers[i] || m.SentAt != nil || !m.CreatedAt.Equal(openedAt.Add(time.Duration(i)*time.Second)) {
			t.Errorf("message %d = %+v", i, m)
		}
	}
	sentAt := openedAt.Add(time.Minute)
	if err := s.MarkSent(ctx, ms[0].ID, sentAt); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	if err := s.MarkSent(ctx, ms[0].ID, sentAt.Add(time.Second)); err != nil {
		t.Fatalf("MarkSent twice: %v", err)
	}
	rest := wantPending(t, s, 2)
	if rest[0].Body != "msg yuri" || rest[1].Body != "msg zoe" {
		t.Fatalf("pending after MarkSent = %+v, want yuri, zoe", rest)
	}
	for _, m := range rest {
		if err := s.MarkSent(ctx, m.ID, sentAt); err != nil {
			t.Fatal(err)
		}
	}
	wantPending(t, s, 0)
	wantErr(t, "MarkSent of an unknown id", s.MarkSent(ctx, 1<<40, sentAt), booking.ErrNotFound)

	// New messages come after the delivered ones.
	r := request("amy", slot(17, day1, 7), slot(17, day2, 7))
	mustBook(t, s, r)
	if ms := wantPending(t, s, 1); ms[0].ID <= rest[1].ID {
		t.Errorf("new message id %d not after %d", ms[0].ID, rest[1].ID)
	}
}

func testCountBookings(t *testing.T, s booking.Store) {
	wantBookings(t, s, nil)
	var last booking.Booking
	for i, c := range []string{"50-52", "50-52", "53-54", "55-59", "50-52"} {
		r := request(fmt.Sprint("c", i), slot(18, day1, i), slot(18, day2, i))
		r.Booking.CohortID = c
		last = mustBook(t, s, r)
	}
	wantBookings(t, s, map[string]int{"50-52": 3, "53-54": 1, "55-59": 1})
	if _, err := s.Cancel(ctx, last.Number, booking.Message{Body: "x"}, openedAt); err != nil {
		t.Fatal(err)
	}
	wantBookings(t, s, map[string]int{"50-52": 2, "53-54": 1, "55-59": 1})
}

func testBadInput(t *testing.T, s booking.Store) {
	good := func() booking.BookRequest { return request("bad", slot(19, day1, 0), slot(19, day2, 0)) }
	cases := map[string]func(r *booking.BookRequest){
		"zero dose-1 slot":      func(r *booking.BookRequest) { r.Booking.Dose1.Slot = booking.Slot{} },
		"zero dose-2 candidate": func(r *booking.BookRequest) { r.Dose2Candidates = []booking.Slot{{}} },
		"impossible date":       func(r *booking.BookRequest) { r.Booking.Dose1.Date = booking.Date{Year: 2021, Month: 2, Day: 30} },
		"empty person key":      func(r *booking.BookRequest) { r.Booking.PersonKey = "" },
		"RRN as person key":     func(r *booking.BookRequest) { r.Booking.PersonKey = "8503091234567" },
		"RRN with dash":         func(r *booking.BookRequest) { r.Booking.PersonKey = "850309-1234567" },
		"no capacity function":  func(r *booking.BookRequest) { r.SlotCapacity = nil },
		"empty campaign":        func(r *booking.BookRequest) { r.Booking.CampaignID = "" },
	}
	for name, mutate := range cases {
		r := good()
		mutate(&r)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: Book panicked: %v", name, p)
				}
			}()
			if b, err := s.Book(ctx, r); err == nil {
				t.Errorf("%s: Book succeeded (%s), want an error", name, b.Number)
			}
		}()
	}
	wantCounts(t, s, nil)
	wantPending(t, s, 0)
	wantBookings(t, s, nil)

	b := mustBook(t, s, good())
	if _, err := s.Change(ctx, booking.ChangeRequest{Number: b.Number, SlotCapacity: capacities(5, nil),
		Dose2Candidates: []booking.Slot{slot(19, day2, 1)}, Notice: booking.Message{Body: "x"}}); err == nil {
		t.Error("Change to a zero slot succeeded")
	}
	if err := s.ClaimSession(ctx, "", "s", openedAt, openedAt.Add(time.Minute)); err == nil {
		t.Error("ClaimSession with an empty person key succeeded")
	}
	if err := s.SetSupply(ctx, vaccine, -1); err == nil {
		t.Error("SetSupply(-1) succeeded")
	}
	wantCounts(t, s, map[booking.Slot]int{slot(19, day1, 0): 1, slot(19, day2, 0): 1})
	wantPending(t, s, 1)
}

func testContextCancelled(t *testing.T, s booking.Store) {
	b := mustBook(t, s, request("ctx", slot(20, day1, 0), slot(20, day2, 0)))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Book(cctx, request("ctx2", slot(20, day1, 0), slot(20, day2, 0)))
	wantErr(t, "Book with a cancelled context", err, context.Canceled)
	_, err = s.Get(cctx, b.Number)
	wantErr(t, "Get with a cancelled context", err, context.Canceled)
	_, err = s.Cancel(cctx, b.Number, booking.Message{Body: "x"}, openedAt)
	wantErr(t, "Cancel with a cancelled context", err, context.Canceled)
	wantCounts(t, s, map[booking.Slot]int{slot(20, day1, 0): 1, slot(20, day2, 0): 1})
	wantPending(t, s, 1)

	// Cancelled in the middle of the transaction (the capacity function is
	// called inside it): nothing is written and the store keeps working.
	mctx, mcancel := context.WithCancel(ctx)
	defer mcancel()
	r := request("ctx3", slot(20, day1, 1), slot(20, day2, 1))
	r.SlotCapacity = func(booking.Slot) int { mcancel(); return 10 }
	_, err = s.Book(mctx, r)
	wantErr(t, "Book cancelled mid-transaction", err, context.Canceled)
	wantCounts(t, s, map[booking.Slot]int{slot(20, day1, 0): 1, slot(20, day2, 0): 1})
	wantPending(t, s, 1)
	mustBook(t, s, request("ctx4", slot(20, day1, 1), slot(20, day2, 1)))
	wantPending(t, s, 2)
}

func testConcurrentSameSlot(t *testing.T, s booking.Store) {
	const people, capacity = 50, 7
	d1 := slot(21, day1, 0)
	caps := capacities(1000, map[booking.Slot]int{d1: capacity})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []string
		refused int
		other   []error
	)
	start := make(chan struct{})
	for i := range people {
		r := request(fmt.Sprint("crowd", i), d1, slot(21, day2, 0), slot(21, day2.AddDays(1), 0))
		r.SlotCapacity = caps
		wg.Go(func() {
			<-start
			b, err := s.Book(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, b.Number)
			case errors.Is(err, booking.ErrSlotFull):
				refused++
			default:
				other = append(other, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	if len(won) != capacity || refused != people-capacity {
		t.Fatalf("%d booked, %d refused; want %d and %d", len(won), refused, capacity, people-capacity)
	}
	c := counts(t, s)
	if c[d1] != capacity {
		t.Fatalf("slot count %d, want %d", c[d1], capacity)
	}
	ms := wantPending(t, s, capacity)
	var got []string
	for _, m := range ms {
		got = append(got, m.BookingNumber)
	}
	sort.Strings(got)
	sort.Strings(won)
	if !reflect.DeepEqual(got, won) {
		t.Fatalf("outbox numbers %v, want one per booking %v", got, won)
	}
	wantBookings(t, s, map[string]int{cohort: capacity})
}

func testConcurrentSamePerson(t *testing.T, s booking.Store) {
	const tries = 20
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		won, dup, others int
	)
	start := make(chan struct{})
	for i := range tries {
		// Each device picks a different slot.
		r := request("twin", slot(22, day1, i%booking.BlocksPerDay), slot(22, day2, 0))
		r.Booking.Dose1.Date = day1.AddDays(i / booking.BlocksPerDay)
		wg.Go(func() {
			<-start
			_, err := s.Book(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, booking.ErrAlreadyBooked):
				dup++
			default:
				others++
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || dup != tries-1 {
		t.Fatalf("%d booked, %d already booked, %d other; want 1 and %d", won, dup, others, tries-1)
	}
	total := 0
	for _, n := range counts(t, s) {
		total += n
	}
	if total != 2 {
		t.Fatalf("slots hold %d places, want 2 (one booking)", total)
	}
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
}

func testConcurrentIdempotent(t *testing.T, s booking.Store) {
	const tries = 10
	req := request("retry", slot(23, day1, 0), slot(23, day2, 0))
	req.IdempotencyKey = "idem-retry"
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		numbers = map[string]int{}
	)
	for range tries {
		wg.Go(func() {
			b, err := s.Book(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Book: %v", err)
				return
			}
			numbers[b.Number]++
		})
	}
	wg.Wait()
	if len(numbers) != 1 {
		t.Fatalf("retries got numbers %v, want one", numbers)
	}
	wantPending(t, s, 1)
	wantBookings(t, s, map[string]int{cohort: 1})
	wantCounts(t, s, map[booking.Slot]int{slot(23, day1, 0): 1, slot(23, day2, 0): 1})
}
