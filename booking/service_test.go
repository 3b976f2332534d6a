package booking_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/sqlite"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/lockedio"
	"github.com/sluicehq/sluice/internal/seal"
)

// --- fixtures -------------------------------------------------------------------

var (
	ctx    = context.Background()
	secret = []byte("test-secret-0123456789abcdef-0123456789")
	sealer = seal.Generate("test")
	// t0 is inside the 53-54 window (and the 55-59 reopened window).
	t0 = time.Date(2021, 7, 19, 21, 0, 0, 0, booking.Seoul)
)

func date(y int, m time.Month, d int) booking.Date { return booking.Date{Year: y, Month: m, Day: d} }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Clinic ids used by the tests.
const (
	clinicSmall  = 1 // 8 per block, Mon-Sat, moderna + pfizer
	clinicCentre = 2 // 100 per block, Mon-Sat, moderna + pfizer
	clinicWed    = 3 // 1 per block, Wednesdays only, moderna
	clinicAZ     = 4 // astrazeneca only
)

func testClinics() []booking.Clinic {
	wed := booking.WeekdaySet(0).With(time.Wednesday)
	return []booking.Clinic{
		{ID: clinicSmall, Name: "서울내과의원", Kind: booking.KindClinic, RegionCode: "11", DistrictCode: "11680",
			Vaccines: []string{"moderna", "pfizer"}, BlockCapacity: 8, OpenDays: booking.MondayToSaturday},
		{ID: clinicCentre, Name: "강남구 예방접종센터", Kind: booking.KindCentre, RegionCode: "11", DistrictCode: "11680",
			Vaccines: []string{"pfizer", "moderna"}, BlockCapacity: 100, OpenDays: booking.MondayToSaturday},
		{ID: clinicWed, Name: "수요의원", Kind: booking.KindClinic, RegionCode: "11", DistrictCode: "11110",
			Vaccines: []string{"moderna"}, BlockCapacity: 1, OpenDays: wed},
		{ID: clinicAZ, Name: "AZ의원", Kind: booking.KindClinic, RegionCode: "26", DistrictCode: "26110",
			Vaccines: []string{"astrazeneca"}, BlockCapacity: 10, OpenDays: booking.MondayToFriday},
	}
}

type env struct {
	t      testing.TB
	svc    *booking.Service
	store  *sqlite.Store
	clk    *clock.Manual
	sender *booking.ConsoleSender
	avail  *booking.Availability
	logs   *lockedio.Buffer
	// programme is the campaign of newEnv's campaignID alone, or both
	// shipped campaigns for campaignID "programme".
	programme *booking.Programme
}

// testProgramme is the shipped campaign with this id as a programme of
// one, or both shipped campaigns for "programme".
func testProgramme(campaignID string) (*booking.Programme, error) {
	if campaignID == "programme" {
		return booking.ShippedProgramme()
	}
	c, err := booking.ShippedCampaign(campaignID)
	if err != nil {
		return nil, err
	}
	return booking.NewProgramme(c)
}

// newEnv builds a service on a fresh in-memory SQLite store. prepare, if
// not nil, runs on the store before the service starts.
func newEnv(t testing.TB, campaignID string, now time.Time, prepare func(*sqlite.Store, *booking.Availability), opts ...func(*booking.ServiceConfig)) *env {
	t.Helper()
	c, err := testProgramme(campaignID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, clk: clock.NewManual(now), avail: booking.NewAvailability(testClinics()),
		logs: &lockedio.Buffer{}, programme: c}
	if prepare != nil {
		prepare(st, e.avail)
	}
	// No timestamps: their digits could contain a verification code by
	// chance and make the "no code in the logs" checks flaky.
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		}}))
	e.sender = booking.NewConsoleSender(log)
	cfg := booking.ServiceConfig{
		Programme: c, Store: st, Availability: e.avail, Clock: e.clk,
		PersonKeySecret: secret, Sealer: sealer, Sender: e.sender, Log: log, DemoMode: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.svc, err = booking.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// rrn makes a resident registration number for a birth date, with a valid
// check digit.
func rrn(birth booking.Date, male bool, serial int) string {
	return booking.FormatRRN(birth, male, serial)
}

type person struct {
	name, rrn, phone string
}

func newPerson(i int, birth booking.Date) person {
	return person{
		name:  "김철수" + string(rune('가'+i)),
		rrn:   rrn(birth, i%2 == 0, 10000+i),
		phone: fmt.Sprintf("010-%04d-%04d", 2000+i, 5678),
	}
}

// verify runs the demo identity check and returns the session.
func (e *env) verify(p person) booking.Session {
	e.t.Helper()
	sess, err := e.tryVerify(p)
	if err != nil {
		e.t.Fatalf("verify %s: %v", p.name, err)
	}
	return sess
}

// start starts p's identity check: the code is sent, and the test fails if
// it cannot be.
func (e *env) start(p person) booking.VerificationStarted {
	e.t.Helper()
	vs, err := e.svc.StartVerification(ctx, p.name, p.rrn, p.phone)
	if err != nil {
		e.t.Fatalf("start verification of %s: %v", p.name, err)
	}
	return vs
}

func (e *env) tryVerify(p person) (booking.Session, error) {
	vs, err := e.svc.StartVerification(ctx, p.name, p.rrn, p.phone)
	if err != nil {
		return booking.Session{}, err
	}
	return e.svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
}

func (e *env) book(sess booking.Session, clinic int64, d booking.Date, b booking.TimeBlock) booking.Booking {
	e.t.Helper()
	bk, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinic, Date: d, Block: b})
	if err != nil {
		e.t.Fatalf("book %v %v %v: %v", clinic, d, b, err)
	}
	return bk
}

