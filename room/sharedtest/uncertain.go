package sharedtest

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// drawTest is the lottery the suite's lines draw the pre-queue with.
func drawTest(key string, n uint64) (*room.Lottery, bool) {
	return room.NewLottery([]byte("sharedtest lottery "+key), n), true
}

// uncertain is Uncertain on the harness's room; it fails the test on errors.
func (h *harness) uncertain(r room.SeqRange, now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	v, err := h.s.Uncertain(h.ctx, h.room, r, now, a)
	return h.must("Uncertain", v, err)
}

// claimErr is Claim, returning its error (ErrClaimWait) rather than
// failing the test.
func (h *harness) claimErr(pos uint64, now time.Time, a room.AdmitParams) (bool, error) {
	h.t.Helper()
	_, ok, v, err := h.s.Claim(h.ctx, h.room, pos, now, time.Minute, a)
	if err != nil && !errors.Is(err, room.ErrClaimWait) {
		h.t.Fatalf("Claim(%d): %v", pos, err)
	}
	h.check(v, "Claim")
	return ok, err
}

// Uncertain places are passed over without a session, at once and without
// taking capacity or admission tokens; their holders claim them within the
// claim timeout and go in before anyone else, waiting at the head of the
// line while capacity is full.
func testUncertainPassedOver(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 2, Rate: 1000}, at(0))
	if v := h.joinN(10, at(0), a); v.Serving != 2 || v.Active != 2 {
		t.Fatalf("10 joins with capacity 2: %+v", v)
	}
	// Numbers 4..7 are places 5..8 (no pre-queue).
	if v := h.uncertain(room.SeqRange{Phase: room.PhaseOpen, From: 4, To: 8}, at(100), a); v.Serving != 2 || v.Skipped != 0 {
		t.Fatalf("Uncertain changed who is in: %+v", v)
	}
	h.leave(1, at(1000), a)
	h.leave(2, at(1000), a)
	v := h.view()
	if v.Serving != 8 || v.Active != 2 || v.Skipped != 4 || v.Admissions != 4 {
		t.Fatalf("after two leaves: Serving %d Active %d Skipped %d Admissions %d; want 8 2 4 4 (places 3 and 4 in, 5..8 passed over)",
			v.Serving, v.Active, v.Skipped, v.Admissions)
	}
	for _, p := range []uint64{5, 6, 7, 8} {
		if h.active(p, at(1000)) {
			t.Errorf("passed-over place %d holds a session", p)
		}
	}
	// Capacity is full: the holder of place 6 waits at the head of the line.
	if ok, err := h.claimErr(6, at(2000), a); ok || !errors.Is(err, room.ErrClaimWait) {
		t.Fatalf("Claim(6) with capacity full: %v %v, want ErrClaimWait", ok, err)
	}
	// A place frees: 6 goes in before 9, the next in line.
	h.leave(3, at(3000), a)
	if v := h.view(); v.Serving != 8 || v.Active != 2 || v.Admissions != 5 {
		t.Fatalf("after a leave with place 6 waiting: %+v, want place 6 admitted and serving still 8", v)
	}
	if _, ok := h.claim(6, at(3500), time.Minute); !ok {
		t.Fatal("Claim(6) once admitted failed")
	}
	if _, ok := h.claim(6, at(3600), time.Minute); !ok {
		t.Fatal("Claim(6) again failed")
	}
	// Nobody else can claim a place twice, and a place's time to be
	// claimed runs out with the claim timeout from when it was passed over.
	h.leave(6, at(4000), a)
	if ok, err := h.claimErr(6, at(4100), a); ok || err != nil {
		t.Errorf("Claim(6) after its session: %v %v, want its turn over", ok, err)
	}
	if ok, err := h.claimErr(7, at(11_000), a); ok || err != nil {
		t.Errorf("Claim(7) 10s after it was passed over: %v %v, want its turn over", ok, err)
	}
	if v := h.view(); v.Serving != 9 || v.Skipped != 4 {
		t.Errorf("end: %+v, want serving 9 and 4 skipped", v)
	}
}

