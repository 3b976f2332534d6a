package room

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// Every numeric setting has bounds, and Validate names the field it
// refuses: the configuration file, the admin API and the dashboard all
// report that name.
func TestSettingsValidate(t *testing.T) {
	ok := Settings{Name: "shop"}.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		field  string
		change func(*Settings)
	}{
		{"name", func(s *Settings) { s.Name = "Shop" }},
		{"capacity", func(s *Settings) { s.Capacity = 0 }},
		{"capacity", func(s *Settings) { s.Capacity = -1 }},
		{"capacity", func(s *Settings) { s.Capacity = MaxCapacity + 1 }},
		{"rate", func(s *Settings) { s.Rate = 0 }},
		{"rate", func(s *Settings) { s.Rate = 1e-9 }},
		{"rate", func(s *Settings) { s.Rate = -1 }},
		{"rate", func(s *Settings) { s.Rate = math.NaN() }},
		{"rate", func(s *Settings) { s.Rate = math.Inf(1) }},
		{"rate", func(s *Settings) { s.Rate = MaxRate * 1.0001 }},
		{"pass_ttl", func(s *Settings) { s.PassTTL = 0 }},
		{"pass_ttl", func(s *Settings) { s.PassTTL = MaxPassTTL + 1 }},
		{"claim_timeout", func(s *Settings) { s.ClaimTimeout = time.Second }},
		{"claim_timeout", func(s *Settings) { s.ClaimTimeout = 2 * time.Hour }},
		{"claim_timeout", func(s *Settings) { s.ClaimTimeout, s.MinPoll = 10*time.Second, 30*time.Second }},
		{"poll_budget", func(s *Settings) { s.PollBudget = 0 }},
		{"poll_budget", func(s *Settings) { s.PollBudget = 0.5 }},
		{"poll_budget", func(s *Settings) { s.PollBudget = math.Inf(1) }},
		{"poll_budget", func(s *Settings) { s.PollBudget = MaxPollBudget + 1 }},
		{"min_poll", func(s *Settings) { s.MinPoll = time.Millisecond }},
		{"min_poll", func(s *Settings) { s.MinPoll = 2 * time.Minute }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "http://queue.example/wait" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "//queue.example/wait" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "/\t/queue.example/wait" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "/\\queue.example" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "wait/shop" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "javascript:alert(1)" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "https://user@queue.example/wait" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "https://queue.example/wait#x" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "https://queue.example\\@evil.example/" }},
		{"waiting_url", func(s *Settings) { s.WaitingURL = "https:///wait" }},
		{"prequeue_at", func(s *Settings) { s.OpensAt, s.PrequeueAt = t0, t0.Add(time.Second) }},
		{"closes_at", func(s *Settings) { s.OpensAt, s.PrequeueAt, s.ClosesAt = t0, t0, t0 }},
		{"message", func(s *Settings) { s.Message = "two\nlines" }},
		{"message", func(s *Settings) { s.Message = strings.Repeat("가", MaxMessageLen+1) }},
		{"resume_at", func(s *Settings) { s.ResumeAt = time.Date(202, 7, 19, 22, 0, 0, 0, time.UTC) }},
		{"resume_at", func(s *Settings) { s.ResumeAt = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		s := ok
		tc.change(&s)
		err := s.Validate()
		var se *SettingError
		if !errors.As(err, &se) || se.Field != tc.field || se.Room != s.Name {
			t.Errorf("%+v: %v, want a SettingError naming %s", s, err, tc.field)
		}
	}
	for _, good := range []func(*Settings){
		func(s *Settings) { s.Capacity, s.Rate = MinCapacity, MinRate },
		func(s *Settings) { s.Capacity, s.Rate = MaxCapacity, MaxRate },
		func(s *Settings) {
			s.PollBudget, s.MinPoll, s.ClaimTimeout = MaxPollBudget, MaxMinPoll, MaxClaimTimeout
		},
		func(s *Settings) { s.WaitingURL = "https://queue.example/wait?room=shop" },
		func(s *Settings) { s.WaitingURL = "/.sluice/wait/shop" },
		func(s *Settings) { s.Message, s.ResumeAt = "점검 중", time.Date(2021, 7, 19, 22, 0, 0, 0, time.UTC) },
	} {
		s := ok
		good(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// At the slowest rate allowed, and at a measured rate slower still, the ETA
// grows with the distance up to MaxETA and never wraps around (1e-9
// admissions per second gave 9e9 s at place 9 and 1 s at place 10), and no
// one is told to come back later than MaxPollAfter.
func TestStatusExtremes(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64 // the rate the ETAs use, as if measured
		s    Settings
	}{
		{"slowest rate", MinRate, Settings{Rate: MinRate, PollBudget: MinPollBudget}},
		{"a measured rate near zero", 1e-9, Settings{Rate: MinRate}},
		{"a measured rate of zero", 0, Settings{Rate: MinRate}},
		{"fastest settings", MaxRate, Settings{Rate: MaxRate, Capacity: MaxCapacity, PollBudget: MaxPollBudget, MinPoll: MinMinPoll}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.s, nil)
			addWaiting(f.r, math.MaxUint64/2)
			serving := f.r.Counters().Serving
			f.r.eta.Store(&etaBase{rate: tc.rate, pace: tc.rate, serving: serving})
			var prevETA, prevPoll time.Duration
			for _, d := range []uint64{1, 2, 9, 10, 11, 1000, 1e6, 1e9, 1e12, 1e15, 1e18, math.MaxUint64/2 - serving - 1} {
				st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: serving + d - 1})
				if st.State != StateWaiting || st.Position != d {
					t.Fatalf("distance %d: %+v", d, st)
				}
				if st.ETA < time.Second || st.ETA > MaxETA || st.ETA < prevETA {
					t.Fatalf("distance %d: ETA %v after %v nearer the front; want from 1s to %v, never less", d, st.ETA, prevETA, MaxETA)
				}
				if st.PollAfter < tc.s.WithDefaults().MinPoll || st.PollAfter > MaxPollAfter || st.PollAfter < prevPoll {
					t.Fatalf("distance %d: poll after %v after %v nearer the front; want up to %v, never less", d, st.PollAfter, prevPoll, MaxPollAfter)
				}
				prevETA, prevPoll = st.ETA, st.PollAfter
			}
		})
	}
}

// A room name is valid up to MaxRoomName bytes, the most a ticket carries
// (the room's tickets verify), and not one byte more.
func TestRoomNameFitsInATicket(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	longest := strings.Repeat("x", MaxRoomName)
	if !ValidRoomName(longest) {
		t.Fatalf("a name of MaxRoomName (%d) bytes is refused", MaxRoomName)
	}
	if _, err := kr.VerifyTicket(kr.IssueTicket(Ticket{Room: longest, Phase: PhaseOpen, Seq: 1, Issued: t0}), longest); err != nil {
		t.Fatalf("the longest valid name's ticket: %v", err)
	}
	if ValidRoomName(longest + "x") {
		t.Fatalf("a name of %d bytes is valid; tickets carry at most %d", MaxRoomName+1, MaxRoomName)
	}
}