func (e *env) pending() []booking.Message {
	e.t.Helper()
	ms, err := e.store.PendingMessages(ctx, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// wantPending checks that the outbox holds n undelivered messages; want
// says which ones.
func (e *env) wantPending(n int, want string) {
	e.t.Helper()
	if ms := e.pending(); len(ms) != n {
		e.t.Errorf("%d messages pending, want %d: %s", len(ms), n, want)
	}
}

func (e *env) storeCount(s booking.Slot) int {
	e.t.Helper()
	counts, err := e.store.SlotCounts(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range counts {
		if c.Slot == s {
			return c.Booked
		}
	}
	return 0
}

// wantBooked checks that the index and the store agree on a slot's count.
func (e *env) wantBooked(s booking.Slot, want int) {
	e.t.Helper()
	if got := e.avail.Booked(s); got != want {
		e.t.Errorf("index: slot %v booked %d, want %d", s, got, want)
	}
	if got := e.storeCount(s); got != want {
		e.t.Errorf("store: slot %v booked %d, want %d", s, got, want)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// noSecrets fails if text holds a person's RRN (with or without the dash).
func noSecrets(t *testing.T, where, text string, people ...person) {
	t.Helper()
	for _, p := range people {
		plain := strings.ReplaceAll(p.rrn, "-", "")
		if strings.Contains(text, plain) || strings.Contains(text, p.rrn) {
			t.Errorf("%s contains the RRN of %s", where, p.name)
		}
	}
}

// ref names a booking by name, RRN and number, as typed.
func ref(name, rrn, number string) booking.BookingRef {
	return booking.BookingRef{Name: name, RRN: rrn, Number: number}
}

func slot(c int64, d booking.Date, b booking.TimeBlock) booking.Slot {
	return booking.Slot{ClinicID: c, Date: d, Block: b}
}

// --- end to end ----------------------------------------------------------------

func TestServiceEndToEnd(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	hong := person{name: " 홍길동 ", rrn: rrn(date(1968, 3, 9), true, 12345), phone: "010-1234-5678"}

	vs := e.start(hong)
	if len(vs.DemoCode) != 6 || strings.Trim(vs.DemoCode, "0123456789") != "" {
		t.Fatalf("demo code %q, want 6 digits", vs.DemoCode)
	}
	if !vs.ExpiresAt.Equal(t0.Add(booking.ChallengeTTL)) {
		t.Errorf("challenge expires %v, want %v", vs.ExpiresAt, t0.Add(booking.ChallengeTTL))
	}
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, "not-it"); !errors.Is(err, booking.ErrWrongCode) {
		t.Fatalf("wrong code: %v", err)
	}
	sess, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Name != "홍길동" || sess.Phone != "01012345678" || sess.BirthDate != date(1968, 3, 9) ||
		sess.Sex != "M" || sess.CohortID != "53-54" || sess.PersonKey == "" {
		t.Fatalf("session %+v", sess)
	}
	if got, err := e.svc.Session(ctx, sess.ID); err != nil || got.ID != sess.ID {
		t.Fatal("Session(id) does not find the new session")
	}
	// The challenge is used up: sent again, the right code gets the same
	// session (TestConfirmationSentAgainGetsItsSession), a wrong one
	// nothing.
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, "not-it"); !errors.Is(err, booking.ErrChallengeExpired) {
		t.Fatalf("a wrong code for a used challenge: %v", err)
	}
	if again, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode); err != nil || again.ID != sess.ID {
		t.Fatalf("second use of a challenge: %+v, %v; want the same session", again, err)
	}

	d1 := date(2021, 7, 26)
	b := e.book(sess, clinicSmall, d1, 0)
	if b.VaccineID != "moderna" || b.CohortID != "53-54" || b.CampaignID != "2021-07-50s" ||
		b.Status != booking.StatusBooked || !strings.HasPrefix(b.Number, "SLC-") {
		t.Fatalf("booking %+v", b)
	}
	// Moderna first doses from 2021-07-19: 42 days by default.
	if b.Dose1.Slot != slot(clinicSmall, d1, 0) || b.Dose2.Slot != slot(clinicSmall, date(2021, 9, 6), 0) {
		t.Fatalf("doses %+v %+v", b.Dose1, b.Dose2)
	}
	if b.BookedBy != b.PersonKey {
		t.Errorf("own booking: BookedBy %q != PersonKey %q", b.BookedBy, b.PersonKey)
	}
	e.wantBooked(b.Dose1.Slot, 1)
	e.wantBooked(b.Dose2.Slot, 1)

	st, err := e.svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Campaigns[0].Cohorts {
		want := 0
		if c.ID == "53-54" {
			want = 1
		}
		if c.Booked != want {
			t.Errorf("stats cohort %s booked %d, want %d", c.ID, c.Booked, want)
		}
	}
	if st.Booked != 1 || st.Vaccines[0].ID != "moderna" || st.Vaccines[0].Used != 2 {
		t.Errorf("stats %+v", st)
	}
	ds, err := e.svc.ClinicDayStats(clinicSmall, d1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Booked != 1 || ds.Capacity != 64 || ds.Free != 63 || ds.Blocks[0].Booked != 1 || ds.Blocks[0].Free != 7 || ds.Blocks[0].Start != "09:00" {
		t.Errorf("clinic day stats %+v", ds)
	}

	// The confirmation goes out with both doses, the number and no RRN.
	if n, err := e.svc.DeliverPending(ctx); n != 1 || err != nil {
		t.Fatalf("deliver after booking: %d, %v", n, err)
	}
	conf := e.sender.Recent()[0]
	if conf.Kind != "confirmation" || conf.BookingNumber != b.Number || conf.To != "010-****-5678" {
		t.Fatalf("confirmation %+v", conf)
	}
	for _, want := range []string{b.Number, "서울내과의원", "모더나", "2021년 7월 26일(월) 09:00~10:00", "2021년 9월 6일(월) 09:00~10:00"} {
		if !strings.Contains(conf.Body, want) {
			t.Errorf("confirmation %q lacks %q", conf.Body, want)
		}
	}

	// Look-up: name + RRN + number; any mismatch is "not found".
	got, err := e.svc.Lookup(ctx, "홍길동", hong.rrn, strings.ToLower(b.Number))
	if err != nil || got.Number != b.Number {
		t.Fatalf("lookup: %v %+v", err, got)
	}
	other := rrn(date(1968, 3, 9), true, 12346)
	for _, tc := range []struct{ name, rrn, number string }{
		{"홍길순", hong.rrn, b.Number},
		{"홍길동", other, b.Number},
		{"홍길동", hong.rrn, "SLC-ZZZZ-ZZZZ"},
		{"홍길동", hong.rrn, "SLC-'; DROP"},
	} {
		if _, err := e.svc.Lookup(ctx, tc.name, tc.rrn, tc.number); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("lookup %+v: %v, want ErrNotFound", tc, err)
		}
	}
	if _, err := e.svc.Lookup(ctx, "홍길동", "680309-1", b.Number); !errors.Is(err, booking.ErrRRNFormat) {
		t.Errorf("lookup with a malformed RRN: %v", err)
	}

	// Change to the centre on 07-27, 12:00.
	d1b := date(2021, 7, 27)
	ch, err := e.svc.Change(ctx, ref("홍길동", hong.rrn, b.Number), slot(clinicCentre, d1b, 3), "")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Dose1.Slot != slot(clinicCentre, d1b, 3) || ch.Dose2.Slot != slot(clinicCentre, date(2021, 9, 7), 3) || ch.Number != b.Number {
		t.Fatalf("changed booking %+v", ch)
	}
	e.wantBooked(b.Dose1.Slot, 0)
	e.wantBooked(b.Dose2.Slot, 0)
	e.wantBooked(ch.Dose1.Slot, 1)
	e.wantBooked(ch.Dose2.Slot, 1)
	if n, err := e.svc.DeliverPending(ctx); n != 1 || err != nil {
		t.Fatalf("deliver after change: %d, %v", n, err)
	}
	chm := e.sender.Recent()[0]
	if chm.Kind != "change" || !strings.Contains(chm.Body, "2021년 9월 7일(화) 12:00~13:00") || !strings.Contains(chm.Body, "강남구 예방접종센터") {
		t.Errorf("change message %+v", chm)
	}

	// Cancel frees everything.
	cb, err := e.svc.Cancel(ctx, ref("홍길동", hong.rrn, b.Number), "")
	if err != nil {
		t.Fatal(err)
	}
	if cb.Status != booking.StatusCancelled {
		t.Fatalf("cancelled booking status %q", cb.Status)
	}
	e.wantBooked(ch.Dose1.Slot, 0)
	e.wantBooked(ch.Dose2.Slot, 0)
	if _, err := e.svc.Cancel(ctx, ref("홍길동", hong.rrn, b.Number), ""); !errors.Is(err, booking.ErrCancelled) {
		t.Errorf("second cancel: %v", err)
	}
	if _, err := e.svc.Change(ctx, ref("홍길동", hong.rrn, b.Number), slot(clinicCentre, d1b, 4), ""); !errors.Is(err, booking.ErrCancelled) {
		t.Errorf("change after cancel: %v", err)
	}
	if got, err := e.svc.Lookup(ctx, "홍길동", hong.rrn, b.Number); err != nil || got.Status != booking.StatusCancelled {
		t.Errorf("lookup after cancel: %v %+v", err, got)
	}
	if n, err := e.svc.DeliverPending(ctx); n != 1 || err != nil {
		t.Fatalf("deliver after cancel: %d, %v", n, err)
	}
	if n, err := e.svc.DeliverPending(ctx); n != 0 || err != nil {
		t.Fatalf("nothing left to deliver: %d, %v", n, err)
	}
	if p := e.pending(); len(p) != 0 {
		t.Fatalf("%d messages still pending", len(p))
	}
	st, err = e.svc.Stats(ctx)
	if err != nil || st.Booked != 0 || st.Vaccines[0].Used != 0 {
		t.Errorf("stats after cancel: %v %+v", err, st)
	}

	recent := e.sender.Recent()
	var kinds []string
	for _, m := range recent {
		kinds = append(kinds, m.Kind)
		noSecrets(t, "message "+m.Kind, m.Body+m.To, hong)
		if strings.Contains(m.Body, booking.Dose2Placeholder) {
			t.Errorf("message %s still holds the placeholder: %q", m.Kind, m.Body)
		}
	}
	if want := "cancel,change,confirmation,verification"; strings.Join(kinds, ",") != want {
		t.Errorf("recent messages %v, want %s", kinds, want)
	}
	logs := e.logs.String()
	noSecrets(t, "the logs", logs, hong)
	for _, leak := range []string{"홍길동", "01012345678", vs.DemoCode} {
		if strings.Contains(logs, leak) {
			t.Errorf("the logs contain %q:\n%s", leak, logs)
		}
	}
}

// --- eligibility and proxy booking -------------------------------------------------

func TestBookNotEligible(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	tests := []struct {
		name       string
		birth      booking.Date
		wantReason string
		wantNext   *time.Time
	}{
		{"born 1975: in no cohort of the 50s rounds", date(1975, 5, 5), booking.ReasonNotInAnyCohort, nil},
		{"born 1970: 50-52 opens the next evening", date(1970, 5, 5), booking.ReasonNotYetOpen, ptr(at("2021-07-20T20:00:00+09:00"))},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess := e.verify(newPerson(i, tc.birth))
			_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26)})
			wantErr(t, "book", err, booking.ErrNotEligible)
			var ne *booking.NotEligibleError
			if !errors.As(err, &ne) {
				t.Fatalf("error %T is not a *NotEligibleError", err)
			}
			if ne.Eligibility.Reason != tc.wantReason {
				t.Errorf("reason %q, want %q", ne.Eligibility.Reason, tc.wantReason)
			}
			got := ne.Eligibility.NextWindowOpensAt
			if (got == nil) != (tc.wantNext == nil) || got != nil && !got.Equal(*tc.wantNext) {
				t.Errorf("next window %v, want %v", got, tc.wantNext)
			}
			if ko, _ := booking.ErrorMessage(err); ko != ne.Eligibility.Message || ko == "" {
				t.Errorf("ErrorMessage %q, want the eligibility message", ko)
			}
		})
	}
	e.wantBooked(slot(clinicSmall, date(2021, 7, 26), 0), 0)
	e.wantPending(0, "none for refused bookings")
}

