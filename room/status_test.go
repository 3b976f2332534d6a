package room

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

func TestRoomPositionsNeverIncrease(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 5, Rate: 2, PrequeueAt: t0, OpensAt: t0.Add(time.Minute),
		ClaimTimeout: 10 * time.Second, PassTTL: 30 * time.Second}, nil)
	rng := rand.New(rand.NewPCG(42, 42))
	type tracked struct {
		t       Ticket
		last    uint64 // last waiting position, 0 before known
		done    bool
		pass    Pass
		holding bool
		leaveAt int
	}
	var all []*tracked
	for i := 0; i < 30; i++ {
		_, tk, st := f.join()
		if st.State != StatePrequeue || st.Position != 0 {
			t.Fatalf("pre-queue join: %+v", st)
		}
		all = append(all, &tracked{t: tk})
	}
	f.clk.Set(t0.Add(time.Minute))
	for step := 0; step < 800; step++ {
		for range rng.IntN(3) {
			_, tk, _ := f.join()
			all = append(all, &tracked{t: tk})
		}
		if step == 200 {
			f.r.Update(func(s *Settings) { s.Capacity = 8 })
		}
		if step == 400 {
			f.r.Update(func(s *Settings) { s.Capacity = 3 })
		}
		for _, x := range all {
			if x.holding && step >= x.leaveAt {
				f.r.Leave(x.pass)
				x.holding = false
			}
		}
		f.advance(250 * time.Millisecond)
		// Nothing changes the line while all statuses are read, so the
		// waiting positions must be exactly 1..W.
		waitingPositions := map[uint64]bool{}
		for i, x := range all {
			st, err := f.r.Status(x.t)
			if x.done {
				if err == nil && st.State == StateWaiting {
					t.Fatalf("step %d: ticket %d admitted earlier is waiting again: %+v", step, i, st)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d: ticket %d: %v", step, i, err)
			}
			switch st.State {
			case StateWaiting:
				if x.last != 0 && st.Position > x.last {
					t.Fatalf("step %d: ticket %d moved back from %d to %d", step, i, x.last, st.Position)
				}
				if st.Position == 0 || st.Ahead != st.Position-1 {
					t.Fatalf("step %d: bad status %+v", step, st)
				}
				if waitingPositions[st.Position] {
					t.Fatalf("step %d: position %d given to two tickets", step, st.Position)
				}
				waitingPositions[st.Position] = true
				x.last = st.Position
			case StateAdmitted:
				x.done = true
				x.pass = f.pass(st)
				// Some leave soon, some keep the pass until it expires.
				if rng.IntN(3) > 0 {
					x.holding, x.leaveAt = true, step+rng.IntN(40)
				}
			default:
				t.Fatalf("step %d: unexpected status %+v", step, st)
			}
		}
		c := f.r.Counters()
		if uint64(len(waitingPositions)) != c.Waiting {
			t.Fatalf("step %d: %d waiting tickets, counters say %d", step, len(waitingPositions), c.Waiting)
		}
		for p := uint64(1); p <= c.Waiting; p++ {
			if !waitingPositions[p] {
				t.Fatalf("step %d: no ticket at position %d of %d", step, p, c.Waiting)
			}
		}
		if step < 400 && c.Active > c.Settings.Capacity {
			t.Fatalf("step %d: active %d > capacity %d", step, c.Active, c.Settings.Capacity)
		}
	}
	admitted := 0
	for _, x := range all {
		if x.done {
			admitted++
		}
	}
	if admitted < 50 || admitted == len(all) {
		t.Errorf("%d of %d admitted: the run should admit many but not all", admitted, len(all))
	}
}

