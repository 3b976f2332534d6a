package clock

import (
	"testing"
	"time"
)

func TestSettableRunsForwardFromWhereItWasSet(t *testing.T) {
	at := time.Date(2021, 7, 19, 20, 0, 0, 0, time.FixedZone("KST", 9*3600))
	c := NewSettable(at)
	fake := time.Now()
	c.real = func() time.Time { return fake }
	c.Set(at)
	fake = fake.Add(90 * time.Second)
	if got := c.Now(); !got.Equal(at.Add(90 * time.Second)) {
		t.Fatalf("after 90s: %v, want %v", got, at.Add(90*time.Second))
	}
	later := at.Add(24 * time.Hour)
	c.Set(later)
	if got := c.Now(); !got.Equal(later) {
		t.Fatalf("after Set: %v, want %v", got, later)
	}
}

func TestManual(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	c := NewManual(at)
	c.Advance(time.Minute)
	if !c.Now().Equal(at.Add(time.Minute)) {
		t.Fatal("Advance did not move the clock")
	}
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Fatal("Set did not move the clock")
	}
	if d := time.Since(System{}.Now()); d < 0 || d > time.Second {
		t.Fatalf("System clock off by %v", d)
	}
}