// A holder who asked for a passed-over place keeps the claim by asking
// again within the claim timeout; one who stops asking is forgotten.
func testUncertainClaimantKeeps(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
	h.joinN(6, at(0), a)
	h.uncertain(room.SeqRange{Phase: room.PhaseOpen, From: 1, To: 3}, at(0), a) // places 2, 3
	h.leave(1, at(0), a)                                                        // 2, 3 passed over, 4 in
	if _, ok := h.claim(4, at(0), time.Hour); !ok {
		t.Fatal("Claim(4) failed")
	}
	wait := func(p uint64, ms int64) {
		t.Helper()
		if ok, err := h.claimErr(p, at(ms), a); ok || !errors.Is(err, room.ErrClaimWait) {
			t.Fatalf("Claim(%d) at +%dms: %v %v, want ErrClaimWait", p, ms, ok, err)
		}
	}
	wait(2, 5000)
	wait(3, 5000) // and never again
	h.tick(at(14_000), a)
	wait(2, 14_000)
	h.tick(at(16_000), a) // 3's holder asked last 11s ago
	wait(2, 23_000)
	if ok, err := h.claimErr(3, at(23_000), a); ok || err != nil {
		t.Errorf("Claim(3) 18s after its holder last asked: %v %v, want its turn over", ok, err)
	}
	h.leave(4, at(30_000), a)
	if _, ok := h.claim(2, at(30_000), time.Minute); !ok {
		t.Error("Claim(2) after a place freed: the claimant was not admitted first")
	}
	if v := h.view(); v.Serving != 4 {
		t.Errorf("Serving %d, want 4 (the freed place went to the claimant)", v.Serving)
	}
}

// Uncertain numbers before the pre-queue is drawn get their places at the
// draw: pre-queue numbers through the lottery, open-phase numbers after
// the pre-queue. Places reached already are left alone.
func testUncertainPrequeue(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: time.Minute, LotteryKey: "k", Draw: drawTest}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	h.joinN(10, at(0), a)
	h.uncertain(room.SeqRange{Phase: room.PhasePrequeue, From: 6, To: 10}, at(0), a)
	v := h.tick(at(1000), a)
	if !v.Frozen || v.N != 10 || v.Serving != 10 || v.Active != 6 || v.Skipped != 4 {
		t.Fatalf("at opening: %+v, want 10 drawn, 6 admitted and 4 passed over", v)
	}
	lot, _ := drawTest("k", 10)
	for seq := range uint64(10) {
		p := lot.Permute(seq) + 1
		if got, want := h.active(p, at(1000)), false; got != want {
			t.Errorf("Active(%d) before any claim = %v", p, got)
		}
		ok, err := h.claimErr(p, at(2000), a)
		if !ok || err != nil {
			t.Errorf("pre-queue number %d (place %d, uncertain %v): Claim = %v %v, want admitted", seq, p, seq >= 6, ok, err)
		}
	}
}

// Open-phase numbers declared uncertain before the draw are places after
// the pre-queue; places reached already are left alone.
func testUncertainOpenBeforeDraw(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: time.Minute, LotteryKey: "k", Draw: drawTest}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	h.joinN(5, at(0), a)
	h.reserve(room.PhaseOpen, 10, at(0))
	h.uncertain(room.SeqRange{Phase: room.PhaseOpen, From: 0, To: 2}, at(0), a)
	if v := h.tick(at(1000), a); v.Serving != 5 || v.Skipped != 0 {
		t.Fatalf("at opening: %+v, want the 5 pre-queued admitted", v)
	}
	v := h.joinN(3, at(1000), a) // numbers 0..2: places 6..8
	if v.Serving != 8 || v.Skipped != 2 || v.Active != 6 {
		t.Fatalf("3 joins after opening: %+v, want places 6, 7 passed over and 8 admitted", v)
	}
	if v := h.uncertain(room.SeqRange{Phase: room.PhaseOpen, From: 0, To: 3}, at(1000), a); v.Serving != 8 || v.Skipped != 2 || v.Active != 6 {
		t.Errorf("Uncertain of places reached already: %+v, want no change", v)
	}
	if ok, err := h.claimErr(7, at(1500), a); !ok || err != nil {
		t.Errorf("Claim(7) of a passed-over place: %v %v, want admitted", ok, err)
	}
	if ok, err := h.claimErr(8, at(1500), a); !ok || err != nil {
		t.Errorf("Claim(8): %v %v", ok, err)
	}
	if v := h.view(); v.Active != 7 || v.Admissions != 7 {
		t.Errorf("end: %+v, want 7 sessions", v)
	}
}
