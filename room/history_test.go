package room

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

func TestHistory(t *testing.T) {
	clk := clock.NewManual(time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC))
	m := NewManager(GenerateKeyring("t"), clk, nil, nil)
	rm, err := m.Add(Settings{Name: "r", Capacity: 2, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(Settings{Name: "other"}); err != nil {
		t.Fatal(err)
	}
	h := NewHistory(m, 10*time.Second, 4)
	var el time.Duration
	h.since = func() time.Duration { return el }
	bookings := 0.0
	extra := func(room string) map[string]float64 {
		if room != "r" {
			return nil
		}
		return map[string]float64{ExtraGateRejections: 7, ExtraBookings: bookings, "unknown": 1}
	}
	if s := h.Series("r"); s != nil {
		t.Fatalf("empty history: %v", s)
	}
	h.Sample(extra)
	// 10 s later: 5 joins (2 admitted: capacity), 3 bookings.
	for range 5 {
		if _, _, err := rm.Join(); err != nil {
			t.Fatal(err)
		}
	}
	el += 10 * time.Second
	clk.Advance(10 * time.Second)
	bookings = 3
	h.Sample(extra)
	s := h.Series("r")
	if len(s) != 2 {
		t.Fatalf("len = %d, want 2", len(s))
	}
	last := s[1]
	if last.Joins != 5 || last.Waiting != 3 || last.Active != 2 || last.Admissions != 2 || last.Rejections != 7 || last.Bookings != 3 || !last.HasBooking {
		t.Fatalf("sample = %+v", last)
	}
	if !last.At.Equal(clk.Now()) {
		t.Errorf("At = %v, want %v", last.At, clk.Now())
	}
	if math.Abs(last.JoinRate-0.5) > 1e-9 || math.Abs(last.AdmitRate-0.2) > 1e-9 || math.Abs(last.BookingRate-18) > 1e-9 {
		t.Errorf("rates: joins %v/s admissions %v/s bookings %v/min; want 0.5, 0.2, 18", last.JoinRate, last.AdmitRate, last.BookingRate)
	}
	if s[0].JoinRate != 0 {
		t.Errorf("first sample has a rate: %+v", s[0])
	}
	if o := h.Series("other"); len(o) != 2 || o[1].HasBooking || o[1].Rejections != 0 {
		t.Errorf("other room: %+v", o)
	}

	// Current: rates against the newest sample at least minGap old.
	el += 2 * time.Second
	rm.Join()
	cur, ok := h.Current("r", 5*time.Second, extra)
	if !ok || cur.Joins != 6 {
		t.Fatalf("current = %+v, %v", cur, ok)
	}
	if want := 6.0 / 12; math.Abs(cur.JoinRate-want) > 1e-9 {
		t.Errorf("current join rate %v, want %v (against the first sample)", cur.JoinRate, want)
	}
	if _, ok := h.Current("nope", 0, nil); ok {
		t.Error("Current of an unknown room")
	}
	if n := len(h.Series("r")); n != 2 {
		t.Errorf("Current recorded a sample: %d", n)
	}

	// The ring is bounded and keeps the newest, oldest first.
	for i := range 5 {
		el += 10 * time.Second
		bookings = float64(10 + i)
		h.Sample(extra)
	}
	s = h.Series("r")
	if len(s) != 4 {
		t.Fatalf("len = %d, want 4 (size)", len(s))
	}
	for i := 1; i < len(s); i++ {
		if s[i].Elapsed <= s[i-1].Elapsed {
			t.Fatalf("not oldest first: %v", s)
		}
	}
	if s[3].Bookings != 14 {
		t.Errorf("newest bookings %d, want 14", s[3].Bookings)
	}
	if l, _ := h.Last("r"); l.Bookings != 14 {
		t.Errorf("Last = %+v", l)
	}

	// Cancellations make the booking count fall: the rate is 0, not negative.
	el += 10 * time.Second
	bookings = 2
	h.Sample(extra)
	if l, _ := h.Last("r"); l.BookingRate != 0 {
		t.Errorf("booking rate after cancellations = %v", l.BookingRate)
	}
	if h.Window() != 40*time.Second {
		t.Errorf("window %v", h.Window())
	}
}

func TestHistoryRun(t *testing.T) {
	m := NewManager(GenerateKeyring("t"), nil, nil, nil)
	if _, err := m.Add(Settings{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	h := NewHistory(m, 5*time.Millisecond, 0)
	if h.Size() != DefaultHistorySize {
		t.Fatalf("size %d", h.Size())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx, nil); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.Series("r")) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not sample")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
