package booking_test

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/sqlite"
	"github.com/sluicehq/sluice/internal/seal"
)

// node starts another service ("node") on e's store, with its own index
// and the given sealer, as a second process sharing the database would.
func (e *env) node(s *seal.Sealer) *booking.Service {
	e.t.Helper()
	svc, err := booking.NewService(booking.ServiceConfig{Programme: e.programme, Store: e.store,
		Availability: booking.NewAvailability(testClinics()), Clock: e.clk, PersonKeySecret: secret,
		Sealer: s, DemoMode: true, Log: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// A journey goes through whichever node answers: the code typed on
// another node than the one that sent it, the session used on a third,
// the first node gone meanwhile. Nothing about the person is in a node's
// memory.
func TestAnyNodeServesAnyone(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	a, b, c := e.svc, e.node(sealer), e.node(sealer)
	p := newPerson(1, date(1967, 3, 3))

	vs, err := a.StartVerification(ctx, p.name, p.rrn, p.phone)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.CompleteVerification(ctx, vs.ChallengeID, "000000x")
	wantErr(t, "a wrong code on node B", err, booking.ErrWrongCode)
	sess, err := b.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	if err != nil {
		t.Fatalf("the code sent by node A, typed on node B: %v", err)
	}
	a = nil // node A is gone
	got, err := c.Session(ctx, sess.ID)
	if err != nil {
		t.Fatalf("the session on node C: %v", err)
	}
	if got.Name != sess.Name || got.Phone != sess.Phone || got.PersonKey != sess.PersonKey ||
		got.BirthDate != sess.BirthDate || got.CohortID != "53-54" || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("node C's session %+v, want %+v", got, sess)
	}
	bk, err := c.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26), Block: 1})
	if err != nil {
		t.Fatalf("booking on node C: %v", err)
	}
	mine, err := b.BookingOf(ctx, sess.ID)
	if err != nil || mine.Number != bk.Number {
		t.Fatalf("my booking on node B: %+v, %v", mine.Number, err)
	}

	// One identity, one session, whichever node is asked.
	vs2, err := b.StartVerification(ctx, p.name, p.rrn, p.phone)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteVerification(ctx, vs2.ChallengeID, vs2.DemoCode)
	wantErr(t, "a second session of the person on node C", err, booking.ErrSessionHeld)

	// Done: the session ends on every node, and frees the identity.
	if err := c.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.Session(ctx, sess.ID)
	wantErr(t, "the ended session on node B", err, booking.ErrSessionExpired)
	if _, err := c.CompleteVerification(ctx, vs2.ChallengeID, vs2.DemoCode); err != nil {
		t.Errorf("verifying again once the session ended: %v", err)
	}
}

// A confirmation whose answer was lost (its node killed as it answered)
// is sent again, to another node: it gets the session the first one
// opened, not 409 session_held or an expired challenge. Once that session
// has ended, the challenge opens nothing.
func TestConfirmationSentAgainGetsItsSession(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	a, b := e.svc, e.node(sealer)
	p := newPerson(1, date(1967, 3, 3))
	vs, err := a.StartVerification(ctx, p.name, p.rrn, p.phone)
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	if err != nil {
		t.Fatalf("the confirmation sent again to node B: %v; want the session node A opened", err)
	}
	if again.ID != first.ID || again.PersonKey != first.PersonKey || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("the confirmation sent again: session %+v, want %+v", again, first)
	}
	if _, err := b.Session(ctx, again.ID); err != nil {
		t.Fatalf("the session it got: %v", err)
	}
	_, err = b.CompleteVerification(ctx, vs.ChallengeID, "000000x")
	wantErr(t, "a wrong code for the used challenge", err, booking.ErrChallengeExpired)
	if err := a.EndSession(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
	wantErr(t, "the used challenge once its session ended", err, booking.ErrChallengeExpired)
}

