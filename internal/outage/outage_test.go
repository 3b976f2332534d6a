package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOneLineAtTheStartEveryIntervalAndAtTheEnd(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)
	l := &Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), What: "booking database",
		Every: 10 * time.Second, Now: func() time.Time { return now }}
	lines := func() []string { return strings.Split(strings.TrimSpace(buf.String()), "\n") }

	l.Succeeded() // nothing failing: nothing to say
	if buf.Len() != 0 {
		t.Fatalf("logged without a failure: %s", buf.String())
	}
	cause := errors.New("dial tcp: connection refused")
	// Five failures a second for 25 seconds.
	for i := 0; i < 125; i++ {
		l.Failed(cause)
		now = now.Add(200 * time.Millisecond)
	}
	got := lines()
	if len(got) != 3 {
		t.Fatalf("%d lines for 25 s of failures, want 3 (start, +10 s, +20 s):\n%s", len(got), buf.String())
	}
	if !strings.Contains(got[0], "booking database failing") || !strings.Contains(got[0], "connection refused") {
		t.Errorf("first line %q: want what fails and the cause", got[0])
	}
	if !strings.Contains(got[1], "still failing") || !strings.Contains(got[1], "failures=50") {
		t.Errorf("second line %q: want the failures since the first", got[1])
	}
	if !l.Failing() {
		t.Error("Failing() = false during the outage")
	}
	// Successes between failures (reads that work while writes fail) do
	// not end it.
	for i := 0; i < 10; i++ {
		l.Succeeded()
		l.Failed(cause)
		now = now.Add(200 * time.Millisecond)
	}
	if got := lines(); len(got) != 3 {
		t.Fatalf("successes between failures were logged:\n%s", buf.String())
	}
	now = now.Add(DefaultQuiet - time.Second)
	l.Succeeded()
	if got := lines(); len(got) != 3 || !l.Failing() {
		t.Fatalf("ended before a quiet time without failures:\n%s", buf.String())
	}
	now = now.Add(time.Second)
	l.Succeeded()
	l.Succeeded()
	got = lines()
	if len(got) != 4 || !strings.Contains(got[3], "works again") || !strings.Contains(got[3], "failures=135") || !strings.Contains(got[3], "for=26.8s") {
		t.Errorf("after the outage:\n%s\nwant one line saying it works again after 135 failures in 26.8s", buf.String())
	}
	l.Failed(cause)
	if got := lines(); len(got) != 5 || !strings.Contains(got[4], "booking database failing") {
		t.Errorf("a new outage is not logged at once:\n%s", buf.String())
	}
}
