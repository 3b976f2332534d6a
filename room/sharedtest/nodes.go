package sharedtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// RunNodes checks rooms on several nodes sharing one Shared: a ticket keeps
// its place, position and turn from one node to the next, the capacity
// holds for the room as a whole, and an operator's change on one node holds
// on all. Each node is a room.Room of its own (as in a separate process),
// built with the same keys on the same Shared. lose deletes a room's line
// from the Shared, as a Redis restarted without persistence does.
func RunNodes(t *testing.T, newShared func(t *testing.T) room.Shared, lose func(t *testing.T, sh room.Shared, room string)) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rig := nodesRig{newShared: newShared, keys: room.GenerateKeyring("k1"), t0: t0}

	runLeaseNodes(t, rig)
	runPacingNodes(t, rig)

	t.Run("same place on every node", func(t *testing.T) {
		_, clk, ns := rig.start(t, room.Settings{Name: "same-place", Capacity: 2, Rate: 100}, 3)
		var toks []string
		for i := 0; i < 12; i++ {
			tok, _, err := ns[i%3].Join() // joins spread over the nodes
			if err != nil {
				t.Fatal(err)
			}
			toks = append(toks, tok)
		}
		var sts []room.Status
		for i, tok := range toks {
			a := status(t, ns[0], tok)
			for j, n := range ns[1:] {
				b := status(t, n, tok)
				if a.State != b.State || a.Position != b.Position || a.Ahead != b.Ahead {
					t.Errorf("ticket %d: node 0 says %s/%d, node %d says %s/%d", i, a.State, a.Position, j+1, b.State, b.Position)
				}
			}
			sts = append(sts, a)
		}
		distinctPositions(t, sts)
		// The first two are in (capacity 2): the pass issued on one node
		// opens the gate on another, and a place returned on a third lets
		// the next person in at once.
		st := status(t, ns[1], toks[0])
		if st.State != room.StateAdmitted || st.Pass == "" {
			t.Fatalf("first joiner on node 1: %+v", st)
		}
		p, err := ns[2].VerifyPass(st.Pass)
		if err != nil {
			t.Fatalf("pass from node 1 on node 2: %v", err)
		}
		if got := status(t, ns[0], toks[2]); got.State != room.StateWaiting || got.Position != 1 {
			t.Fatalf("third joiner before the leave: %+v", got)
		}
		if err := ns[0].Leave(p); err != nil {
			t.Fatal(err)
		}
		if _, err := ns[2].VerifyPass(st.Pass); !errors.Is(err, room.ErrRevoked) {
			t.Errorf("returned pass on node 2: %v, want ErrRevoked", err)
		}
		// Node 2 answers from its own view of the line, at most
		// room.ViewFresh old.
		clk.Advance(room.ViewFresh)
		if got := status(t, ns[2], toks[2]); got.State != room.StateAdmitted {
			t.Errorf("third joiner after the leave on node 0: %+v, want admitted", got)
		}
	})

	t.Run("pre-queue drawn once for all nodes", func(t *testing.T) {
		_, clk, ns := rig.start(t, room.Settings{Name: "prequeue", Capacity: 1, Rate: 1, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}, 2)
		var pre []string
		for i := 0; i < 20; i++ {
			tok, st, err := ns[i%2].Join()
			if err != nil || st.State != room.StatePrequeue {
				t.Fatalf("pre-queue join %d: %+v %v", i, st, err)
			}
			pre = append(pre, tok)
		}
		// The nodes report their joins on their ticks (a number handed
		// out after its node's last report is passed over at opening
		// and claimed by its holder).
		for _, n := range ns {
			if err := n.Tick(); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Minute)
		late, _, err := ns[1].Join()
		if err != nil {
			t.Fatal(err)
		}
		// The pre-queue is every number the nodes leased (the blocks'
		// numbers nobody got are passed over when reached).
		n := ns[1].Counters().Prequeued
		if n < 20 || n > 20+2*room.LeaseBlock {
			t.Fatalf("pre-queue of %d for 20 joins on 2 nodes", n)
		}
		places := map[uint64]bool{}
		admitted := 0
		for i, tok := range pre {
			a, b := status(t, ns[0], tok), status(t, ns[1], tok)
			pa, pb := placeOf(a, ns[0]), placeOf(b, ns[1])
			if pa == 0 && pb == 0 {
				admitted++
				continue
			}
			if pa != pb {
				t.Errorf("pre-queue ticket %d: place %d on node 0, %d on node 1", i, pa, pb)
			}
			if pa < 1 || pa > n || places[pa] {
				t.Errorf("pre-queue ticket %d: place %d (want a distinct place in 1..%d)", i, pa, n)
			}
			places[pa] = true
		}
		if admitted > 1 {
			t.Errorf("%d admitted with a capacity of 1", admitted)
		}
		if p := placeOf(status(t, ns[0], late), ns[0]); p != n+1 {
			t.Errorf("first joiner after opening: place %d, want %d (behind the whole pre-queue)", p, n+1)
		}
	})

	t.Run("capacity holds across nodes", func(t *testing.T) {
		const capacity = 3
		_, _, ns := rig.start(t, room.Settings{Name: "capacity", Capacity: capacity, Rate: 1000}, 4)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i, n := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 50; j++ {
					tok, st, err := n.Join()
					if err != nil {
						errs <- err
						return
					}
					if st.State == room.StateAdmitted && j%3 == 0 {
						// Some return their place at once.
						tk, _ := n.VerifyTicket(tok)
						if st2, err := n.Status(tk); err == nil && st2.Pass != "" {
							if p, err := n.VerifyPass(st2.Pass); err == nil {
								n.Leave(p)
							}
						}
					}
					if err := n.Tick(); err != nil {
						errs <- err
						return
					}
					if a := n.Counters().Active; a > capacity {
						errs <- fmt.Errorf("node %d: %d active sessions, capacity %d", i, a, capacity)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// Every node reports its joins on its tick.
		for _, n := range append(ns, ns[0]) {
			if err := n.Tick(); err != nil {
				t.Fatal(err)
			}
		}
		// (A number handed out after its node's last report, in a block
		// admission cut there, is not counted: its place was passed
		// over.)
		if c := ns[0].Counters(); c.JoinsTotal > 200 || c.Joined < 200 || c.Active > capacity {
			t.Errorf("after the run: %d joins counted (want at most 200), %d places (want at least 200), active %d (capacity %d)",
				c.JoinsTotal, c.Joined, c.Active, capacity)
		}
	})

	t.Run("a lost line is restored from what the nodes saw", func(t *testing.T) {
		sh, clk, ns := rig.start(t, room.Settings{Name: "lost", Capacity: 2, Rate: 100, ClaimTimeout: time.Minute, PassTTL: 10 * time.Minute}, 2)
		var toks []string
		for i := 0; i < 10; i++ {
			tok, _, err := ns[i%2].Join()
			if err != nil {
				t.Fatal(err)
			}
			toks = append(toks, tok)
		}
		before := map[string]room.Status{}
		for _, tok := range toks {
			before[tok] = status(t, ns[i0(tok)%2], tok)
		}
		pass := before[toks[0]].Pass
		if pass == "" {
			t.Fatalf("first joiner: %+v", before[toks[0]])
		}
		lose(t, sh, "lost")
		// Neither node answers from what it saw: 503 to everyone (never
		// "your turn is over"), nobody through the gate.
		for j, n := range ns {
			for _, tok := range toks {
				tk, _ := n.VerifyTicket(tok)
				if st, err := n.Status(tk); !errors.Is(err, room.ErrPersist) {
					t.Fatalf("node %d, status with the line lost: %+v %v, want ErrPersist", j, st, err)
				}
			}
			if _, err := n.VerifyPass(pass); err == nil {
				t.Errorf("node %d lets a pass through with the line lost", j)
			}
			if n.Problem() == nil {
				t.Errorf("node %d does not report the lost line", j)
			}
		}
		// Each node restores or adds what it saw at its next tick.
		for i := 0; ns[0].Problem() != nil || ns[1].Problem() != nil; i++ {
			if i == 5 {
				t.Fatalf("the nodes do not get their line back: %v; %v", ns[0].Problem(), ns[1].Problem())
			}
			clk.Advance(50 * time.Millisecond)
			ns[0].Tick()
			ns[1].Tick()
		}
		// Everyone keeps their place: positions never go up, and the
		// people admitted before get in again.
		for j, n := range ns {
			for i, tok := range toks {
				st := status(t, n, tok)
				was := before[tok]
				if was.State == room.StateAdmitted && st.State != room.StateAdmitted {
					t.Errorf("node %d, ticket %d: admitted before the loss, now %+v", j, i, st)
				}
				if was.State == room.StateWaiting && st.State == room.StateWaiting && st.Position > was.Position {
					t.Errorf("node %d, ticket %d: position %d before the loss, %d after", j, i, was.Position, st.Position)
				}
			}
		}
		// No number is handed out until every node could add what it saw;
		// then new tickets get new places.
		if _, _, err := ns[0].Join(); !errors.Is(err, room.ErrRestoring) {
			t.Errorf("join right after the restore: %v, want ErrRestoring", err)
		}
		clk.Advance(room.RestoreHold)
		for i := 0; i < 6; i++ {
			tok, _, err := ns[i%2].Join()
			if err != nil {
				t.Fatal(err)
			}
			toks = append(toks, tok)
		}
		var sts []room.Status
		for _, tok := range toks {
			sts = append(sts, status(t, ns[1], tok))
		}
		distinctPositions(t, sts)
	})

	t.Run("operator change on one node holds on all", func(t *testing.T) {
		sh, clk, ns := rig.start(t, room.Settings{Name: "controls", Capacity: 1, Rate: 100}, 2)
		resume := t0.Add(30 * time.Minute)
		const message = "서버 점검 중입니다. 21:30에 다시 시작합니다."
		if _, err := ns[0].Update(func(s *room.Settings) { s.Paused, s.Capacity, s.Message, s.ResumeAt = true, 7, message, resume }); err != nil {
			t.Fatal(err)
		}
		if err := ns[1].Tick(); err != nil {
			t.Fatal(err)
		}
		if s := ns[1].Settings(); !s.Paused || s.Capacity != 7 || s.Message != message || !s.ResumeAt.Equal(resume) {
			t.Fatalf("node 1 after node 0 paused, set capacity 7 and a message: %+v", s)
		}
		tok, _, err := ns[1].Join()
		if err != nil {
			t.Fatal(err)
		}
		if st := status(t, ns[1], tok); st.State != room.StatePaused || st.Message != message || !st.ResumeAt.Equal(resume) {
			t.Errorf("join on node 1 while paused: %+v, want paused with node 0's message", st)
		}
		// A node started later adopts the shared controls, not its own
		// configuration's.
		late := newNodes(t, rig.keys, sh, clk, room.Settings{Name: "controls", Capacity: 1, Rate: 100}, 1)[0]
		if s := late.Settings(); !s.Paused || s.Capacity != 7 {
			t.Errorf("node started later: paused %v capacity %d, want the shared true/7", s.Paused, s.Capacity)
		}
		if _, err := late.Update(func(s *room.Settings) { s.Paused = false }); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if err := ns[0].Tick(); err != nil {
			t.Fatal(err)
		}
		if st := status(t, ns[0], tok); st.State != room.StateAdmitted {
			t.Errorf("after resuming on the late node: %+v, want admitted", st)
		}
	})
}

// i0 is a stable small number for a ticket (which node it polls).
func i0(tok string) int { return int(tok[len(tok)-1]) }

// placeOf is a waiting ticket's place in line counting from 1 at the
// room's start: its position plus the places node r saw reached (0 when
// admitted).
func placeOf(st room.Status, r *room.Room) uint64 {
	if st.State == room.StateAdmitted {
		return 0
	}
	return st.Position + r.Counters().Serving
}

// nodesRig is what the node tests start their nodes from: a new Shared
// for each test, the keys every node signs with, and the time the tests'
// clocks start at.
type nodesRig struct {
	newShared func(t *testing.T) room.Shared
	keys      *room.Keyring
	t0        time.Time
}

// start starts n nodes of the room s on a new Shared, on a manual clock
// at the rig's t0.
func (g nodesRig) start(t *testing.T, s room.Settings, n int) (room.Shared, *clock.Manual, []*room.Room) {
	t.Helper()
	sh := g.newShared(t)
	clk := clock.NewManual(g.t0)
	return sh, clk, newNodes(t, g.keys, sh, clk, s, n)
}

// newNodes starts n nodes of the room s on sh, each a room.Room of its own
// with the same keys.
func newNodes(t *testing.T, keys *room.Keyring, sh room.Shared, clk clock.Clock, s room.Settings, n int) []*room.Room {
	t.Helper()
	var out []*room.Room
	for i := 0; i < n; i++ {
		r, err := room.NewShared(s, keys, clk, sh, nil)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out
}

// status is the status of the ticket tok on the node r.
func status(t *testing.T, r *room.Room, tok string) room.Status {
	t.Helper()
	tk, err := r.VerifyTicket(tok)
	if err != nil {
		t.Fatalf("VerifyTicket: %v", err)
	}
	st, err := r.Status(tk)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

// distinctPositions fails t if two of the tickets whose statuses are sts
// wait at the same position.
func distinctPositions(t *testing.T, sts []room.Status) {
	t.Helper()
	positions := map[uint64]int{}
	for i, st := range sts {
		if st.State != room.StateWaiting {
			continue
		}
		if j, dup := positions[st.Position]; dup {
			t.Errorf("tickets %d and %d both at position %d", j, i, st.Position)
		}
		positions[st.Position] = i
	}
}
