package sharedtest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// lease is Lease on the harness's room; it fails the test on errors.
func (h *harness) lease(node, n uint64, now time.Time, a room.AdmitParams) (room.SeqRange, room.View) {
	h.t.Helper()
	r, v, err := h.s.Lease(h.ctx, h.room, node, n, now, a)
	return r, h.must("Lease", v, err)
}

// reported is a with node's report on block b, used up to used.
func reported(a room.AdmitParams, node uint64, b room.SeqRange, used uint64) room.AdmitParams {
	a.Report = &room.LeaseReport{Node: node, Phase: b.Phase, From: b.From, Used: used}
	return a
}

// Blocks are disjoint and reserved; the first number of a block is
// counted as a join, the others as their node reports them, and a node's
// next block ends its last.
func testLeaseBlocks(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 5, Rate: 100, Paused: true}, at(0))
	b1, v := h.lease(1, 10, at(0), open)
	if b1 != (room.SeqRange{Phase: room.PhaseOpen, From: 0, To: 10}) || v.Joins != 1 || v.PostSeq != 10 || v.ResvPost < 10 {
		t.Fatalf("first block %+v, view %+v", b1, v)
	}
	b2, v := h.lease(2, 5, at(1), open)
	if b2.From != 10 || b2.To != 15 || v.Joins != 2 {
		t.Fatalf("second node's block %+v, view %+v", b2, v)
	}
	if v := h.tick(at(2), reported(open, 1, b1, 4)); v.Joins != 5 {
		t.Errorf("after node 1 reported 4 of its numbers: %d joins, want 5", v.Joins)
	}
	// A report never lowers what was reported, nor goes past the block.
	if v := h.tick(at(3), reported(open, 1, b1, 2)); v.Joins != 5 {
		t.Errorf("after an older report: %d joins, want 5", v.Joins)
	}
	b3, v := h.lease(1, 0, at(4), reported(open, 1, b1, 99))
	if b3.From != 15 || b3.To != 16 || v.Joins != 12 || v.PostSeq != 16 {
		t.Fatalf("node 1's next block (of at least one): %+v, view %+v (want joins 12: 10 of the first block, 1 of node 2's, 1 of this)", b3, v)
	}
	// Reports of a block that ended are ignored.
	if v := h.tick(at(5), reported(open, 1, b1, 10)); v.Joins != 12 {
		t.Errorf("after a report of an ended block: %d joins, want 12", v.Joins)
	}
}

// final is a with node's final report on block b: it hands out nothing
// more of it.
func final(a room.AdmitParams, node uint64, b room.SeqRange, used uint64) room.AdmitParams {
	a = reported(a, node, b, used)
	a.Report.Final = true
	return a
}

// Admission waits at a live node's number it has not reported handed out
// (nobody behind it goes in first), and goes on as the node reports: a
// node that keeps handing out its numbers has none passed over.
func testLeaseWaitsForLiveNode(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 100, Rate: 1000, Paused: true}, at(0))
	b1, _ := h.lease(1, 10, at(0), a) // places 1..10
	b2, _ := h.lease(2, 10, at(0), a) // places 11..20
	h.set(room.Controls{Capacity: 100, Rate: 1000})
	steps := []struct {
		what    string
		step    func() room.View
		serving uint64
	}{
		{"node 1 reports 4 handed out", func() room.View { return h.tick(at(50), reported(a, 1, b1, 4)) }, 4},
		{"another node's tick", func() room.View { return h.tick(at(60), a) }, 4},
		{"a third node's block behind", func() room.View { _, v := h.lease(3, 1, at(70), a); return v }, 4},
		{"node 2 reports nothing more", func() room.View { return h.tick(at(80), reported(a, 2, b2, 11)) }, 4},
		{"node 1 reports 7 handed out", func() room.View { return h.tick(at(100), reported(a, 1, b1, 7)) }, 7},
		{"node 1 reports all handed out", func() room.View { return h.tick(at(150), reported(a, 1, b1, 10)) }, 11},
		{"node 2 reports all handed out", func() room.View { return h.tick(at(200), reported(a, 2, b2, 20)) }, 21},
	}
	for _, st := range steps {
		v := st.step()
		if v.Serving != st.serving || v.Skipped != 0 || v.Admissions != st.serving {
			t.Fatalf("%s: Serving %d Skipped %d Admissions %d, want %d 0 %d", st.what, v.Serving, v.Skipped, v.Admissions, st.serving, st.serving)
		}
	}
}

