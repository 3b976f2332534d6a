package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// The SessionStore (challenges, sessions, look-ups), Replay and
// ActiveBooking, idempotent changes and cancels, and the texts of messages.

func sessionRecord(id, person string, now time.Time) booking.SessionRecord {
	return booking.SessionRecord{ID: id, PersonKey: PersonKey(person), Sealed: []byte("sealed " + id),
		LockedUntil: now.Add(10 * time.Minute), Expires: now.Add(30 * time.Minute)}
}

// challengeExpires is when the challenges of the tests expire.
var challengeExpires = openedAt.Add(5 * time.Minute)

func openSession(s booking.Store, challengeID string, r booking.SessionRecord, now time.Time) error {
	return openSessionMax(s, challengeID, 5, r, now)
}

func openSessionMax(s booking.Store, challengeID string, maxAttempts int, r booking.SessionRecord, now time.Time) error {
	return s.OpenSession(ctx, booking.OpenSessionRequest{ChallengeID: challengeID, ChallengeExpires: challengeExpires,
		MaxAttempts: maxAttempts, Session: r, Now: now})
}

func testChallenges(t *testing.T, s booking.Store) {
	t0 := openedAt
	for i := 1; i <= 3; i++ {
		n, err := s.CountAttempt(ctx, "ch-a", challengeExpires, 3)
		if err != nil || n != i {
			t.Fatalf("attempt %d counted as %d, %v", i, n, err)
		}
	}
	_, err := s.CountAttempt(ctx, "ch-a", challengeExpires, 3)
	wantErr(t, "a fourth attempt of 3", err, booking.ErrChallengeExpired)
	wantErr(t, "a session from a challenge tried 3 times of 3",
		openSessionMax(s, "ch-a", 3, sessionRecord("s-a", "ana", t0), t0), booking.ErrChallengeExpired)
	if _, err := s.Session(ctx, "s-a", t0); !errors.Is(err, booking.ErrSessionExpired) {
		t.Errorf("a refused session opened: %v", err)
	}

	// Used up by its session: no more codes, no second session.
	if n, err := s.CountAttempt(ctx, "ch-b", challengeExpires, 5); err != nil || n != 1 {
		t.Fatalf("a wrong code before the right one: %d, %v", n, err)
	}
	if err := openSession(s, "ch-b", sessionRecord("s-b", "ben", t0), t0); err != nil {
		t.Fatalf("a session from a challenge tried once: %v", err)
	}
	_, err = s.CountAttempt(ctx, "ch-b", challengeExpires, 5)
	wantErr(t, "a code tried against a used challenge", err, booking.ErrChallengeExpired)
	wantErr(t, "a second session from a used challenge",
		openSession(s, "ch-b", sessionRecord("s-b2", "cyd", t0), t0), booking.ErrChallengeExpired)
	if err := openSession(s, "ch-c", sessionRecord("s-c", "cyd", t0), t0); err != nil {
		t.Errorf("a session from a challenge never tried: %v", err)
	}
	if _, err := s.CountAttempt(ctx, "", challengeExpires, 5); err == nil {
		t.Error("an attempt of a challenge without id counted")
	}
}

// Guesses sent at once, wrong ones counted with CountAttempt and right
// ones with OpenSession: at most maxAttempts of them count between them.
func testChallengeAttemptsConcurrent(t *testing.T, s booking.Store) {
	attempt := make([]int, 20) // the count of a wrong guess that counted
	errs := atOnce(20, func(i int) error {
		if i%4 == 0 { // a right guess
			return openSessionMax(s, "ch-race", 5, sessionRecord(fmt.Sprint("s-race-", i), fmt.Sprint("racer", i), openedAt), openedAt)
		}
		var err error
		attempt[i], err = s.CountAttempt(ctx, "ch-race", challengeExpires, 5)
		return err
	})
	seen := map[int]bool{}
	for _, n := range attempt {
		if n > 0 && seen[n] {
			t.Errorf("attempt %d counted twice", n)
		}
		seen[n] = true
	}
	if counted := succeeded(t, "guess", errs, booking.ErrChallengeExpired); counted > 5 || counted == 0 {
		t.Errorf("%d of 20 guesses sent at once counted, want at most 5 (and some)", counted)
	}
	if _, err := s.CountAttempt(ctx, "ch-race", challengeExpires, 5); !errors.Is(err, booking.ErrChallengeExpired) {
		t.Errorf("a guess after the race: %v, want ErrChallengeExpired", err)
	}
}

