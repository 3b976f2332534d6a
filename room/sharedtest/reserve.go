package sharedtest

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// joinRaw is one Join without the harness's reservation.
func (h *harness) joinRaw(now time.Time, a room.AdmitParams) (room.Phase, uint64, room.View, error) {
	h.t.Helper()
	ph, seq, v, err := h.s.Join(h.ctx, h.room, now, a)
	if err == nil || errors.Is(err, room.ErrUnreserved) {
		h.check(v, "Join")
	}
	return ph, seq, v, err
}

// Join hands out numbers only below the phase's reservation mark; without
// one it changes nothing and names the phase to reserve.
func testJoinNeedsReservation(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(10_000), ClaimTimeout: time.Minute, LotteryKey: "k"}
	before := h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
	if before.ResvPre != 0 || before.ResvPost != 0 {
		t.Fatalf("Init reserved numbers: %+v", before)
	}
	for _, tc := range []struct {
		now   int64
		phase room.Phase
		n     uint64
	}{
		{0, room.PhasePrequeue, 2},
		{10_000, room.PhaseOpen, 3},
	} {
		ph, _, v, err := h.joinRaw(at(tc.now), a)
		if !errors.Is(err, room.ErrUnreserved) || ph != tc.phase {
			t.Fatalf("Join at +%dms without a reservation: phase %d, %v; want phase %d and ErrUnreserved", tc.now, ph, err, tc.phase)
		}
		if v.Joins != before.Joins || v.PreSeq != before.PreSeq || v.PostSeq != before.PostSeq {
			t.Errorf("a refused Join handed out a number: %+v, before %+v", v, before)
		}
		if r := h.reserve(tc.phase, tc.n, at(tc.now)); r.ResvPre+r.ResvPost != before.ResvPre+before.ResvPost+tc.n {
			t.Errorf("Reserve(%d, %d): %+v", tc.phase, tc.n, r)
		}
		for i := range tc.n {
			ph, seq, v, err := h.joinRaw(at(tc.now), a)
			if err != nil || ph != tc.phase || seq != i {
				t.Fatalf("join %d of the reservation: phase %d seq %d %v", i, ph, seq, err)
			}
			before = v
		}
		if _, _, _, err := h.joinRaw(at(tc.now), a); !errors.Is(err, room.ErrUnreserved) {
			t.Errorf("join past a reservation of %d: %v, want ErrUnreserved", tc.n, err)
		}
	}
}

// A reservation mark never goes down, and Reserve(n) reserves n past the
// numbers handed out, not past the mark.
func testReserveMarksOnlyRise(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 1, Rate: 1}, at(0))
	for i, s := range []struct {
		n, joins, want uint64
	}{
		{5, 0, 5},
		{3, 2, 5}, // 2 handed out + 3 = 5: no change
		{1, 0, 5},
		{0, 0, 5},
		{10, 1, 13}, // 3 handed out + 10
	} {
		for range s.joins {
			if _, _, _, err := h.joinRaw(at(0), open); err != nil {
				t.Fatal(err)
			}
		}
		if v := h.reserve(room.PhaseOpen, s.n, at(0)); v.ResvPost != s.want || v.ResvPre != 0 {
			t.Errorf("step %d: Reserve(open, %d): ResvPost %d ResvPre %d, want %d and 0", i, s.n, v.ResvPost, v.ResvPre, s.want)
		}
	}
	if v := h.view(); v.ResvPost != 13 {
		t.Errorf("View: ResvPost %d, want 13", v.ResvPost)
	}
}

// Freezing gives up the pre-queue numbers reserved but not handed out (N is
// what was handed out), and nothing more can be reserved for it.
func testReserveFreeze(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: time.Minute, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
	h.reserve(room.PhasePrequeue, 50, at(0))
	for range 3 {
		if _, _, _, err := h.joinRaw(at(0), a); err != nil {
			t.Fatal(err)
		}
	}
	v := h.tick(at(1000), a)
	if !v.Frozen || v.N != 3 || v.ResvPre != 3 {
		t.Fatalf("after opening: %+v, want frozen with N = ResvPre = 3", v)
	}
	if v := h.reserve(room.PhasePrequeue, 10, at(1000)); v.ResvPre != 3 || v.PreSeq != 3 {
		t.Errorf("Reserve(pre-queue) after freezing: ResvPre %d PreSeq %d, want 3 and 3", v.ResvPre, v.PreSeq)
	}
}