// A node that reports twice after admission reached its number (a tick's
// time apart), and had still not handed it out, has its block cut there: its numbers not reported
// are passed over, and a holder of one handed out after that report
// claims the place. Its final report (it saw the block passed and hands
// out no more of it) counts the numbers handed out after the cut and
// drops the places of the others: nobody holds them.
func testLeaseIdleNodeCut(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	b1, v := h.lease(1, 10, at(0), a) // places 1..10, the first handed out
	if v.Serving != 1 || v.Skipped != 0 {
		t.Fatalf("after the lease: Serving %d Skipped %d, want 1 0 (place 2 waits for node 1)", v.Serving, v.Skipped)
	}
	if v := h.tick(at(10), a); v.Serving != 1 || v.Skipped != 0 {
		t.Fatalf("another node's tick: Serving %d Skipped %d, want 1 0", v.Serving, v.Skipped)
	}
	if v := h.tick(at(50), reported(a, 1, b1, 1)); v.Serving != 1 || v.Skipped != 0 {
		t.Fatalf("node 1's first report since: Serving %d Skipped %d, want 1 0 (it may have been taken before admission got there)", v.Serving, v.Skipped)
	}
	v = h.tick(at(100), reported(a, 1, b1, 1))
	if v.Serving != 10 || v.Skipped != 9 || v.Admissions != 1 {
		t.Fatalf("node 1 reported nothing more a tick later: Serving %d Skipped %d Admissions %d, want 10 9 1", v.Serving, v.Skipped, v.Admissions)
	}
	// Node 1 handed numbers 1 and 2 out after that report, before it
	// learned of the cut.
	if ok, err := h.claimErr(2, at(110), a); !ok || err != nil {
		t.Errorf("holder of a number handed out after the report: claim %v %v, want admitted", ok, err)
	}
	v = h.tick(at(150), final(a, 1, b1, 3))
	if v.Joins != 3 {
		t.Errorf("after the final report: %d joins, want 3", v.Joins)
	}
	if ok, err := h.claimErr(3, at(160), a); !ok || err != nil {
		t.Errorf("holder of number 2 (handed out before the final report): claim %v %v, want admitted", ok, err)
	}
	for p := uint64(4); p <= 10; p++ {
		if ok, _ := h.claimErr(p, at(170), a); ok {
			t.Errorf("place %d of a number never handed out: claimed", p)
		}
	}
	// A new block starts behind everything leased.
	if b, _ := h.lease(1, 10, at(200), a); b.From != 10 {
		t.Errorf("next block %+v, want from 10", b)
	}
}

// A node that stops reporting (dead) holds up the line for LeaseGrace at
// most: then its block is cut and the line goes on.
func testLeaseDeadNodeCut(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	h.lease(1, 10, at(0), a)          // places 1..10; node 1 dies
	b2, _ := h.lease(2, 1, at(10), a) // place 11
	grace := room.LeaseGrace.Milliseconds()
	for _, ms := range []int64{20, grace / 2, grace - 1} {
		if v := h.tick(at(ms), reported(a, 2, b2, 11)); v.Serving != 1 {
			t.Fatalf("tick at +%dms, before the grace: Serving %d, want 1", ms, v.Serving)
		}
	}
	v := h.tick(at(grace), reported(a, 2, b2, 11))
	if v.Serving != 11 || v.Skipped != 9 || v.Admissions != 2 {
		t.Fatalf("tick at +%dms, the grace over: Serving %d Skipped %d Admissions %d, want 11 9 2", grace, v.Serving, v.Skipped, v.Admissions)
	}
	if !h.active(11, at(grace)) {
		if _, ok := h.claim(11, at(grace), time.Minute); !ok {
			t.Error("place 11 (node 2's) not admitted")
		}
	}
}

// The pre-queue's blocks end when it is frozen: the pre-queue is every
// number leased, and the places of numbers not reported are passed over.
func testLeasePrequeue(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: 10 * time.Second, LotteryKey: "k", Draw: drawTest}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	b1, _ := h.lease(1, 10, at(0), a)
	if b1.Phase != room.PhasePrequeue || b1.From != 0 || b1.To != 10 {
		t.Fatalf("pre-queue block %+v", b1)
	}
	h.tick(at(500), reported(a, 1, b1, 3))
	v := h.tick(at(1000), reported(a, 1, b1, 3))
	if !v.Frozen || v.N != 10 || v.Joins != 3 {
		t.Fatalf("frozen view %+v, want a pre-queue of 10 with 3 joins", v)
	}
	if v.Serving != 10 || v.Admissions != 3 || v.Skipped != 7 {
		t.Errorf("after opening: Serving %d Admissions %d Skipped %d, want 10 3 7", v.Serving, v.Admissions, v.Skipped)
	}
	lot, _ := drawTest("k", 10)
	for s := uint64(0); s < 3; s++ {
		if !h.active(lot.Permute(s)+1, at(1000)) {
			if _, ok := h.claim(lot.Permute(s)+1, at(1000), time.Minute); !ok {
				t.Errorf("reported pre-queue number %d (place %d) not admitted", s, lot.Permute(s)+1)
			}
		}
	}
	b2, _ := h.lease(1, 10, at(1000), a)
	if b2.Phase != room.PhaseOpen || b2.From != 0 {
		t.Errorf("block after opening %+v, want open-phase numbers from 0", b2)
	}
}