func TestRoomSameTicketKeepsPlace(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 3, Rate: 5, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}
	f := newFixture(t, s, store)
	var toks []string
	join := func(n int) {
		for range n {
			tok, _, _ := f.join()
			toks = append(toks, tok)
		}
	}
	join(20)
	f.clk.Set(t0.Add(time.Minute))
	join(20)
	f.advance(time.Second)
	f.advance(time.Second)
	// The places of the tickets sent again as text to r.
	placesIn := func(r *Room) []placeOf {
		var tickets []Ticket
		for _, tok := range toks {
			tk, err := r.VerifyTicket(tok)
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}
		return placesOf(t, r, tickets)
	}
	first := placesIn(f.r)
	if again := placesIn(f.r); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("same tickets again:\n%v\nfirst:\n%v", again, first)
	}
	// A second process with the same keys and the same state.
	keys2, err := NewKeyring(Key{ID: "k1", Secret: testSecret(1)})
	if err != nil {
		t.Fatal(err)
	}
	s.Name = "vaccine"
	r2, err := New(s, keys2, f.clk, store)
	if err != nil {
		t.Fatal(err)
	}
	if second := placesIn(r2); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("second room from the same state:\n%v\nfirst:\n%v", second, first)
	}
	m := NewManager(keys2, f.clk, store, nil)
	r3, err := m.Add(s)
	if err != nil {
		t.Fatal(err)
	}
	if third := placesIn(r3); fmt.Sprint(third) != fmt.Sprint(first) {
		t.Errorf("manager room from the same state:\n%v\nfirst:\n%v", third, first)
	}
	waiting := 0
	for _, p := range first {
		if p.State == StateWaiting {
			waiting++
		}
	}
	if waiting < 20 {
		t.Errorf("only %d waiting: the test should compare real positions", waiting)
	}
}

func TestPollInterval(t *testing.T) {
	t.Run("grows with distance", func(t *testing.T) {
		s := Settings{PollBudget: 5000, MinPoll: time.Second}
		prev := time.Duration(0)
		for d := uint64(1); d <= 1_000_000; d = d*3/2 + 1 {
			p := pollInterval(&s, d, 1_000_000)
			if p < prev {
				t.Fatalf("poll interval at %d (%v) < at a smaller distance (%v)", d, p, prev)
			}
			if p < s.MinPoll {
				t.Fatalf("poll interval %v below MinPoll", p)
			}
			prev = p
		}
		if far := pollInterval(&s, 1_000_000, 1_000_000); far < time.Minute {
			t.Errorf("the back of a line of 1e6 polls every %v: too often for the budget", far)
		}
	})
	// The total rate of a line of W people, each at distance d polling
	// every pollInterval(d, W), must stay within the budget, except for
	// the people so far back that their share would exceed MaxPollAfter:
	// each of those polls once per MaxPollAfter.
	budgets := []struct {
		budget float64
		min    time.Duration
	}{{5000, time.Second}, {5000, 100 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Second}, {1e6, 100 * time.Millisecond}}
	for _, b := range budgets {
		s := Settings{PollBudget: b.budget, MinPoll: b.min}
		for _, W := range []uint64{1000, 100_000, 1_000_000} {
			t.Run(fmt.Sprintf("exact W=%d budget=%v min=%v", W, b.budget, b.min), func(t *testing.T) {
				var sum float64
				var capped int
				for d := uint64(1); d <= W; d++ {
					iv := pollInterval(&s, d, W)
					if iv == MaxPollAfter {
						capped++
					}
					sum += 1 / iv.Seconds()
				}
				if allowed := b.budget + float64(capped)/MaxPollAfter.Seconds(); sum > allowed {
					t.Errorf("line of %d polls %.9f/s, budget %v (%d people capped at %v)", W, sum, b.budget, capped, MaxPollAfter)
				}
			})
		}
		for _, W := range []uint64{6_000_000, 100_000_000} {
			t.Run(fmt.Sprintf("sampled W=%d budget=%v min=%v", W, b.budget, b.min), func(t *testing.T) {
				// Sample d on a log scale: every interval is at least the
				// budget's share d*H(W)/budget (or MinPoll), and the
				// integral of 1/interval over the line (trapezoids over
				// the log-spaced samples) stays within the budget.
				hw := harmonic(W)
				var sum, capped float64
				prevD, prevRate, first := 0.0, 0.0, 0.0
				for d := uint64(1); ; d = max(d+1, uint64(float64(d)*1.001)) {
					d = min(d, W)
					iv := pollInterval(&s, d, W)
					share := time.Duration(float64(d) * hw / b.budget * float64(time.Second))
					if iv < min(max(share, b.min), MaxPollAfter) || iv > MaxPollAfter {
						t.Fatalf("d=%d: interval %v shorter than the budget share %v, or longer than %v", d, iv, share, MaxPollAfter)
					}
					rate := 1 / iv.Seconds()
					if prevD == 0 {
						first = rate
					} else {
						sum += (float64(d) - prevD) * (rate + prevRate) / 2
						if iv == MaxPollAfter {
							capped += float64(d) - prevD
						}
					}
					prevD, prevRate = float64(d), rate
					if d == W {
						break
					}
				}
				// Euler-Maclaurin: sum = integral + (f(1) + f(W)) / 2.
				sum += (first + prevRate) / 2
				if allowed := b.budget*1.001 + capped/MaxPollAfter.Seconds(); sum > allowed {
					t.Errorf("line of %d polls about %.3f/s, budget %v (%.0f people capped at %v)", W, sum, b.budget, capped, MaxPollAfter)
				}
			})
		}
	}
	t.Run("harmonic", func(t *testing.T) {
		// The budget holds only if harmonic(n) is never below the true H(n).
		var h, c float64 // Kahan sum
		for n := uint64(1); n <= 2_000_000; n++ {
			y := 1/float64(n) - c
			sum := h + y
			c = (sum - h) - y
			h = sum
			got := harmonic(n)
			if got < h-1e-13 || got > h+1/(12*float64(n)*float64(n))+1e-13 {
				t.Fatalf("harmonic(%d) = %.17g, want %.17g (never below)", n, got, h)
			}
		}
	})
}