func testSessions(t *testing.T, s booking.Store) {
	t0 := openedAt
	phone := sessionRecord("s-phone", "vera", t0)
	if err := openSession(s, "ch-1", phone, t0); err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	wantErr(t, "a second session from the used challenge", openSession(s, "ch-1", sessionRecord("s-x", "walt", t0), t0), booking.ErrChallengeExpired)

	got, err := s.Session(ctx, "s-phone", t0.Add(29*time.Minute))
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if got.ID != phone.ID || got.PersonKey != phone.PersonKey || string(got.Sealed) != string(phone.Sealed) ||
		!got.LockedUntil.Equal(phone.LockedUntil) || !got.Expires.Equal(phone.Expires) {
		t.Errorf("Session = %+v, want %+v", got, phone)
	}
	_, err = s.Session(ctx, "s-phone", t0.Add(30*time.Minute))
	wantErr(t, "the session at its expiry", err, booking.ErrSessionExpired)
	_, err = s.Session(ctx, "s-none", t0)
	wantErr(t, "an unknown session", err, booking.ErrSessionExpired)

	// Another device, while the identity is locked: refused, and the
	// challenge it came with is not used up (it opens the session below).
	laptop := sessionRecord("s-laptop", "vera", t0.Add(time.Minute))
	wantErr(t, "a second session of the identity while locked", openSession(s, "ch-2", laptop, t0.Add(time.Minute)), booking.ErrSessionHeld)
	if _, err := s.Session(ctx, "s-phone", t0.Add(time.Minute)); err != nil {
		t.Errorf("the first session after the refused one: %v", err)
	}
	// Other people are not held by vera.
	if err := openSession(s, "ch-3", sessionRecord("s-walt", "walt", t0), t0); err != nil {
		t.Fatalf("another person's session: %v", err)
	}

	// Once the lock has run out, a new session replaces the old one.
	laptop = sessionRecord("s-laptop", "vera", t0.Add(10*time.Minute))
	if err := openSession(s, "ch-2", laptop, t0.Add(10*time.Minute)); err != nil {
		t.Fatalf("a new session after the lock ran out: %v", err)
	}
	_, err = s.Session(ctx, "s-phone", t0.Add(10*time.Minute))
	wantErr(t, "the replaced session", err, booking.ErrSessionExpired)
	if _, err := s.Session(ctx, "s-laptop", t0.Add(10*time.Minute)); err != nil {
		t.Errorf("the new session: %v", err)
	}

	// Ending a session frees the identity at once.
	if err := s.EndSession(ctx, "s-laptop"); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	if err := s.EndSession(ctx, "s-laptop"); err != nil {
		t.Errorf("ending an ended session: %v", err)
	}
	_, err = s.Session(ctx, "s-laptop", t0.Add(11*time.Minute))
	wantErr(t, "an ended session", err, booking.ErrSessionExpired)
	if err := openSession(s, "ch-4", sessionRecord("s-tablet", "vera", t0.Add(11*time.Minute)), t0.Add(11*time.Minute)); err != nil {
		t.Errorf("a session right after the identity's last ended: %v", err)
	}
	if _, err := s.Session(ctx, "s-walt", t0.Add(11*time.Minute)); err != nil {
		t.Errorf("walt's session after vera's changes: %v", err)
	}
}

// Concurrent verifications of one identity: one session opens.
func testOneSessionConcurrent(t *testing.T, s booking.Store) {
	const n = 8
	errs := atOnce(n, func(i int) error {
		return openSession(s, fmt.Sprint("race-", i), sessionRecord(fmt.Sprint("s-race-", i), "xavier", openedAt), openedAt)
	})
	if opened := succeeded(t, "session", errs, booking.ErrSessionHeld); opened != 1 {
		t.Errorf("%d of %d concurrent sessions of one identity opened, want 1", opened, n)
	}
}