func ptr[T any](v T) *T { return &v }

func TestProxyBooking(t *testing.T) {
	t.Run("50s: allowed", func(t *testing.T) {
		e := newEnv(t, "2021-07-50s", t0, nil)
		child := newPerson(1, date(1968, 1, 1)) // books for a parent
		parent := newPerson(2, date(1963, 4, 4))
		sess := e.verify(child)
		b, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26),
			ForPerson: &booking.PersonInput{Name: parent.name, RRN: parent.rrn}})
		if err != nil {
			t.Fatal(err)
		}
		if b.CohortID != "55-59" || b.Name != parent.name || b.BirthDate != date(1963, 4, 4) ||
			b.BookedBy != sess.PersonKey || b.PersonKey == sess.PersonKey || b.Phone != sess.Phone {
			t.Fatalf("proxy booking %+v", b)
		}
		// The parent looks it up with their own name and RRN.
		if _, err := e.svc.Lookup(ctx, parent.name, parent.rrn, b.Number); err != nil {
			t.Errorf("parent's lookup: %v", err)
		}
		if _, err := e.svc.Lookup(ctx, child.name, child.rrn, b.Number); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("booker's lookup: %v, want ErrNotFound", err)
		}
		// The child can still book for themselves.
		if _, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26)}); err != nil {
			t.Errorf("own booking after a proxy booking: %v", err)
		}
		// A bad RRN of the other person is reported precisely.
		_, err = e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26),
			ForPerson: &booking.PersonInput{Name: "이영희", RRN: "630230-2000000"}})
		wantErr(t, "proxy with a 30 February RRN", err, booking.ErrRRNDate)
	})
	t.Run("18-49: refused", func(t *testing.T) {
		e := newEnv(t, "2021-08-18-49", at("2021-08-09T21:00:00+09:00"), nil)
		booker := newPerson(1, date(1990, 8, 19))
		other := newPerson(2, date(1985, 5, 29)) // eligible today (birth day ends in 9)
		sess := e.verify(booker)
		_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicCentre, Date: date(2021, 8, 17),
			ForPerson: &booking.PersonInput{Name: other.name, RRN: other.rrn, Phone: other.phone}})
		wantErr(t, "proxy in 18-49", err, booking.ErrProxyNotAllowed)
		// The other person may book themselves.
		sess2 := e.verify(other)
		b := e.book(sess2, clinicCentre, date(2021, 8, 17), 0)
		if b.VaccineID != "pfizer" || b.CohortID != "18-49" {
			t.Errorf("own booking %+v", b)
		}
		e.wantPending(1, "the confirmation")
	})
}

// --- session lock --------------------------------------------------------------------

// TestSessionHeldTellsTheCohortsLock: a cohort that sets its own session
// lock (campaign file: session_lock) refuses a second device for that
// long, and the refusal says that lock, rounded up to whole minutes.
func TestSessionHeldTellsTheCohortsLock(t *testing.T) {
	for _, tc := range []struct {
		lock   time.Duration
		ko, en string
	}{
		{3 * time.Minute, "3분", "3 minutes"},
		{90 * time.Second, "2분", "2 minutes"},
	} {
		t.Run(tc.lock.String(), func(t *testing.T) {
			e := newEnv(t, "2021-07-50s", t0, nil, func(cfg *booking.ServiceConfig) {
				for _, c := range cfg.Programme.Campaigns() {
					for i := range c.Cohorts {
						c.Cohorts[i].SessionLock = tc.lock
					}
				}
			})
			p := newPerson(1, date(1967, 7, 7))
			e.verify(p)
			e.clk.Advance(tc.lock - time.Second)
			_, err := e.tryVerify(p)
			var held *booking.SessionHeldError
			if !errors.As(err, &held) || held.Lock != tc.lock {
				t.Fatalf("second device: %v, want a *SessionHeldError of %v", err, tc.lock)
			}
			if ko, en := booking.ErrorMessage(err); !strings.Contains(ko, tc.ko) || !strings.Contains(en, tc.en) {
				t.Errorf("refusal says %q / %q, want %s", ko, en, tc.en)
			}
			e.clk.Advance(time.Second)
			if _, err := e.tryVerify(p); err != nil {
				t.Errorf("after the lock: %v", err)
			}
		})
	}
}

