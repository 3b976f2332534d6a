package sharedtest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// runPacingNodes checks pacing on three nodes of one room: the pacing
// set on one node holds on all; a slow backend seen by one node only
// still slows the room, by one decision per pacing step for the room
// (not one per node); and an operator's fixed rate set on one node holds
// on the others, whose pacers leave it alone.
func runPacingNodes(t *testing.T, rig nodesRig) {
	t.Run("pacing from all nodes' signals", func(t *testing.T) {
		sh, clk, ns := rig.start(t, room.Settings{Name: "pacing-nodes", Capacity: 1000, Rate: 100}, 3)
		if _, ok := sh.(room.PaceBoard); !ok {
			t.Skip("this Shared pools no health (room.PaceBoard)")
		}
		tickAll := func() {
			t.Helper()
			for i, r := range ns {
				if err := r.Tick(); err != nil {
					t.Fatalf("node %d: Tick: %v", i, err)
				}
			}
		}
		// The operator switches the room to auto on node 2.
		auto := room.Pacing{Mode: room.PacingAuto, TargetP95: 500 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}
		if _, err := ns[2].Update(func(s *room.Settings) { s.Pacing = auto }); err != nil {
			t.Fatal(err)
		}
		tickAll()
		for i, r := range ns {
			if got := r.Settings().Pacing; got != auto {
				t.Fatalf("node %d: pacing %+v after node 2 set %+v", i, got, auto)
			}
		}
		// One node leads the room's pacing; another's gate sees a slow
		// backend (20 answers of 3 s) and the other two fast ones (40 each
		// of 20 ms): one answer in five is slow, which only the slow node
		// sees, and the room's p95 is slow. The leader decides from it.
		clk.Advance(room.PaceEvery)
		tickAll()
		leader, slow := -1, 0
		for i, r := range ns {
			if r.PaceLead() {
				if leader >= 0 {
					t.Fatalf("nodes %d and %d both lead the room's pacing", leader, i)
				}
				leader = i
			}
		}
		if leader < 0 {
			t.Fatal("no node leads the room's pacing")
		}
		if slow == leader {
			slow = 1
		}
		observe := func() {
			for i, r := range ns {
				if i == slow {
					for range 20 {
						r.Health().Observe(3*time.Second, false)
					}
					continue
				}
				for range 40 {
					r.Health().Observe(20*time.Millisecond, false)
				}
			}
		}
		changes := func() (n uint64) {
			for _, r := range ns {
				n += r.PaceChanges()
			}
			return n
		}
		const rate = 100.0
		for step := 1; step <= 8; step++ {
			observe()
			clk.Advance(room.PaceEvery)
			before := changes()
			tickAll()
			if got := changes() - before; got > 1 {
				t.Errorf("pacing step %d: %d changes of rate over the nodes, want at most 1 (one decision for the room)", step, got)
			}
			if n := ns[leader].PaceNodes(); n != 3 {
				t.Errorf("step %d: the leader paced from %d nodes' health, want 3", step, n)
			}
		}
		for i, r := range ns {
			if n := r.PaceChanges(); (n > 0) != (i == leader) {
				t.Errorf("node %d (leader %d) changed the rate %d times: only the leader decides", i, leader, n)
			}
			// One cut per round of the loop (paceRound) while the p95
			// does not get worse: from 100 to 50 in these 4 s.
			if got := r.Settings().Rate; got > rate/2 {
				t.Errorf("node %d: rate %v after the backend slowed on node %d, want at most %v", i, got, slow, rate/2)
			}
		}

		// The operator fixes the rate on a node that does not lead: it holds on every node,
		// however slow the backend stays.
		if _, err := ns[slow].Update(func(s *room.Settings) { s.Pacing.Mode = room.PacingFixed; s.Rate = 40 }); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			observe()
			clk.Advance(room.PaceEvery)
			tickAll()
		}
		for i, r := range ns {
			if got := r.Settings(); got.Rate != 40 || got.Pacing.Auto() {
				t.Errorf("node %d: rate %v pacing %s after node %d fixed it at 40", i, got.Rate, got.Pacing, slow)
			}
		}
	})
}