func TestStatusPollAndETA(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 100, Rate: 50, PollBudget: 2000}, nil)
	addWaiting(f.r, 1_000_000)
	f.advance(time.Second)
	var prevPoll, prevETA time.Duration
	serving := f.r.Counters().Serving
	for d := uint64(1); d < 1_000_000-serving; d = d*2 + 1 {
		st := f.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: serving + d - 1})
		if st.State != StateWaiting || st.Position != d {
			t.Fatalf("distance %d: %+v", d, st)
		}
		if st.ETA <= 0 || st.ETA > 365*24*time.Hour {
			t.Fatalf("distance %d: ETA %v, want positive and finite", d, st.ETA)
		}
		if st.PollAfter < prevPoll || st.ETA < prevETA {
			t.Fatalf("distance %d: poll %v ETA %v smaller than nearer the front (%v, %v)", d, st.PollAfter, st.ETA, prevPoll, prevETA)
		}
		if st.PollAfter < time.Second {
			t.Fatalf("distance %d: poll %v below MinPoll", d, st.PollAfter)
		}
		prevPoll, prevETA = st.PollAfter, st.ETA
	}
	if prevPoll < time.Minute {
		t.Errorf("the back of a line of a million polls every %v", prevPoll)
	}
	t.Run("fast line", func(t *testing.T) {
		// Near the front of a fast line the ETA is still at least a second.
		g := newFixture(t, Settings{Capacity: 10_000_000, Rate: 100_000}, nil)
		addWaiting(g.r, 10)
		st := g.status(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 0})
		if st.State != StateWaiting || st.ETA < time.Second {
			t.Errorf("first in a fast line: %+v, want a positive ETA", st)
		}
	})
}