func TestSessionLock(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 7, 7))
	first := e.verify(p)

	// A second device within the lock.
	e.clk.Advance(10*time.Minute - time.Second)
	_, err := e.tryVerify(p)
	wantErr(t, "second device within 10 minutes", err, booking.ErrSessionHeld)
	// The refusal tells the lock the cohort has, not a fixed figure.
	var held *booking.SessionHeldError
	if !errors.As(err, &held) || held.Lock != 10*time.Minute {
		t.Fatalf("refusal %#v: want a *SessionHeldError with the cohort's 10 min lock", err)
	}
	if ko, en := booking.ErrorMessage(err); !strings.Contains(ko, "10분") || !strings.Contains(en, "10 minutes") {
		t.Errorf("refusal says %q / %q, want the lock's 10 minutes", ko, en)
	}
	if _, err := e.svc.Session(ctx, first.ID); err != nil {
		t.Fatalf("the refused device ended the first session: %v", err)
	}
	// Another person is not affected.
	e.verify(newPerson(2, date(1967, 7, 8)))

	// After the lock: the new device gets the session, the old one loses it.
	e.clk.Advance(time.Second)
	second, err := e.tryVerify(p)
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if _, err := e.svc.Session(ctx, first.ID); !errors.Is(err, booking.ErrSessionExpired) {
		t.Errorf("the first session after a newer session of the same identity: %v, want ErrSessionExpired", err)
	}
	if _, err := e.svc.Book(ctx, booking.BookInput{SessionID: first.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26)}); !errors.Is(err, booking.ErrSessionExpired) {
		t.Errorf("booking with the replaced session: %v", err)
	}
	e.book(second, clinicSmall, date(2021, 7, 26), 1)

	// Sessions expire.
	e.clk.Advance(booking.DefaultSessionTTL)
	if _, err := e.svc.Session(ctx, second.ID); !errors.Is(err, booking.ErrSessionExpired) {
		t.Errorf("session after its TTL: %v, want ErrSessionExpired", err)
	}
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: second.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26)})
	wantErr(t, "expired session", err, booking.ErrSessionExpired)
}

// --- concurrency ---------------------------------------------------------------------

func TestConcurrentLastPlaces(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	d1 := date(2021, 7, 26)
	s1, s2 := slot(clinicSmall, d1, 2), slot(clinicSmall, date(2021, 9, 6), 2)
	// 3 of 8 places taken: 5 left.
	var numbers = map[string]bool{}
	for i := range 3 {
		numbers[e.book(e.verify(newPerson(100+i, date(1968, 2, 1+i))), clinicSmall, d1, 2).Number] = true
	}
	const n = 40
	sessions := make([]booking.Session, n)
	for i := range sessions {
		sessions[i] = e.verify(newPerson(i, date(1967, 1, 1).AddDays(i)))
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]booking.Booking, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.svc.Book(ctx, booking.BookInput{SessionID: sessions[i].ID,
				ClinicID: clinicSmall, Date: d1, Block: 2, VaccineID: "moderna"})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			if numbers[results[i].Number] {
				t.Errorf("number %s given twice", results[i].Number)
			}
			numbers[results[i].Number] = true
			if results[i].Dose2.Slot != s2 {
				t.Errorf("dose 2 at %v, want %v", results[i].Dose2.Slot, s2)
			}
		case !errors.Is(err, booking.ErrSlotFull):
			t.Errorf("person %d: %v, want ErrSlotFull", i, err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d bookings succeeded, want 5", ok)
	}
	e.wantBooked(s1, 8)
	e.wantBooked(s2, 8)
	pending := e.pending()
	if len(pending) != 8 {
		t.Fatalf("%d outbox messages, want 8 (one per booking)", len(pending))
	}
	for _, m := range pending {
		if m.Kind != "confirmation" || !numbers[m.BookingNumber] {
			t.Errorf("unexpected outbox message %+v", m)
		}
		delete(numbers, m.BookingNumber)
	}
	if len(numbers) != 0 {
		t.Errorf("bookings without a message: %v", numbers)
	}
	st, err := e.svc.Stats(ctx)
	if err != nil || st.Booked != 8 {
		t.Errorf("stats: %v, booked %d, want 8", err, st.Booked)
	}
}

// --- uniqueness and idempotency --------------------------------------------------------

// A retried request (the same idempotency key) gets the booking the first
// one made and counts it once, with one confirmation; also when that
// booking took the last place (the index pre-check must not answer
// "full").
func TestIdempotentRetry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		clinic int64
		day    booking.Date
		block  booking.TimeBlock
		last   bool // the first request takes the slot's last place
	}{
		{"places left", clinicSmall, date(2021, 7, 26), 4, false},
		{"the last place", clinicWed, date(2021, 7, 28), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "2021-07-50s", t0, nil)
			sess := e.verify(newPerson(1, date(1967, 3, 3)))
			in := booking.BookInput{SessionID: sess.ID, ClinicID: tc.clinic, Date: tc.day, Block: tc.block, IdempotencyKey: "try-1"}
			first, err := e.svc.Book(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if full := e.avail.Free(first.Dose1.Slot) == 0; full != tc.last {
				t.Fatalf("test setup: slot full %v after the first request, want %v", full, tc.last)
			}
			retry, err := e.svc.Book(ctx, in)
			if err != nil || retry.Number != first.Number {
				t.Fatalf("retry: %v, %s (first %s)", err, retry.Number, first.Number)
			}
			e.wantBooked(first.Dose1.Slot, 1) // the retry did not count twice
			e.wantBooked(first.Dose2.Slot, 1)
			e.wantPending(1, "1 confirmation")
		})
	}
}

// Booked once, a person is refused another booking, without the key or
// with it for another slot; another person's same key string is theirs.
func TestAlreadyBooked(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	d1 := date(2021, 7, 26)
	sess := e.verify(newPerson(1, date(1967, 3, 3)))
	first, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 4, IdempotencyKey: "try-1"})
	if err != nil {
		t.Fatal(err)
	}

	// The same person again, without the key or with another slot.
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 5})
	wantErr(t, "second booking", err, booking.ErrAlreadyBooked)
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 5, IdempotencyKey: "try-1"})
	wantErr(t, "same key, other slot", err, booking.ErrIdempotencyReuse)

	// Another person using the same key string is not affected by it.
	other := e.verify(newPerson(2, date(1967, 3, 4)))
	ob, err := e.svc.Book(ctx, booking.BookInput{SessionID: other.ID, ClinicID: clinicSmall, Date: d1, Block: 4, IdempotencyKey: "try-1"})
	if err != nil || ob.Number == first.Number {
		t.Fatalf("other person with the same key: %v, %s", err, ob.Number)
	}

	e.wantPending(2, "2 confirmations")
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, IdempotencyKey: strings.Repeat("k", 300)})
	wantErr(t, "over-long key", err, booking.ErrInvalidRequest)
}

