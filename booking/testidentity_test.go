package booking_test

import (
	"sync"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
)

var testIdentitySecret = []byte("load-test-secret-0123456789abcdef-0123")

// The test provider verifies test phones with the code derived from the
// secret, sends them nothing, and leaves every other phone to the real
// provider, whose codes it cannot stand in for.
func TestTestIdentity(t *testing.T) {
	var mu sync.Mutex
	var sent []booking.Message
	e := newEnv(t, "2021-07-50s", t0, nil, func(c *booking.ServiceConfig) {
		c.DemoMode = false
		real := booking.NewDemoIdentity(c.Clock, func(m booking.Message) error {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, m)
			return nil
		})
		ti, err := booking.NewTestIdentity(testIdentitySecret, real)
		if err != nil {
			t.Fatal(err)
		}
		c.Identity = ti
	})
	testPerson := newPerson(1, date(1967, 1, 1))
	testPerson.phone = "010-1234-0001"
	realPerson := newPerson(2, date(1967, 1, 2))

	vs := e.start(testPerson)
	if vs.DemoCode != "" {
		t.Errorf("the test code was given out: %q", vs.DemoCode)
	}
	code := booking.TestIdentityCode(testIdentitySecret, vs.ChallengeID)
	if other := booking.TestIdentityCode([]byte("another secret of enough length 0123456789"), vs.ChallengeID); other == code {
		t.Fatalf("the code does not depend on the secret")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, wrong)
	wantErr(t, "wrong code", err, booking.ErrWrongCode)
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, code); err != nil {
		t.Fatalf("derived code: %v", err)
	}
	mu.Lock()
	if len(sent) != 0 {
		t.Errorf("a message went to a test phone: %+v", sent)
	}
	mu.Unlock()

	// A real phone: the real provider sends its code; the derived one fails.
	vs = e.start(realPerson)
	mu.Lock()
	n := len(sent)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the real provider sent %d messages, want 1", n)
	}
	derived := booking.TestIdentityCode(testIdentitySecret, vs.ChallengeID)
	if _, err := e.svc.CompleteVerification(ctx, vs.ChallengeID, derived); err == nil {
		t.Fatal("a real phone was verified with the derived code")
	}
}

func TestNewTestIdentityNeedsASecretAndARealProvider(t *testing.T) {
	clk := clock.NewManual(t0)
	real := booking.NewDemoIdentity(clk, nil)
	if _, err := booking.NewTestIdentity([]byte("short"), real); err == nil {
		t.Error("a short secret was accepted")
	}
	if _, err := booking.NewTestIdentity(testIdentitySecret, nil); err == nil {
		t.Error("no real provider was accepted")
	}
}

func TestIsTestPhone(t *testing.T) {
	for _, c := range []struct {
		phone string
		want  bool
	}{
		{"01012340001", true},
		{"01020015678", false},
		{"0101", true},
		{"01112345678", false},
		{"", false},
	} {
		if got := booking.IsTestPhone(c.phone); got != c.want {
			t.Errorf("IsTestPhone(%q) = %v, want %v", c.phone, got, c.want)
		}
	}
}