func TestPollAdviceNeverMissesTurn(t *testing.T) {
	const W = 20_000
	tests := []struct {
		name string
		s    Settings
	}{
		{"line faster than the budget", Settings{Capacity: 10_000_000, Rate: 100, PollBudget: 500, ClaimTimeout: 30 * time.Second}},
		{"budget ample", Settings{Capacity: 10_000_000, Rate: 100, PollBudget: 100_000, ClaimTimeout: 30 * time.Second}},
		{"capacity bound", Settings{Capacity: 500, Rate: 1000, PassTTL: 10 * time.Second, PollBudget: 500, ClaimTimeout: 30 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.s, nil)
			addWaiting(f.r, W)
			type follower struct {
				t    Ticket
				next time.Time
				done bool
			}
			var fs []*follower
			for _, d := range []uint64{1, 10, 100, 1000, 3000, 5000, 10_000, 15_000, W - 1} {
				fs = append(fs, &follower{t: Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: d - 1}, next: t0})
			}
			polls := 0
			for step := 0; ; step++ {
				left := 0
				for i, x := range fs {
					if x.done {
						continue
					}
					left++
					if f.clk.Now().Before(x.next) {
						continue
					}
					polls++
					st, err := f.r.Status(x.t)
					if err != nil {
						t.Fatalf("at %v, follower %d (seq %d): %v", f.clk.Now().Sub(t0), i, x.t.Seq, err)
					}
					if st.State == StateAdmitted {
						x.done = true
						// Leave at once so a capacity-bound line moves.
						f.r.Leave(f.pass(st))
						continue
					}
					if st.PollAfter <= 0 {
						t.Fatalf("poll_after %v", st.PollAfter)
					}
					x.next = f.clk.Now().Add(st.PollAfter)
				}
				if left == 0 {
					break
				}
				if step > 100_000 {
					t.Fatal("the line did not move")
				}
				f.advance(100 * time.Millisecond)
			}
			t.Logf("all followers admitted after %v with %d polls", f.clk.Now().Sub(t0), polls)
		})
	}
}

func TestPrequeue(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 300} {
		for _, withStore := range []bool{false, true} {
			t.Run(fmt.Sprintf("N=%d/store=%v", n, withStore), func(t *testing.T) {
				var store Persister
				if withStore {
					store = newMemStore()
				}
				open := t0.Add(10 * time.Minute)
				f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: open, Capacity: 10, Rate: 1}, store)
				f.clk.Set(t0.Add(time.Minute))
				var pre []Ticket
				for i := 0; i < n; i++ {
					_, tk, st := f.join()
					if tk.Phase != PhasePrequeue || tk.Seq != uint64(i) {
						t.Fatalf("pre-queue ticket %d: %+v", i, tk)
					}
					if st.State != StatePrequeue || st.Position != 0 || st.PollAfter <= 0 || st.ETA <= 0 || !st.OpensAt.Equal(open) {
						t.Fatalf("pre-queue status %d: %+v", i, st)
					}
					pre = append(pre, tk)
					f.clk.Advance(time.Second)
				}
				for i, tk := range pre {
					st := f.status(tk)
					if st.State != StatePrequeue || st.Position != 0 {
						t.Fatalf("pre-queue status %d later: %+v", i, st)
					}
					// Everyone is told to come back at or soon after opening.
					back := f.clk.Now().Add(st.PollAfter)
					if back.Before(open) && st.PollAfter < time.Second {
						t.Fatalf("pre-queue ticket %d polls every %v", i, st.PollAfter)
					}
					if back.After(open.Add(maxPrequeueSpread)) && f.clk.Now().Add(st.PollAfter).After(open) {
						t.Fatalf("pre-queue ticket %d comes back at %v, long after opening", i, back)
					}
				}
				f.clk.Set(open.Add(time.Second))
				f.tick()
				var post []Ticket
				for i := 0; i < 5; i++ {
					_, tk, _ := f.join()
					if tk.Phase != PhaseOpen {
						t.Fatalf("join after opening in phase %v", tk.Phase)
					}
					post = append(post, tk)
				}
				// A place in line counted from the first person ever: the
				// pass names it for those admitted (a new room starts with a
				// full bucket), serving+position for those waiting.
				serving := f.r.Counters().Serving
				placeOf := func(tk Ticket) uint64 {
					st := f.status(tk)
					switch st.State {
					case StateAdmitted:
						return f.pass(st).Position
					case StateWaiting:
						return serving + st.Position
					}
					t.Fatalf("after opening: %+v", st)
					return 0
				}
				seen := make([]bool, n)
				for i, tk := range pre {
					p := placeOf(tk)
					if p < 1 || p > uint64(n) {
						t.Fatalf("pre-queue ticket %d after opening: place %d, want one in 1..%d", i, p, n)
					}
					if seen[p-1] {
						t.Fatalf("place %d drawn twice", p)
					}
					seen[p-1] = true
				}
				for i, tk := range post {
					if p := placeOf(tk); p != uint64(n+i+1) {
						t.Fatalf("joiner %d after opening: place %d, want %d", i, p, n+i+1)
					}
				}
				if n >= 2 && serving >= uint64(n) {
					t.Fatalf("serving %d: the test should see waiting pre-queue tickets", serving)
				}
				if c := f.r.Counters(); c.Prequeued != uint64(n) || c.Joined != uint64(n+5) {
					t.Errorf("counters: prequeued %d joined %d, want %d and %d", c.Prequeued, c.Joined, n, n+5)
				}
			})
		}
	}
}