// A verified person's own booking is found from their session: before
// booking none, then it, then none again once cancelled.
func TestBookingOfSession(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	sess := e.verify(p)
	_, err := e.svc.BookingOf(ctx, sess.ID)
	wantErr(t, "before booking", err, booking.ErrNotFound)
	b := e.book(sess, clinicSmall, date(2021, 7, 26), 4)
	got, err := e.svc.BookingOf(ctx, sess.ID)
	if err != nil || got.Number != b.Number {
		t.Fatalf("after booking: %v, %v; want %s", got.Number, err, b.Number)
	}
	// Someone else's session does not see it.
	_, err = e.svc.BookingOf(ctx, e.verify(newPerson(2, date(1967, 3, 4))).ID)
	wantErr(t, "another person", err, booking.ErrNotFound)
	_, err = e.svc.BookingOf(ctx, "no-such-session")
	wantErr(t, "no session", err, booking.ErrSessionExpired)
	if _, err := e.svc.Cancel(ctx, ref(p.name, p.rrn, b.Number), ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.BookingOf(ctx, sess.ID)
	wantErr(t, "cancelled", err, booking.ErrNotFound)
}

// --- slot checks ---------------------------------------------------------------------

func TestBookChecks(t *testing.T) {
	now := at("2021-07-20T10:30:00+09:00") // Tuesday, block 1 (10:00) has started
	e := newEnv(t, "2021-07-50s", now, nil)
	pSess, pOld := newPerson(1, date(1968, 6, 6)), newPerson(2, date(1964, 6, 6))
	sess := e.verify(pSess) // 53-54
	old := e.verify(pOld)   // 55-59: moderna only
	rrnOf := map[string]string{sess.ID: pSess.rrn, old.ID: pOld.rrn}
	today, horizon := date(2021, 7, 20), date(2021, 8, 31) // 2021-07-20 + 42 days = 08-31
	tests := []struct {
		name    string
		sess    booking.Session
		in      booking.BookInput
		want    error
		wantVax string
	}{
		{"unknown session", booking.Session{ID: "nope"}, booking.BookInput{ClinicID: clinicSmall, Date: date(2021, 7, 26)}, booking.ErrSessionExpired, ""},
		{"unknown clinic", sess, booking.BookInput{ClinicID: 99, Date: date(2021, 7, 26)}, booking.ErrClinicNotFound, ""},
		{"block outside the day", sess, booking.BookInput{ClinicID: clinicSmall, Date: date(2021, 7, 26), Block: booking.BlocksPerDay}, booking.ErrInvalidSlot, ""},
		{"negative block", sess, booking.BookInput{ClinicID: clinicSmall, Date: date(2021, 7, 26), Block: -1}, booking.ErrInvalidSlot, ""},
		{"no date", sess, booking.BookInput{ClinicID: clinicSmall}, booking.ErrInvalidSlot, ""},
		{"31 June", sess, booking.BookInput{ClinicID: clinicSmall, Date: date(2021, 6, 31)}, booking.ErrInvalidSlot, ""},
		{"yesterday", sess, booking.BookInput{ClinicID: clinicSmall, Date: date(2021, 7, 19), Block: 7}, booking.ErrPastDate, ""},
		{"today, started block", sess, booking.BookInput{ClinicID: clinicSmall, Date: today, Block: 1}, booking.ErrPastDate, ""},
		{"today, later block", sess, booking.BookInput{ClinicID: clinicSmall, Date: today, Block: 2}, nil, "moderna"},
		{"last day of the horizon", old, booking.BookInput{ClinicID: clinicCentre, Date: horizon}, nil, "moderna"},
		{"beyond the horizon", sess, booking.BookInput{ClinicID: clinicCentre, Date: horizon.AddDays(1)}, booking.ErrBeyondHorizon, ""},
		{"Sunday", sess, booking.BookInput{ClinicID: clinicCentre, Date: date(2021, 7, 25)}, booking.ErrClinicClosed, ""},
		{"AZ-only clinic", sess, booking.BookInput{ClinicID: clinicAZ, Date: date(2021, 7, 26)}, booking.ErrVaccineNotOffered, ""},
		{"vaccine not in the campaign", sess, booking.BookInput{ClinicID: clinicAZ, Date: date(2021, 7, 26), VaccineID: "astrazeneca"}, booking.ErrVaccineNotOffered, ""},
		{"pfizer for 55-59", old, booking.BookInput{ClinicID: clinicCentre, Date: date(2021, 7, 26), VaccineID: "pfizer"}, booking.ErrVaccineNotOffered, ""},
		{"pfizer at a moderna-only clinic", sess, booking.BookInput{ClinicID: clinicWed, Date: date(2021, 7, 28), VaccineID: "pfizer"}, booking.ErrVaccineNotOffered, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.SessionID = tc.sess.ID
			b, err := e.svc.Book(ctx, in)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want a booking, got %v", err)
				}
				if b.VaccineID != tc.wantVax {
					t.Errorf("vaccine %s, want %s", b.VaccineID, tc.wantVax)
				}
				// Free the person for the next cases (a booking for today
				// can no longer be cancelled: that is fine too).
				if _, err := e.svc.Cancel(ctx, ref(b.Name, rrnOf[tc.sess.ID], b.Number), ""); err != nil && !errors.Is(err, booking.ErrTooLate) {
					t.Fatalf("cancel: %v", err)
				}
				return
			}
			wantErr(t, "book", err, tc.want)
			if ko, en := booking.ErrorMessage(err); ko == "" || en == "" || strings.HasPrefix(ko, "입력 내용") {
				t.Errorf("no specific message for %v: %q / %q", err, ko, en)
			}
		})
	}
}

// --- cancel / change cut-off ----------------------------------------------------------

func TestCancelChangeCutoff(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	d := date(2021, 7, 28) // Wednesday: refused from Tuesday 07-27 00:00
	ps := []person{newPerson(1, date(1967, 1, 1)), newPerson(2, date(1967, 1, 2)), newPerson(3, date(1967, 1, 3))}
	var bs []booking.Booking
	for _, p := range ps {
		bs = append(bs, e.book(e.verify(p), clinicSmall, d, 3))
	}
	deadline := at("2021-07-27T00:00:00+09:00")
	if dl, ok := booking.ChangeDeadline(bs[0], t0); !ok || !dl.Equal(deadline) {
		t.Fatalf("deadline %v %v, want %v", dl, ok, deadline)
	}

	// Just before: 23:59:59 two days before.
	e.clk.Set(deadline.Add(-time.Second))
	if _, err := e.svc.Cancel(ctx, ref(ps[0].name, ps[0].rrn, bs[0].Number), ""); err != nil {
		t.Fatalf("cancel just before the cut-off: %v", err)
	}
	moved, err := e.svc.Change(ctx, ref(ps[2].name, ps[2].rrn, bs[2].Number), slot(clinicCentre, date(2021, 7, 30), 1), "")
	if err != nil {
		t.Fatalf("change just before the cut-off: %v", err)
	}

	// At the cut-off.
	e.clk.Set(deadline)
	_, err = e.svc.Cancel(ctx, ref(ps[1].name, ps[1].rrn, bs[1].Number), "")
	wantErr(t, "cancel at the cut-off", err, booking.ErrTooLate)
	_, err = e.svc.Change(ctx, ref(ps[1].name, ps[1].rrn, bs[1].Number), slot(clinicCentre, date(2021, 7, 30), 1), "")
	wantErr(t, "change at the cut-off", err, booking.ErrTooLate)
	e.wantBooked(bs[1].Dose1.Slot, 1) // ps[1] still holds 07-28 block 3
	// ps[2] moved to 07-30: their own cut-off is 07-29 00:00.
	if _, err := e.svc.Cancel(ctx, ref(ps[2].name, ps[2].rrn, moved.Number), ""); err != nil {
		t.Errorf("cancel of the moved booking: %v", err)
	}

	// After the first dose: the second dose decides; changing is closed.
	e.clk.Set(at("2021-07-29T10:00:00+09:00"))
	if dl, ok := booking.ChangeDeadline(bs[1], e.clk.Now()); !ok || !dl.Equal(bs[1].Dose2.Date.AddDays(-1).Time()) {
		t.Errorf("deadline after dose 1: %v %v", dl, ok)
	}
	_, err = e.svc.Change(ctx, ref(ps[1].name, ps[1].rrn, bs[1].Number), slot(clinicCentre, date(2021, 7, 30), 1), "")
	wantErr(t, "change after the first dose", err, booking.ErrTooLate)
	if _, err := e.svc.Cancel(ctx, ref(ps[1].name, ps[1].rrn, bs[1].Number), ""); err != nil {
		t.Errorf("cancel of the second dose before its cut-off: %v", err)
	}
	// Both doses past.
	if _, ok := booking.ChangeDeadline(bs[1], at("2021-09-09T00:00:00+09:00")); ok {
		t.Error("deadline reported after both doses")
	}
	e.wantBooked(slot(clinicSmall, d, 3), 0)
	e.wantBooked(moved.Dose1.Slot, 0)
}