// Keys rotate: records sealed with the old key open while it is still
// listed; once it is removed they are gone (and the log says why), and a
// node with other keys reads nothing.
func TestSessionKeysRotate(t *testing.T) {
	oldKey := seal.Key{ID: "k1", Secret: seal.RandomSecret()}
	newKey := seal.Key{ID: "k2", Secret: seal.RandomSecret()}
	before, _ := seal.New(oldKey)
	during, _ := seal.New(newKey, oldKey)
	after, _ := seal.New(newKey)
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) { c.Sealer = before })
	sess := e.verify(newPerson(1, date(1967, 3, 3)))

	if _, err := e.node(during).Session(ctx, sess.ID); err != nil {
		t.Errorf("a session of the old key during the rotation: %v", err)
	}
	_, err := e.node(after).Session(ctx, sess.ID)
	wantErr(t, "a session of a removed key", err, booking.ErrSessionExpired)
	_, err = e.node(seal.Generate("k1")).Session(ctx, sess.ID)
	wantErr(t, "a session read with another deployment's key of the same id", err, booking.ErrSessionExpired)
	if logs := e.logs.String(); !strings.Contains(logs, "SLUICE_SESSION_KEYS") || !strings.Contains(logs, `\"k1\"`) && !strings.Contains(logs, `"k1"`) {
		t.Errorf("the log does not say a record did not open, and under which key:\n%s", logs)
	}
}

// What the database keeps of a journey in progress holds no name, phone
// number, birth date or RRN, and no token that would let its reader act as
// the person.
func TestStateAtRestIsSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) { c.Store = st })
	p := person{name: "홍길동", rrn: rrn(date(1968, 3, 9), true, 12345), phone: "010-9876-5432"}
	vs := e.start(p) // a challenge tried once, left open
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, "x"); !errors.Is(err, booking.ErrWrongCode) {
		t.Fatal(err)
	}
	sess := e.verify(p)
	b := e.book(sess, clinicSmall, date(2021, 7, 26), 2)
	grant, _, err := e.svc.GrantLookup(ctx, b)
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dump strings.Builder
	for _, table := range []string{"challenge_attempts", "booking_sessions", "lookup_grants"} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					dump.Write(v)
				case string:
					dump.WriteString(v)
				}
				dump.WriteByte(0)
			}
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("table %s is empty: nothing checked", table)
		}
	}
	raw := dump.String()
	for _, leak := range []string{p.name, "01098765432", "9876", "1968-03-09", "680309", "6803091", vs.ChallengeID, sess.ID, grant, b.Number} {
		if strings.Contains(raw, leak) {
			t.Errorf("the state tables hold %q in clear", leak)
		}
	}
	noSecrets(t, "the state tables", raw, p)

	// The challenge's id, which the person holds, is sealed too.
	token, err := base64.RawURLEncoding.DecodeString(vs.ChallengeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{p.name, "01098765432", "1968-03-09", vs.DemoCode} {
		if strings.Contains(string(token), leak) {
			t.Errorf("the challenge id holds %q in clear", leak)
		}
	}
	noSecrets(t, "the challenge id", string(token), p)
}

// Booking "for another person" with one's own RRN is refused: it booked
// the verified person with a phone nobody verified.
func TestProxyBookingForOneselfRefused(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	sess := e.verify(p)
	_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 26),
		ForPerson: &booking.PersonInput{Name: p.name, RRN: p.rrn, Phone: "010-5555-0000"}})
	wantErr(t, "for_person naming oneself", err, booking.ErrProxySelf)
	e.wantPending(0, "none for a refused booking")
	if _, err := e.svc.BookingOf(ctx, sess.ID); !errors.Is(err, booking.ErrNotFound) {
		t.Errorf("a booking exists after the refusal: %v", err)
	}
}

// The same person verified again with another phone replays their key:
// the phone is not part of what the key stands for.
func TestIdempotencyKeyOutlivesAPhoneChange(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	in := booking.BookInput{SessionID: e.verify(p).ID, ClinicID: clinicSmall, Date: date(2021, 7, 26), Block: 4, IdempotencyKey: "form-1"}
	first, err := e.svc.Book(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EndSession(ctx, in.SessionID); err != nil {
		t.Fatal(err)
	}
	p.phone = "010-7777-1234"
	in.SessionID = e.verify(p).ID
	again, err := e.svc.Book(ctx, in)
	if err != nil {
		t.Fatalf("the key sent again after verifying with another phone: %v", err)
	}
	if again.Number != first.Number {
		t.Errorf("replay booked %s, first %s", again.Number, first.Number)
	}
	e.wantPending(1, "the one confirmation")
}

// A person whose answer was lost and who sent no key is told their
// booking number; someone booking for another person who has a booking is
// not told theirs.
func TestAlreadyBookedTellsTheNumber(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	sess := e.verify(p)
	first := e.book(sess, clinicSmall, date(2021, 7, 26), 0)
	_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 27), Block: 1})
	var ab *booking.AlreadyBookedError
	if !errors.As(err, &ab) || !errors.Is(err, booking.ErrAlreadyBooked) || ab.Booking.Number != first.Number {
		t.Fatalf("booking twice: %v, want an AlreadyBookedError with %s", err, first.Number)
	}

	child := newPerson(2, date(1968, 1, 1))
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: e.verify(child).ID, ClinicID: clinicSmall, Date: date(2021, 7, 27),
		ForPerson: &booking.PersonInput{Name: p.name, RRN: p.rrn}})
	if !errors.Is(err, booking.ErrAlreadyBooked) || errors.As(err, &ab) {
		t.Fatalf("booking for someone who has a booking: %v, want ErrAlreadyBooked without their booking", err)
	}
}