func TestPrequeueSpreadsFirstPolls(t *testing.T) {
	open := t0.Add(time.Minute)
	f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: open, PollBudget: 100}, nil)
	tickets := f.joinN(1000)
	f.clk.Set(open.Add(-time.Second))
	at := map[time.Time]int{}
	for _, tk := range tickets {
		st := f.status(tk)
		back := f.clk.Now().Add(st.PollAfter)
		if back.Before(open) || back.After(open.Add(maxPrequeueSpread)) {
			t.Fatalf("ticket %d told to come back at %v (opening %v)", tk.Seq, back, open)
		}
		at[back.Truncate(time.Second)]++
	}
	for sec, n := range at {
		if n > 150 {
			t.Errorf("%d of 1000 first polls in the second %v: not spread", n, sec)
		}
	}
}

// TestPrequeueSpreadIndependentOfCount: people whose only pre-queue poll
// is their join (each asked at a different count, Seq≈count) are told to
// come back spread near-uniformly over the window after opening, not all
// at its end (the rehearsal's 2021 night: 619,489 status requests in the
// second the window ended).
func TestPrequeueSpreadIndependentOfCount(t *testing.T) {
	const budget, n, buckets = 10, 3000, 6
	open := t0.Add(time.Minute)
	f := newFixture(t, Settings{PrequeueAt: t0, OpensAt: open, PollBudget: budget, ClaimTimeout: 10 * time.Minute}, nil)
	f.clk.Set(open.Add(-time.Second))
	var counts [buckets]int
	measured := 0
	for i := 0; i < n; i++ {
		_, tk, st := f.join()
		if st.State != StatePrequeue {
			t.Fatalf("join %d: %+v", i, st)
		}
		back := f.clk.Now().Add(st.PollAfter)
		if back.Before(open) || back.After(open.Add(maxPrequeueSpread)) {
			t.Fatalf("ticket %d told to come back at %v (opening %v)", tk.Seq, back, open)
		}
		// From count budget*maxPrequeueSpread on, the window is the full
		// maxPrequeueSpread whatever the count.
		if tk.Seq+1 < uint64(budget*maxPrequeueSpread/time.Second) {
			continue
		}
		measured++
		counts[int(back.Sub(open)*buckets/maxPrequeueSpread)%buckets]++
	}
	want := float64(measured) / buckets
	for b, c := range counts {
		if math.Abs(float64(c)-want) > 0.2*want {
			t.Errorf("bucket %d of the spread window: %d next polls of %d, want about %.0f: %v", b, c, measured, want, counts)
		}
	}
}