// --- second dose and supply ---------------------------------------------------------------

// fillWednesdays books every second-dose slot of a 2021-07-28 Moderna first
// dose at clinicWed (09-01 and 09-08, 8 blocks each) directly in the store.
func fillWednesdays(t *testing.T, st *sqlite.Store, avail *booking.Availability) {
	t.Helper()
	i := 0
	for _, d := range []booking.Date{date(2021, 9, 1), date(2021, 9, 8)} {
		for b := range booking.TimeBlock(booking.BlocksPerDay) {
			i++
			_, err := st.Book(ctx, booking.BookRequest{
				Booking: booking.Booking{CampaignID: "filler", CohortID: "filler", VaccineID: "pfizer",
					PersonKey: fmt.Sprintf("filler-%d", i), Dose1: booking.Appointment{Slot: slot(clinicWed, d, b)}},
				Dose2Candidates: []booking.Slot{slot(clinicCentre, date(2021, 10, 20), 0)},
				SlotCapacity:    avail.Capacity,
				Confirmation:    booking.Message{Body: "filler"},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestNoSecondDose(t *testing.T) {
	d1 := slot(clinicWed, date(2021, 7, 28), 0)
	check := func(t *testing.T, e *env) {
		sess := e.verify(newPerson(1, date(1967, 2, 2)))
		_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicWed, Date: d1.Date, Block: d1.Block})
		wantErr(t, "book", err, booking.ErrNoSecondDose)
		e.wantBooked(d1, 0) // nothing held
		e.wantPending(16, "the 16 fillers'")
		st, _ := e.svc.Stats(ctx)
		if st.Vaccines[0].Used != 0 {
			t.Errorf("moderna used %d, want 0", st.Vaccines[0].Used)
		}
	}
	t.Run("index pre-check", func(t *testing.T) {
		// Filled before the service starts: the warmed index knows.
		e := newEnv(t, "2021-07-50s", t0, func(st *sqlite.Store, a *booking.Availability) { fillWednesdays(t, st, a) })
		if got := e.avail.Booked(slot(clinicWed, date(2021, 9, 8), 7)); got != 1 {
			t.Fatalf("warm-up: index shows %d, want 1", got)
		}
		check(t, e)
	})
	t.Run("store decides", func(t *testing.T) {
		// Filled behind the service's back: the index says free, the store
		// refuses in the transaction.
		e := newEnv(t, "2021-07-50s", t0, nil)
		fillWednesdays(t, e.store, e.avail)
		check(t, e)
	})
}

func TestSupplyExhausted(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, func(st *sqlite.Store, _ *booking.Availability) {
		if err := st.SetSupply(ctx, "moderna", 2); err != nil { // one person
			t.Fatal(err)
		}
	})
	if a, u, _ := e.store.Supply(ctx, "moderna"); a != 2 || u != 0 {
		t.Fatalf("the service overwrote the store's allocation: %d/%d", a, u)
	}
	d1 := date(2021, 7, 26)
	e.book(e.verify(newPerson(1, date(1967, 5, 5))), clinicSmall, d1, 0)
	sess := e.verify(newPerson(2, date(1967, 5, 6)))
	_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 0})
	wantErr(t, "default vaccine", err, booking.ErrSupplyExhausted)
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 0, VaccineID: "moderna"})
	wantErr(t, "moderna", err, booking.ErrSupplyExhausted)
	e.wantBooked(slot(clinicSmall, d1, 0), 1)
	b, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: d1, Block: 0, VaccineID: "pfizer"})
	if err != nil || b.VaccineID != "pfizer" {
		t.Fatalf("pfizer: %v %+v", err, b)
	}
	st, err := e.svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []booking.VaccineStats{
		{ID: "moderna", Name: "모더나", NameEN: "Moderna", Allocated: 2, Used: 2, Remaining: 0},
		// Unlimited, but its doses are counted: the booking's two.
		{ID: "pfizer", Name: "화이자", NameEN: "Pfizer-BioNTech", Unlimited: true, Used: 2},
	}
	for i := range want {
		if st.Vaccines[i] != want[i] {
			t.Errorf("vaccine stats %+v, want %+v", st.Vaccines[i], want[i])
		}
	}
}

// --- verification ---------------------------------------------------------------------

func TestStartVerificationErrors(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	good := newPerson(1, date(1967, 1, 1))
	tests := []struct {
		name, pname, rrn, phone string
		want                    error
	}{
		{"empty name", "", good.rrn, good.phone, booking.ErrName},
		{"digits in name", "홍길동1", good.rrn, good.phone, booking.ErrName},
		{"short RRN", good.name, "670101-123", good.phone, booking.ErrRRNFormat},
		{"30 February", good.name, "670230-1234567", good.phone, booking.ErrRRNDate},
		{"29 February 1967", good.name, "670229-1234567", good.phone, booking.ErrRRNDate},
		{"landline", good.name, good.rrn, "02-123-4567", booking.ErrPhone},
		{"name checked first", "", "x", "y", booking.ErrName},
		{"RRN before phone", good.name, "x", "y", booking.ErrRRNFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.StartVerification(ctx, tc.pname, tc.rrn, tc.phone)
			wantErr(t, "start", err, tc.want)
			var ie *booking.InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
		})
	}
	if n := len(e.sender.Recent()); n != 0 {
		t.Errorf("%d codes sent for invalid input", n)
	}
}

func TestVerificationAttemptsAndExpiry(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 1, 1))
	vs := e.start(p)
	wrong := "000000"
	if vs.DemoCode == wrong {
		wrong = "111111"
	}
	for i := 1; i < booking.MaxCodeAttempts; i++ {
		_, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, wrong)
		wantErr(t, fmt.Sprintf("wrong code %d", i), err, booking.ErrWrongCode)
		var wc *booking.WrongCodeError
		if !errors.As(err, &wc) || wc.TriesLeft != booking.MaxCodeAttempts-i {
			t.Errorf("wrong code %d: %v, want %d tries left", i, err, booking.MaxCodeAttempts-i)
		}
	}
	_, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, wrong)
	wantErr(t, "last wrong code", err, booking.ErrTooManyAttempts)
	_, err = e.svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	wantErr(t, "right code after too many", err, booking.ErrChallengeExpired)

	vs = e.start(p)
	e.clk.Advance(booking.ChallengeTTL)
	_, err = e.svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	wantErr(t, "expired code", err, booking.ErrChallengeExpired)

	// The verification text has the code and nothing personal.
	for _, m := range e.sender.Recent() {
		if m.Kind != "verification" || m.To != "010-****-5678" {
			t.Errorf("message %+v", m)
		}
		noSecrets(t, "verification message", m.Body, p)
		if strings.Contains(m.Body, p.name) {
			t.Errorf("verification message holds the name: %q", m.Body)
		}
	}
	if strings.Contains(e.logs.String(), vs.DemoCode) {
		t.Error("a verification code was logged")
	}
}