// Each message tells what its change did, whenever it is delivered: a
// booking changed at once keeps a confirmation that pairs its first dose
// with its own second dose.
func TestMessagesTellTheTruth(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	b := e.book(e.verify(p), clinicSmall, date(2021, 7, 26), 0)
	ch, err := e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), slot(clinicCentre, date(2021, 7, 28), 5), "")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.DeliverPending(ctx); n != 2 || err != nil {
		t.Fatalf("delivered %d, %v", n, err)
	}
	sent := map[string]string{}
	for _, m := range e.sender.Recent() {
		sent[m.Kind] = m.Body
	}
	for kind, doses := range map[string][2]booking.Appointment{"confirmation": {b.Dose1, b.Dose2}, "change": {ch.Dose1, ch.Dose2}} {
		body := sent[kind]
		for i, d := range doses {
			line := []string{"1차: ", "2차: "}[i] + booking.AppointmentText(d.Date, d.Block)
			if !strings.Contains(body, line) {
				t.Errorf("%s message lacks %q:\n%s", kind, line, body)
			}
		}
	}
}

// Change and cancel sent again with their key (the answer lost) give the
// booking back and change nothing more.
func TestChangeAndCancelSentAgain(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	b := e.book(e.verify(p), clinicSmall, date(2021, 7, 26), 0)
	to := slot(clinicCentre, date(2021, 7, 28), 5)
	c1, err := e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), to, "change-form")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	c2, err := e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), to, "change-form")
	if err != nil || c2.Dose1 != c1.Dose1 || c2.Dose2 != c1.Dose2 || !c2.UpdatedAt.Equal(c1.UpdatedAt) {
		t.Fatalf("the change sent again: %+v, %v; want %+v", c2, err, c1)
	}
	_, err = e.svc.Change(ctx, ref(p.name, p.rrn, b.Number), slot(clinicCentre, date(2021, 7, 29), 5), "change-form")
	wantErr(t, "the key with another slot", err, booking.ErrIdempotencyReuse)
	e.wantBooked(c1.Dose1.Slot, 1)

	x1, err := e.svc.Cancel(ctx, ref(p.name, p.rrn, b.Number), "cancel-form")
	if err != nil {
		t.Fatal(err)
	}
	x2, err := e.svc.Cancel(ctx, ref(p.name, p.rrn, b.Number), "cancel-form")
	if err != nil || x2.Status != booking.StatusCancelled || x2.Number != x1.Number {
		t.Fatalf("the cancel sent again: %+v, %v", x2, err)
	}
	_, err = e.svc.Cancel(ctx, ref(p.name, p.rrn, b.Number), "")
	wantErr(t, "a cancel without a key", err, booking.ErrCancelled)
	e.wantBooked(c1.Dose1.Slot, 0)
	e.wantPending(3, "confirmation, change, cancel")
}

