package sharedtest

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// runLeaseNodes checks several nodes handing out numbers from their
// leased blocks (room/lease.go): the order of joins is kept up to one
// block per other node, and nobody's position rises from one node to the
// next, through concurrent joins, polls, ticks and restarts of nodes.
func runLeaseNodes(t *testing.T, rig nodesRig) {
	t.Run("joins keep their order up to a block per other node", func(t *testing.T) {
		const nodes, joins = 3, 700
		_, _, ns := rig.start(t, room.Settings{Name: "fifo", Capacity: 1, Rate: 1}, nodes)
		type join struct {
			node       int
			start, end int64
			seq        uint64
		}
		var order atomic.Int64
		got := make([][]join, nodes)
		var wg sync.WaitGroup
		for i, r := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range joins {
					start := order.Add(1)
					tok, _, err := r.Join()
					end := order.Add(1)
					if err != nil {
						t.Error(err)
						return
					}
					tk, _ := r.VerifyTicket(tok)
					got[i] = append(got[i], join{i, start, end, tk.Seq})
					if j%50 == 0 {
						r.Tick()
					}
				}
			}()
		}
		wg.Wait()
		var all []join
		for _, g := range got {
			all = append(all, g...)
		}
		// For each person, the people who joined after them (their join
		// began after this one ended) yet got an earlier number.
		worst := 0
		for _, x := range all {
			overtaken := 0
			for _, y := range all {
				if x.end < y.start && y.seq < x.seq {
					if y.node == x.node {
						t.Fatalf("node %d handed out %d after %d", x.node, y.seq, x.seq)
					}
					overtaken++
				}
			}
			worst = max(worst, overtaken)
		}
		if bound := (nodes - 1) * (room.LeaseBlock - 1); worst > bound {
			t.Errorf("someone was overtaken by %d people who joined after them; the bound is %d", worst, bound)
		}
		t.Logf("most overtaken: %d (bound %d)", worst, (nodes-1)*(room.LeaseBlock-1))
	})

	t.Run("a live node's numbers are not passed over", func(t *testing.T) {
		s := room.Settings{Name: "live", Capacity: 10000, Rate: 100000, ClaimTimeout: time.Minute, PassTTL: time.Minute}
		sh, clk, ns := rig.start(t, s, 3)
		rng := rand.New(rand.NewPCG(15, 3))
		var toks []string
		seen := map[string]uint64{}
		// Every node hands out a few numbers between two of its ticks (a
		// busy node), so admission reaches numbers a node has not
		// reported yet at every step, and waits for them.
		for round := range 60 {
			for _, r := range ns {
				for range 1 + rng.IntN(4) {
					tok, _, err := r.Join()
					if err != nil {
						t.Fatalf("round %d: join: %v", round, err)
					}
					toks = append(toks, tok)
				}
			}
			for _, r := range ns {
				if err := r.Tick(); err != nil {
					t.Fatalf("round %d: tick: %v", round, err)
				}
			}
			clk.Advance(50 * time.Millisecond)
			v, err := sh.View(context.Background(), s.Name)
			if err != nil {
				t.Fatal(err)
			}
			if v.Skipped != 0 {
				t.Fatalf("round %d: %d places passed over (%d reached of %d numbers leased)", round, v.Skipped, v.Serving, v.PostSeq)
			}
			for _, tok := range toks[max(0, len(toks)-20):] {
				r := ns[rng.IntN(len(ns))]
				tk, _ := r.VerifyTicket(tok)
				st, err := r.StatusSeen(tk, seen[tok])
				if err != nil {
					t.Fatalf("round %d: status: %v", round, err)
				}
				if was := seen[tok]; st.State == room.StateWaiting && was != 0 && st.Position > was {
					t.Fatalf("round %d: ticket %d at position %d after %d", round, tk.Seq, st.Position, was)
				}
				if st.State == room.StateWaiting {
					seen[tok] = st.Position
				}
			}
		}
		// The nodes go quiet: their blocks' last numbers are cut on their
		// next reports, and everyone who joined is in.
		for range 3 {
			for _, r := range ns {
				if err := r.Tick(); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(50 * time.Millisecond)
		}
		for _, tok := range toks {
			tk, _ := ns[0].VerifyTicket(tok)
			if st, err := ns[0].Status(tk); err != nil || st.State != room.StateAdmitted {
				t.Fatalf("ticket %d after the line went quiet: %+v %v, want admitted", tk.Seq, st, err)
			}
		}
	})

	t.Run("positions never rise across nodes", func(t *testing.T) {
		s := room.Settings{Name: "monotonic", Capacity: 4, Rate: 5, ClaimTimeout: time.Minute, PassTTL: time.Minute}
		// The nodes, replaced when they restart.
		var mu sync.Mutex
		sh, clk, ns := rig.start(t, s, 3)
		node := func(i int) *room.Room {
			mu.Lock()
			defer mu.Unlock()
			return ns[i]
		}
		// Meanwhile people join and nodes tick, two at a time.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 2))
				for {
					select {
					case <-stop:
						return
					default:
					}
					r := node(rng.IntN(3))
					if rng.IntN(4) == 0 {
						r.Tick()
					} else {
						r.Join()
					}
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		rng := rand.New(rand.NewPCG(15, 1))
		var toks []string
		seen := map[string]uint64{}
		checked := 0
		for step := range 3000 {
			n := rng.IntN(len(ns))
			switch k := rng.IntN(100); {
			case k < 30:
				for range 1 + rng.IntN(20) {
					tok, _, err := node(n).Join()
					if err != nil {
						t.Fatalf("step %d: join: %v", step, err)
					}
					toks = append(toks, tok)
				}
			case k < 40:
				if err := node(n).Tick(); err != nil {
					t.Fatalf("step %d: tick: %v", step, err)
				}
			case k < 50:
				clk.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
			case k < 51: // a node restarts (its block is left in the line)
				r, err := room.NewShared(s, rig.keys, clk, sh, nil)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				ns[n] = r
				mu.Unlock()
			default:
				if len(toks) == 0 {
					continue
				}
				tok := toks[rng.IntN(len(toks))]
				r := node(n)
				tk, err := r.VerifyTicket(tok)
				if err != nil {
					t.Fatal(err)
				}
				st, err := r.StatusSeen(tk, seen[tok])
				if err != nil {
					continue // turn over (a pass expired)
				}
				if st.State != room.StateWaiting {
					continue
				}
				if was := seen[tok]; was != 0 && st.Position > was {
					t.Fatalf("step %d: node %d tells ticket %d position %d after %d", step, n, tk.Seq, st.Position, was)
				}
				// The answer comes from the node's view, brought up to date
				// when needed, not from holding it at what was seen: it is
				// never below the place less the places reached since.
				if place, serving := tk.Seq+1, r.Counters().Serving; place > serving && st.Position < place-serving {
					t.Fatalf("step %d: node %d tells ticket %d (place %d, %d reached) position %d", step, n, tk.Seq, place, serving, st.Position)
				}
				seen[tok] = st.Position
				checked++
			}
		}
		if checked < 500 {
			t.Errorf("only %d positions checked", checked)
		}
	})
}
