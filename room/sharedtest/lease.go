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

// Admission admits the places of reported numbers and passes over the
// rest of a block when it reaches them (its node may be slow, idle or
// dead): the line never waits for a node. A holder of a number handed out
// after its node's last report claims the place.
func testLeasePassedOver(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 100, Rate: 1000, Paused: true}, at(0))
	b1, _ := h.lease(1, 10, at(0), a) // places 1..10
	b2, _ := h.lease(2, 10, at(0), a) // places 11..20
	h.tick(at(1), reported(a, 1, b1, 4))
	h.set(room.Controls{Capacity: 100, Rate: 1000})
	v := h.tick(at(1000), reported(a, 2, b2, 12))
	if v.Serving != 20 || v.Admissions != 6 || v.Skipped != 14 {
		t.Fatalf("after the tick: Serving %d Admissions %d Skipped %d, want 20 6 14 (places 1-4 and 11-12 in, the rest passed over)",
			v.Serving, v.Admissions, v.Skipped)
	}
	for p := uint64(5); p <= 10; p++ {
		if h.active(p, at(1000)) {
			t.Errorf("passed-over place %d holds a session", p)
		}
	}
	// Node 1 handed number 6 out before the tick that cut its block.
	if ok, err := h.claimErr(7, at(2000), a); !ok || err != nil {
		t.Errorf("holder of a number handed out after the last report: claim %v %v, want admitted", ok, err)
	}
	// A new block starts behind everything leased.
	if b, _ := h.lease(1, 10, at(2000), a); b.From != 20 {
		t.Errorf("next block %+v, want from 20", b)
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