func TestDemoCodeOnlyInDemoMode(t *testing.T) {
	var sent []booking.Message
	var mu sync.Mutex
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) {
		c.DemoMode = false
		c.Identity = booking.NewDemoIdentity(c.Clock, func(m booking.Message) error {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, m)
			return nil
		})
	})
	p := newPerson(1, date(1967, 1, 1))
	vs := e.start(p)
	if vs.DemoCode != "" {
		t.Fatalf("demo code %q given out outside demo mode", vs.DemoCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || sent[0].To != "01020015678" {
		t.Fatalf("sent %+v", sent)
	}
	code := strings.TrimFunc(sent[0].Body[strings.Index(sent[0].Body, "인증번호는 ")+len("인증번호는 "):], func(r rune) bool { return r < '0' || r > '9' })
	code = code[:6]
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, code); err != nil {
		t.Fatalf("code from the message: %v", err)
	}
}

// --- outbox ---------------------------------------------------------------------------

type flakySender struct {
	mu    sync.Mutex
	fails int
	calls int
	sent  []booking.Message
}

func (f *flakySender) Send(ctx context.Context, m booking.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fails > 0 {
		f.fails--
		return errors.New("gateway down")
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestOutboxRetryWithBackoff(t *testing.T) {
	fs := &flakySender{fails: 2}
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) {
		c.Sender = fs
		c.Identity = booking.NewDemoIdentity(c.Clock, nil)
	})
	e.book(e.verify(newPerson(1, date(1967, 1, 1))), clinicSmall, date(2021, 7, 26), 0)

	step := func(what string, wantDelivered int, wantErr bool, wantCalls int) {
		t.Helper()
		n, err := e.svc.DeliverPending(ctx)
		if n != wantDelivered || (err != nil) != wantErr {
			t.Fatalf("%s: delivered %d, err %v; want %d, error %v", what, n, err, wantDelivered, wantErr)
		}
		fs.mu.Lock()
		calls := fs.calls
		fs.mu.Unlock()
		if calls != wantCalls {
			t.Fatalf("%s: %d sends, want %d", what, calls, wantCalls)
		}
	}
	step("first try", 0, true, 1)
	step("in backoff", 0, false, 1)
	e.clk.Advance(booking.OutboxBaseBackoff)
	step("second try", 0, true, 2)
	e.clk.Advance(booking.OutboxBaseBackoff)
	step("backoff doubled", 0, false, 2)
	e.clk.Advance(booking.OutboxBaseBackoff)
	step("third try", 1, false, 3)
	step("done", 0, false, 3)
	if len(fs.sent) != 1 || fs.sent[0].Kind != "confirmation" || strings.Contains(fs.sent[0].Body, booking.Dose2Placeholder) {
		t.Fatalf("sent %+v", fs.sent)
	}
}

// outboxDriver runs the service's outbox worker on ticks the test sends.
// A send returns once the worker has finished its previous step and taken
// the tick, so step() is a point at which the worker has done all it was
// going to do so far.
type outboxDriver struct {
	ticks  chan time.Time
	done   chan error
	cancel context.CancelFunc
}

func driveOutbox(svc *booking.Service) *outboxDriver {
	rctx, cancel := context.WithCancel(ctx)
	d := &outboxDriver{ticks: make(chan time.Time), done: make(chan error, 1), cancel: cancel}
	go func() { d.done <- svc.RunOutboxOnTicks(rctx, d.ticks) }()
	return d
}

// step lets the worker run one more step and waits until it has finished.
func (d *outboxDriver) step() {
	d.ticks <- time.Time{}
	d.ticks <- time.Time{}
}

func (d *outboxDriver) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	if err := <-d.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunOutbox returned %v", err)
	}
}

func TestRunOutbox(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	d := driveOutbox(e.svc)
	e.book(e.verify(newPerson(1, date(1967, 1, 1))), clinicSmall, date(2021, 7, 26), 0)
	d.step()
	if n := len(e.pending()); n != 0 {
		t.Fatalf("%d messages pending after a delivery pass", n)
	}
	d.stop(t)
	if r := e.sender.Recent(); len(r) != 2 || r[0].Kind != "confirmation" {
		t.Fatalf("recent %+v", r)
	}
}