// A look-up grant stands for name and RRN in the pages' change and
// cancel steps, on any node, for LookupGrantTTL.
func TestLookupGrants(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	b := e.book(e.verify(p), clinicSmall, date(2021, 7, 26), 0)
	found, err := e.svc.Lookup(ctx, p.name, p.rrn, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	grant, expires, err := e.svc.GrantLookup(ctx, found)
	if err != nil || !expires.Equal(t0.Add(booking.LookupGrantTTL)) {
		t.Fatalf("GrantLookup: %v, expires %v", err, expires)
	}
	other := e.node(sealer)
	if got, err := other.Granted(ctx, grant); err != nil || got.Number != b.Number {
		t.Fatalf("Granted on another node: %+v, %v", got.Number, err)
	}
	ch, err := other.Change(ctx, booking.BookingRef{Grant: grant}, slot(clinicCentre, date(2021, 7, 28), 1), "")
	if err != nil || ch.Dose1.Slot != slot(clinicCentre, date(2021, 7, 28), 1) {
		t.Fatalf("Change by grant: %+v, %v", ch.Dose1, err)
	}
	_, err = e.svc.Granted(ctx, "not-a-grant")
	wantErr(t, "an unknown grant", err, booking.ErrLookupExpired)
	_, err = e.svc.Granted(ctx, "")
	wantErr(t, "no grant", err, booking.ErrLookupExpired)
	e.clk.Advance(booking.LookupGrantTTL)
	_, err = e.svc.Cancel(ctx, booking.BookingRef{Grant: grant}, "")
	wantErr(t, "a cancel by an expired grant", err, booking.ErrLookupExpired)
}

// Sessions, challenges and look-ups leave the store once expired: nothing
// about a night of journeys piles up, and nothing caps how many there are.
func TestPurgeExpired(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	var sessions []booking.Session
	for i := range 50 {
		sessions = append(sessions, e.verify(newPerson(i, date(1967, 3, 3))))
	}
	for i := range 10 {
		p := newPerson(100+i, date(1967, 3, 4))
		e.start(p)
	}
	if n, err := e.svc.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("purge before anything expired: %d, %v", n, err)
	}
	e.clk.Advance(booking.DefaultSessionTTL)
	if n, err := e.svc.PurgeExpired(ctx); err != nil || n != 100 {
		t.Fatalf("purge after the sessions expired: %d, %v; want 50 sessions and 50 used challenges", n, err)
	}
	for _, s := range sessions[:3] {
		_, err := e.svc.Session(ctx, s.ID)
		wantErr(t, "a purged session", err, booking.ErrSessionExpired)
	}
	e.verify(newPerson(0, date(1967, 3, 3))) // its identity is free again
}

// A verification code goes to the phone and nowhere else: not into what
// the operator's views read.
func TestVerificationCodeNotKept(t *testing.T) {
	e := newEnv(t, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	vs := e.start(p)
	recent := e.sender.Recent()
	if len(recent) != 1 || recent[0].Kind != "verification" {
		t.Fatalf("recent messages %+v, want the verification", recent)
	}
	if strings.Contains(recent[0].Body, vs.DemoCode) {
		t.Errorf("the operator's list of sent messages holds the code: %q", recent[0].Body)
	}
}

// A node that cannot even try for the outbox lock (its database is down)
// says so once, then every half minute, not on every tick.
func TestOutboxLockFailuresLoggedAsAnOutage(t *testing.T) {
	var ls *lockedStore
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) {
		ls = &lockedStore{Store: c.Store, fail: errors.New("dial tcp 10.0.0.5:5432: connection refused")}
		c.Store = ls
	})
	d := driveOutbox(e.svc)
	for range 5 * 40 { // 40 s of ticks, five a second
		d.step()
		e.clk.Advance(200 * time.Millisecond)
	}
	d.stop(t)
	logs := e.logs.String()
	if n := strings.Count(logs, "taking the outbox lock failing"); n != 1 {
		t.Errorf("%d lines saying the outbox lock fails, want 1:\n%s", n, logs)
	}
	if n := strings.Count(logs, "taking the outbox lock still failing"); n != 1 {
		t.Errorf("%d lines saying it still fails after 40 s, want 1 (every 30 s)", n)
	}
	if !strings.Contains(logs, "connection refused") {
		t.Error("the cause is not logged")
	}
}

// A challenge id comes from outside: whatever it holds, confirming it is
// an error of the booking API (never a panic, never a session).
func FuzzChallengeID(f *testing.F) {
	e := newEnv(f, "2021-07-50s", t0, nil)
	p := newPerson(1, date(1967, 3, 3))
	vs := e.start(p)
	f.Add(vs.ChallengeID, "000000")
	f.Add(vs.ChallengeID[:len(vs.ChallengeID)-2], vs.DemoCode)
	f.Add("", "")
	f.Add("AQJz", "123456")
	f.Fuzz(func(t *testing.T, id, code string) {
		if id == vs.ChallengeID {
			return // the one real challenge: used up on its right code
		}
		sess, err := e.svc.CompleteVerification(ctx, id, code)
		if err == nil || booking.ErrorCode(err) == "" {
			t.Fatalf("CompleteVerification(%q, %q) = %+v, %v; want a booking error", id, code, sess, err)
		}
	})
}