func TestPrequeueLotteryFairness(t *testing.T) {
	const rooms, n = 2000, 4
	var counts [n][n]int
	open := t0.Add(time.Minute)
	for i := 0; i < rooms; i++ {
		clk := clock.NewManual(t0)
		keys, err := NewKeyring(Key{ID: "k", Secret: testSecret(uint64(1_000_000 + i))})
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(Settings{Name: "vaccine", PrequeueAt: t0, OpensAt: open}, keys, clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tickets []Ticket
		for k := 0; k < n; k++ {
			tok, _, err := r.Join()
			if err != nil {
				t.Fatal(err)
			}
			tk, _ := r.VerifyTicket(tok)
			tickets = append(tickets, tk)
		}
		clk.Set(open)
		for k, tk := range tickets {
			st, err := r.Status(tk)
			if err != nil || st.Position < 1 || st.Position > n {
				t.Fatalf("room %d: %+v %v", i, st, err)
			}
			counts[k][st.Position-1]++
		}
	}
	for k := 0; k < n; k++ {
		expected := float64(rooms) / n
		var chi float64
		for p := 0; p < n; p++ {
			d := float64(counts[k][p]) - expected
			chi += d * d / expected
		}
		if crit := chiSquareCritical(n - 1); chi > crit {
			t.Errorf("joiner %d: places %v, chi-square %.1f > %.1f: not uniform", k+1, counts[k], chi, crit)
		} else {
			t.Logf("joiner %d: places %v, chi-square %.2f (critical %.1f)", k+1, counts[k], chi, crit)
		}
	}
}

// TestETANeverRisesWhileTheLineFlows: the configured rate is 10 a second
// but only 5 people fit inside and each stays 2 s, so the line moves at
// about 2.5 a second and the rate estimates use falls from the configured
// one to the measured one. A person's estimate must still never rise while
// the line flows (it rose from 4:57 to 5:08 in the first seconds of the
// demo); after a pause it may.
func TestETANeverRisesWhileTheLineFlows(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 5, Rate: 10, PassTTL: time.Minute, ClaimTimeout: 10 * time.Second}, nil)
	tickets := f.joinN(400)
	watched := []int{40, 120, 250, 399}
	last := map[int]time.Duration{}
	inside := map[int]time.Time{} // ticket index -> when its pass was collected
	next := 0                     // first ticket not yet admitted
	check := func(step int) {
		t.Helper()
		for _, i := range watched {
			if i < next { // in, or been in
				continue
			}
			st := f.status(tickets[i])
			if st.State != StateWaiting {
				delete(last, i)
				continue
			}
			if prev, ok := last[i]; ok && st.ETA > prev {
				t.Fatalf("step %d: ticket %d's estimate rose from %v to %v (%d ahead, rate %.2f/s)", step, i, prev, st.ETA, st.Ahead, f.r.Counters().AdmitRate)
			}
			last[i] = st.ETA
		}
	}
	for step := range 600 { // 30 s
		f.advance(50 * time.Millisecond)
		now := f.clk.Now()
		for i, at := range inside {
			if now.Sub(at) >= 2*time.Second {
				if err := f.r.Leave(f.pass(f.status(tickets[i]))); err != nil {
					t.Fatal(err)
				}
				delete(inside, i)
			}
		}
		for ; next < len(tickets); next++ {
			st := f.status(tickets[next])
			if st.State != StateAdmitted {
				break
			}
			inside[next] = now
		}
		check(step)
	}
	if m, ok := f.r.rate.measured(f.clk.Now()); !ok || m > 3 {
		t.Fatalf("measured %.2f/s (%v): the test does not test a line slower than its configured rate", m, ok)
	}
	// Paused and resumed: the line did not flow, the estimate may have to
	// catch up; from then on it never rises again.
	f.r.Update(func(s *Settings) { s.Paused = true })
	f.advance(5 * time.Second)
	f.r.Update(func(s *Settings) { s.Paused = false })
	clear(last)
	for step := range 100 {
		f.advance(50 * time.Millisecond)
		check(600 + step)
	}
}

// When the operator (or the pacer) lowers a line's rate, the estimate
// follows at once: the line moves no faster than its rate. (The estimate
// glided down from the rate of before, or kept it with nothing to measure,
// telling the person next "1 second" for a minute or more.)
func TestETAFollowsALoweredRateWithNothingToMeasure(t *testing.T) {
	f := newFixture(t, Settings{Capacity: 1, Rate: 10}, nil)
	f.join() // holds the only place, and never leaves
	_, next, _ := f.join()
	for range 10 {
		f.advance(500 * time.Millisecond)
	}
	if st := f.status(next); st.ETA > 2*time.Second {
		t.Fatalf("before the change: ETA %v, want the rate of 10/s's", st.ETA)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Rate = 0.01 }); err != nil {
		t.Fatal(err)
	}
	f.advance(500 * time.Millisecond)
	if st := f.status(next); st.ETA < 100*time.Second {
		t.Errorf("next in line at 0.01/s told %v", st.ETA)
	}
}
