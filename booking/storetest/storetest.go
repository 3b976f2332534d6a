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
	"errors"
	"fmt"
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
		{"OneActiveBookingPerPersonAcrossCampaigns", testOnePerPerson},
		{"ActiveBookingOfAPerson", testActiveBooking},
		{"IdempotentRetry", testIdempotentRetry},
		{"IdempotencyKeyReuse", testIdempotencyReuse},
		{"SupplyExhausted", testSupply},
		{"Cancel", testCancel},
		{"DoubleCancel", testDoubleCancel},
		{"Change", testChange},
		{"ChangeFailsCleanly", testChangeFails},
		{"Challenges", testChallenges},
		{"ChallengeAttemptsConcurrent", testChallengeAttemptsConcurrent},
		{"Sessions", testSessions},
		{"OneSessionPerIdentityConcurrent", testOneSessionConcurrent},
		{"LookupGrants", testLookupGrants},
		{"PurgeExpired", testPurgeExpired},
		{"IdempotentChangeAndCancel", testIdempotentChangeAndCancel},
		{"MessagesTellTheCommittedDoses", testMessagesTellCommittedDoses},
		{"Ping", testPing},
		{"Outbox", testOutbox},
		{"CountBookings", testCountBookings},
		{"Leftovers", testLeftovers},
		{"LeftoverConcurrent", testLeftoverConcurrent},
		{"ClinicTokens", testClinicTokens},
		{"Shares", testShares},
		{"SharesConcurrent", testSharesConcurrent},
		{"SharesChange", testSharesChange},
		{"SharesChangeConcurrent", testSharesChangeConcurrent},
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

	// One booking across the programme: another campaign is refused too.
	other := request("hana", b, c)
	other.Booking.CampaignID, other.Booking.CohortID = otherCampaign, "anyone"
	_, err = s.Book(ctx, other)
	wantErr(t, "second booking of the same person in another campaign", err, booking.ErrAlreadyBooked)
	wantBookings(t, s, map[string]int{cohort: 1})

	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: first.Number, Notice: booking.Message{Body: "cancelled"}, Now: openedAt.Add(time.Hour)}); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	// Cancelled, the person may book in either campaign.
	moved := mustBook(t, s, other)
	if got, err := s.ActiveBooking(ctx, PersonKey("hana")); err != nil || got.Number != moved.Number || got.CampaignID != otherCampaign {
		t.Fatalf("ActiveBooking after booking in another campaign = %+v, %v; want %s of %s", got, err, moved.Number, otherCampaign)
	}
	wantBookings(t, s, map[string]int{otherCampaign + "/anyone": 1})
	_, err = s.Book(ctx, request("hana", b, c))
	wantErr(t, "back in the first campaign while booked in the other", err, booking.ErrAlreadyBooked)

	// Another person books both campaigns' cohorts: counted per campaign.
	mustBook(t, s, request("jiwoo", b, c))
	wantBookings(t, s, map[string]int{cohort: 1, otherCampaign + "/anyone": 1})
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
	other := request("c5", slot(18, day1, 5), slot(18, day2, 5))
	other.Booking.VaccineID = "moderna"
	ob := mustBook(t, s, other)
	if c, err := s.CountBookings(ctx); err != nil || c.ByVaccine[vaccine] != 5 || c.ByVaccine["moderna"] != 1 || len(c.ByVaccine) != 2 {
		t.Errorf("CountBookings by vaccine = %v, %v; want %s 5, moderna 1", c.ByVaccine, err, vaccine)
	}
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: ob.Number, Notice: booking.Message{Body: "x"}, Now: openedAt}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: last.Number, Notice: booking.Message{Body: "x"}, Now: openedAt}); err != nil {
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
	open := booking.OpenSessionRequest{ChallengeID: "c", ChallengeExpires: openedAt.Add(time.Minute), MaxAttempts: 5, Now: openedAt,
		Session: booking.SessionRecord{ID: "s", PersonKey: PersonKey("bad"), Sealed: []byte("x"), Expires: openedAt.Add(time.Minute)}}
	for name, mutate := range map[string]func(r *booking.OpenSessionRequest){
		"an empty person key":        func(r *booking.OpenSessionRequest) { r.Session.PersonKey = "" },
		"an RRN as person key":       func(r *booking.OpenSessionRequest) { r.Session.PersonKey = "8503091234567" },
		"nothing sealed":             func(r *booking.OpenSessionRequest) { r.Session.Sealed = nil },
		"no challenge":               func(r *booking.OpenSessionRequest) { r.ChallengeID = "" },
		"no most attempts":           func(r *booking.OpenSessionRequest) { r.MaxAttempts = 0 },
		"a session without its id":   func(r *booking.OpenSessionRequest) { r.Session.ID = "" },
		"a session without expiry":   func(r *booking.OpenSessionRequest) { r.Session.Expires = time.Time{} },
		"a challenge without expiry": func(r *booking.OpenSessionRequest) { r.ChallengeExpires = time.Time{} },
	} {
		r := open
		mutate(&r)
		if err := s.OpenSession(ctx, r); err == nil {
			t.Errorf("OpenSession with %s succeeded", name)
		}
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
	_, err = s.Cancel(cctx, booking.CancelRequest{Number: b.Number, Notice: booking.Message{Body: "x"}, Now: openedAt})
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