func testLookupGrants(t *testing.T, s booking.Store) {
	if err := s.PutLookupGrant(ctx, "g-1", []byte("grant"), openedAt.Add(10*time.Minute)); err != nil {
		t.Fatalf("PutLookupGrant: %v", err)
	}
	got, err := s.LookupGrant(ctx, "g-1", openedAt.Add(9*time.Minute))
	if err != nil || string(got) != "grant" {
		t.Fatalf("LookupGrant = %q, %v", got, err)
	}
	_, err = s.LookupGrant(ctx, "g-1", openedAt.Add(10*time.Minute))
	wantErr(t, "a look-up at its expiry", err, booking.ErrLookupExpired)
	_, err = s.LookupGrant(ctx, "g-none", openedAt)
	wantErr(t, "an unknown look-up", err, booking.ErrLookupExpired)
}

func testPurgeExpired(t *testing.T, s booking.Store) {
	t0 := openedAt
	for i := range 5 {
		if _, err := s.CountAttempt(ctx, fmt.Sprint("old-", i), t0.Add(time.Minute), 5); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CountAttempt(ctx, "new", t0.Add(time.Hour), 5); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"p1", "p2"} {
		r := sessionRecord("s-"+p, p, t0)
		if i == 1 {
			r.Expires = t0.Add(2 * time.Hour) // still running
		}
		if err := openSession(s, "open-"+p, r, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutLookupGrant(ctx, "g-old", []byte("x"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLookupGrant(ctx, "g-new", []byte("x"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Expired: 5 challenges tried and 2 used (by p1 and p2), p1's session
	// and a look-up. A call deletes at most 3 of each kind (at least one,
	// while some have expired), and the calls go on until none is left.
	at := t0.Add(31 * time.Minute)
	total := 0
	for calls := 0; ; calls++ {
		n, err := s.PurgeExpired(ctx, at, 3)
		if err != nil || n > 3*3 {
			t.Fatalf("PurgeExpired(limit 3) = %d, %v", n, err)
		}
		total += n
		if n == 0 {
			break
		}
		if calls == 10 {
			t.Fatalf("PurgeExpired still deletes after %d calls (%d in all)", calls, total)
		}
	}
	if total != 5+2+1+1 {
		t.Fatalf("PurgeExpired deleted %d in all, want 9", total)
	}
	if n, err := s.CountAttempt(ctx, "new", t0.Add(time.Hour), 5); err != nil || n != 2 {
		t.Errorf("an unexpired challenge after the purge: attempt %d, %v; want its second", n, err)
	}
	if _, err := s.Session(ctx, "s-p2", at); err != nil {
		t.Errorf("an unexpired session after the purge: %v", err)
	}
	if _, err := s.LookupGrant(ctx, "g-new", at); err != nil {
		t.Errorf("an unexpired look-up after the purge: %v", err)
	}
	// p1's identity is free: its row is gone.
	if err := openSession(s, "again-p1", sessionRecord("s-p1-again", "p1", at), at); err != nil {
		t.Errorf("a session of a purged identity: %v", err)
	}
}

func testIdempotentChangeAndCancel(t *testing.T, s booking.Store) {
	a1, a2 := slot(22, day1, 0), slot(22, day2, 0)
	b1, b2 := slot(22, day1, 3), slot(22, day2, 3)
	orig := mustBook(t, s, request("bo", a1, a2))
	change := booking.ChangeRequest{Number: orig.Number, NewDose1: b1, Dose2Candidates: []booking.Slot{b2},
		SlotCapacity: capacities(1, nil), Notice: booking.Message{Body: "changed"}, Now: openedAt.Add(time.Hour),
		IdempotencyKey: "key-change"}
	if _, found, err := s.Replay(ctx, "key-change", booking.ChangeHash(&change)); found || err != nil {
		t.Fatalf("Replay of an unused key = %v, %v", found, err)
	}
	first, err := s.Change(ctx, change)
	if err != nil {
		t.Fatalf("Change: %v", err)
	}
	// Sent again, its answer lost, an hour later: nothing more changes.
	again := change
	again.Now = openedAt.Add(2 * time.Hour)
	second, err := s.Change(ctx, again)
	if err != nil {
		t.Fatalf("the change sent again: %v", err)
	}
	sameBooking(t, "the change sent again", second, first)
	replayed, found, err := s.Replay(ctx, "key-change", booking.ChangeHash(&change))
	if err != nil || !found {
		t.Fatalf("Replay = %v, %v", found, err)
	}
	sameBooking(t, "Replay", replayed, first)
	_, _, err = s.Replay(ctx, "key-change", booking.CancelHash(orig.Number))
	wantErr(t, "Replay of the key with another request", err, booking.ErrIdempotencyReuse)
	other := change
	other.NewDose1 = a1
	other.Dose2Candidates = []booking.Slot{a2}
	_, err = s.Change(ctx, other)
	wantErr(t, "the key with another change", err, booking.ErrIdempotencyReuse)
	wantCounts(t, s, map[booking.Slot]int{b1: 1, b2: 1})
	wantPending(t, s, 2)

	cancel := booking.CancelRequest{Number: orig.Number, Notice: booking.Message{Body: "cancelled"}, Now: openedAt.Add(3 * time.Hour), IdempotencyKey: "key-cancel"}
	c1, err := s.Cancel(ctx, cancel)
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	c2, err := s.Cancel(ctx, cancel)
	if err != nil {
		t.Fatalf("the cancel sent again: %v, want the cancelled booking", err)
	}
	sameBooking(t, "the cancel sent again", c2, c1)
	if c2.Status != booking.StatusCancelled {
		t.Errorf("the cancel sent again answers status %s", c2.Status)
	}
	noKey := cancel
	noKey.IdempotencyKey = ""
	_, err = s.Cancel(ctx, noKey)
	wantErr(t, "a cancel without the key", err, booking.ErrCancelled)
	wantCounts(t, s, nil)
	wantPending(t, s, 3)
}

// A message's text is fixed in the transaction of the change it reports,
// with the second dose the store chose then; a change right after writes
// its own message and leaves the first one as it was.
func testMessagesTellCommittedDoses(t *testing.T, s booking.Store) {
	a1, a2full, a2 := slot(23, day1, 2), slot(23, day2, 2), slot(23, day2.AddDays(1), 2)
	b1, b2 := slot(23, day1.AddDays(2), 4), slot(23, day2.AddDays(2), 4)
	req := request("cy", a1, a2full, a2)
	req.SlotCapacity = capacities(5, map[booking.Slot]int{a2full: 0})
	req.Confirmation.Body = "1st " + booking.AppointmentText(a1.Date, a1.Block) + " / 2nd " + booking.Dose2Placeholder
	b := mustBook(t, s, req)
	if _, err := s.Change(ctx, booking.ChangeRequest{Number: b.Number, NewDose1: b1, Dose2Candidates: []booking.Slot{b2},
		SlotCapacity: capacities(5, nil), Now: openedAt.Add(time.Second),
		Notice: booking.Message{Body: "1st " + booking.AppointmentText(b1.Date, b1.Block) + " / 2nd " + booking.Dose2Placeholder}}); err != nil {
		t.Fatal(err)
	}
	ms := wantPending(t, s, 2)
	want := []string{
		"1st " + booking.AppointmentText(a1.Date, a1.Block) + " / 2nd " + booking.AppointmentText(a2.Date, a2.Block),
		"1st " + booking.AppointmentText(b1.Date, b1.Block) + " / 2nd " + booking.AppointmentText(b2.Date, b2.Block),
	}
	for i, m := range ms {
		if m.Body != want[i] {
			t.Errorf("message %d (%s) = %q, want %q", i, m.Kind, m.Body, want[i])
		}
		if strings.Contains(m.Body, booking.Dose2Placeholder) {
			t.Errorf("message %d kept the placeholder: %q", i, m.Body)
		}
	}
}

func testPing(t *testing.T, s booking.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