func TestConsoleSenderRing(t *testing.T) {
	var buf lockedio.Buffer
	cs := booking.NewConsoleSender(slog.New(slog.NewTextHandler(&buf, nil)))
	for i := range booking.RecentMessages + 5 {
		if err := cs.Send(ctx, booking.Message{ID: int64(i), Kind: "confirmation", To: "01098765432", Body: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	r := cs.Recent()
	if len(r) != booking.RecentMessages || r[0].ID != booking.RecentMessages+4 || r[len(r)-1].ID != 5 {
		t.Fatalf("recent: %d messages, first %d, last %d", len(r), r[0].ID, r[len(r)-1].ID)
	}
	if r[0].To != "010-****-5432" {
		t.Errorf("recent phone %q", r[0].To)
	}
	if strings.Contains(buf.String(), "01098765432") || !strings.Contains(buf.String(), "010-****-5432") {
		t.Errorf("log does not mask the phone: %s", buf.String()[:200])
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"01012345678": "010-****-5678",
		"0111234567":  "011-***-4567",
		"123456":      "**3456",
		"12":          "****",
		"":            "****",
	} {
		if got := booking.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// --- configuration and warm start ---------------------------------------------------------

func TestNewServiceConfig(t *testing.T) {
	c, err := testProgramme("2021-07-50s")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	avail := booking.NewAvailability(testClinics())
	base := booking.ServiceConfig{Programme: c, Store: st, Availability: avail, PersonKeySecret: secret, Sealer: sealer,
		DemoMode: true, Log: slog.New(slog.DiscardHandler)}
	bad := []struct {
		name string
		edit func(*booking.ServiceConfig)
	}{
		{"short secret", func(c *booking.ServiceConfig) { c.PersonKeySecret = secret[:31] }},
		{"no store", func(c *booking.ServiceConfig) { c.Store = nil }},
		{"no programme", func(c *booking.ServiceConfig) { c.Programme = nil }},
		{"no availability", func(c *booking.ServiceConfig) { c.Availability = nil }},
		{"no identity outside demo mode", func(c *booking.ServiceConfig) { c.DemoMode = false }},
		{"no sealer", func(c *booking.ServiceConfig) { c.Sealer = nil }},
	}
	for _, tc := range bad {
		cfg := base
		tc.edit(&cfg)
		if _, err := booking.NewService(cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := booking.NewService(base); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := st.Supply(ctx, "moderna"); a != 3700000 {
		t.Errorf("moderna allocation %d, want the campaign's 3700000", a)
	}
	if a, _, _ := st.Supply(ctx, "pfizer"); a != 0 {
		t.Errorf("pfizer allocation %d, want 0 (unlimited)", a)
	}
}

func TestWarmStart(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	b := e.book(e.verify(newPerson(1, date(1967, 1, 1))), clinicSmall, date(2021, 7, 26), 6)
	// A second node (or a restart) on the same store.
	avail := booking.NewAvailability(testClinics())
	svc, err := booking.NewService(booking.ServiceConfig{Programme: e.programme, Store: e.store, Availability: avail,
		Clock: e.clk, PersonKeySecret: secret, Sealer: sealer, DemoMode: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []booking.Slot{b.Dose1.Slot, b.Dose2.Slot} {
		if got := avail.Booked(s); got != 1 {
			t.Errorf("warmed index: %v booked %d, want 1", s, got)
		}
	}
	ds, err := svc.ClinicDayStats(clinicSmall, date(2021, 7, 26))
	if err != nil || ds.Blocks[6].Booked != 1 || ds.Blocks[6].Start != "15:00" || !ds.Open {
		t.Errorf("clinic day stats: %v %+v", err, ds)
	}
	if _, err := svc.ClinicDayStats(99, date(2021, 7, 26)); !errors.Is(err, booking.ErrClinicNotFound) {
		t.Errorf("unknown clinic: %v", err)
	}
	if ds, err := svc.ClinicDayStats(clinicSmall, date(2021, 7, 25)); err != nil || ds.Open || ds.Capacity != 0 {
		t.Errorf("Sunday: %v %+v", err, ds)
	}
}

func TestChangeRefusals(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 1, 1))
	b := e.book(e.verify(p), clinicSmall, date(2021, 7, 26), 0)
	// clinicWed 07-28 block 0 has one place: someone takes it.
	full := e.book(e.verify(newPerson(2, date(1967, 1, 2))), clinicWed, date(2021, 7, 28), 0)
	tests := []struct {
		name   string
		clinic int64
		d      booking.Date
		b      booking.TimeBlock
		want   error
	}{
		{"full slot", clinicWed, date(2021, 7, 28), 0, booking.ErrSlotFull},
		{"unknown clinic", 99, date(2021, 7, 28), 0, booking.ErrClinicNotFound},
		{"past", clinicSmall, date(2021, 7, 19), 7, booking.ErrPastDate},
		{"closed", clinicWed, date(2021, 7, 29), 0, booking.ErrClinicClosed},
		{"vaccine not given there", clinicAZ, date(2021, 7, 28), 0, booking.ErrVaccineNotOffered},
		{"beyond the horizon", clinicSmall, date(2021, 8, 31), 0, booking.ErrBeyondHorizon},
	}
	for _, tc := range tests {
		_, err := e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), slot(tc.clinic, tc.d, tc.b), "")
		wantErr(t, tc.name, err, tc.want)
	}
	got, err := e.svc.Lookup(ctx, p.name, p.rrn, b.Number)
	if err != nil || got.Dose1 != b.Dose1 || got.Dose2 != b.Dose2 {
		t.Fatalf("booking moved by a refused change: %v %+v", err, got)
	}
	e.wantBooked(b.Dose1.Slot, 1)
	e.wantBooked(full.Dose1.Slot, 1)
	e.wantPending(2, "the 2 confirmations")
	// Changing to the same slot is allowed (it frees its own place first).
	if _, err := e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), slot(clinicSmall, date(2021, 7, 26), 0), ""); err != nil {
		t.Errorf("change to the same slot: %v", err)
	}
	e.wantBooked(b.Dose1.Slot, 1)
	e.wantBooked(b.Dose2.Slot, 1)
}

// TestBookableDates: the dates offered are exactly those Book accepts
// (horizon as configured, no Sundays, today only while a block is ahead).
func TestBookableDates(t *testing.T) {
	for _, tc := range []struct {
		name        string
		now         time.Time
		horizon     int
		first, last booking.Date
		n           int
	}{
		// Monday 19 July 2021, 21:00: every block of today has started.
		{"evening: from tomorrow", t0, 0, date(2021, 7, 20), date(2021, 8, 30), 36},
		{"morning: from today", time.Date(2021, 7, 19, 15, 59, 0, 0, booking.Seoul), 0, date(2021, 7, 19), date(2021, 8, 30), 37},
		{"last block not started", time.Date(2021, 7, 19, 16, 0, 0, 0, booking.Seoul), 0, date(2021, 7, 20), date(2021, 8, 30), 36},
		{"configured horizon", t0, 10, date(2021, 7, 20), date(2021, 7, 29), 9},
		{"a horizon ending on a Sunday", t0, 13, date(2021, 7, 20), date(2021, 7, 31), 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "2021-07-50s", tc.now, nil, func(c *booking.ServiceConfig) { c.BookingHorizonDays = tc.horizon })
			got := e.svc.BookableDates(tc.now)
			if len(got) != tc.n || got[0] != tc.first || got[len(got)-1] != tc.last {
				t.Fatalf("%d dates %v..%v, want %d %v..%v", len(got), got[0], got[len(got)-1], tc.n, tc.first, tc.last)
			}
			offered := map[booking.Date]bool{}
			for _, d := range got {
				offered[d] = true
				if d.Weekday() == time.Sunday {
					t.Errorf("%v is a Sunday", d)
				}
			}
			// Every offered date is accepted by Book as far as the date
			// goes (the first books, the others are already booked), and
			// the days around them are refused.
			// (Born 1964: the 55-59 window is open all day on 19 July.)
			sess := e.verify(newPerson(1, date(1964, 3, 3)))
			for d := tc.first.AddDays(-2); !d.After(tc.last.AddDays(2)); d = d.AddDays(1) {
				_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicCentre, Date: d, Block: booking.BlocksPerDay - 1})
				dateRefused := errors.Is(err, booking.ErrPastDate) || errors.Is(err, booking.ErrBeyondHorizon) || errors.Is(err, booking.ErrClinicClosed)
				if offered[d] == dateRefused {
					t.Errorf("%v: offered %v, Book says %v", d, offered[d], err)
				}
			}
		})
	}
}

// lockedStore is a store shared by several nodes: the outbox lock is
// free or held elsewhere as the test says.
type lockedStore struct {
	booking.Store
	mu        sync.Mutex
	free      bool // the lock can be taken
	held      bool // this node holds it
	tries     int
	releasedN int
	fail      error // TryLockOutbox fails with it
}

type testLease struct{ s *lockedStore }

func (l testLease) Held(context.Context) bool {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.held
}

func (l testLease) Release() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.held = false
	l.s.releasedN++
}

func (s *lockedStore) TryLockOutbox(context.Context) (booking.OutboxLease, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.fail != nil {
		return nil, false, s.fail
	}
	if !s.free {
		return nil, false, nil
	}
	s.free, s.held = false, true
	return testLease{s}, true, nil
}

// TestRunOutboxSharedStore: with a store several nodes share, a node
// delivers only while it holds the outbox lock.
func TestRunOutboxSharedStore(t *testing.T) {
	var ls *lockedStore
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) {
		ls = &lockedStore{Store: c.Store}
		c.Store = ls
	})
	tries := func() int { ls.mu.Lock(); defer ls.mu.Unlock(); return ls.tries }
	d := driveOutbox(e.svc)
	e.book(e.verify(newPerson(1, date(1967, 1, 1))), clinicSmall, date(2021, 7, 26), 0)
	// Another node holds the lock: this one keeps trying, sends nothing.
	for range 3 {
		d.step()
	}
	if n := tries(); n < 4 {
		t.Fatalf("%d lock attempts after 3 steps, want at least 4", n)
	}
	if n := len(e.pending()); n == 0 {
		t.Fatal("a node without the outbox lock delivered")
	}
	// The lock comes free: this node takes it and delivers.
	ls.mu.Lock()
	ls.free = true
	ls.mu.Unlock()
	d.step()
	if n := len(e.pending()); n != 0 {
		t.Fatalf("%d messages pending once the lock is ours", n)
	}
	// The lock is lost (the connection holding it died): delivery stops
	// and the node goes back to trying for the lock.
	ls.mu.Lock()
	ls.held = false
	ls.mu.Unlock()
	d.step()
	before := tries()
	e.book(e.verify(newPerson(2, date(1967, 2, 2))), clinicSmall, date(2021, 7, 27), 0)
	d.step()
	d.step()
	if tries() <= before {
		t.Fatal("no lock attempt after losing the lock")
	}
	if n := len(e.pending()); n == 0 {
		t.Error("a node that lost the outbox lock still delivered")
	}
	d.stop(t)
	if ls.releasedN != 1 {
		t.Errorf("lease released %d times, want 1", ls.releasedN)
	}
}
