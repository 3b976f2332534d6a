package sharedtest

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func (h *harness) restore(seen room.View, sessionsFrom uint64, now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	v, err := h.s.Restore(h.ctx, h.room, seen, sessionsFrom, now, a)
	return h.must("Restore", v, err)
}

// A line that is gone is created again from what a node saw: numbering
// goes on past the highest mark seen (the numbers between what was seen
// handed out and that mark are passed over), serving is what was seen, the
// recent places may be claimed again with capacity kept for them, and no
// number is handed out for RestoreHold.
func testRestoreMissing(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	seen := room.View{Epoch: "old", Frozen: true, PostSeq: 7, ResvPost: 20, Serving: 5, Controls: room.Controls{Paused: false, Capacity: 3, Rate: 1000},
		ControlsSet: 4, LotteryKey: "k", Joins: 7, Admissions: 5, Leaves: 1, Expired: 1}
	v := h.restore(seen, 2, at(0), a)
	if v.Epoch != "old" || !v.Frozen || v.PostSeq != 20 || v.ResvPost != 20 || v.Serving != 5 || v.Controls != seen.Controls ||
		v.ControlsSet != 4 || v.Joins != 7 || v.Admissions != 5 || v.Leaves != 1 || v.Expired != 4 || v.Active != 0 {
		t.Fatalf("restored line: %+v", v)
	}
	if _, _, _, err := h.s.Join(h.ctx, h.room, at(1000), a); !errors.Is(err, room.ErrRestoring) {
		t.Errorf("join during the hold: %v, want ErrRestoring", err)
	}
	// Places 3..5 may have had sessions: their holders get back in, and
	// the capacity (3, for the 3 sessions seen) waits for them; place 2
	// is too old, place 6 was never admitted.
	if ok, err := h.claimErr(2, at(1000), a); ok || err != nil {
		t.Errorf("Claim(2): %v %v, want its turn over", ok, err)
	}
	h.tick(at(1500), a)
	if v := h.view(); v.Serving != 5 || v.Active != 0 {
		t.Errorf("a tick admitted with capacity kept for lost sessions: %+v", v)
	}
	for _, p := range []uint64{3, 4, 5} {
		if ok, err := h.claimErr(p, at(2000), a); !ok || err != nil {
			t.Errorf("Claim(%d) of a place that may have had a session: %v %v", p, ok, err)
		}
	}
	// After the hold, new numbers come after the highest mark seen.
	ph, seq, v, err := h.s.Join(h.ctx, h.room, at(2000), a)
	if errors.Is(err, room.ErrUnreserved) {
		h.reserve(ph, 10, at(2000))
		ph, seq, v, err = h.s.Join(h.ctx, h.room, at(2000), a)
	}
	if err != nil || ph != room.PhaseOpen || seq != 20 {
		t.Fatalf("join after the hold: %v %d %v, want number 20", ph, seq, err)
	}
	h.check(v, "Join")
	// Numbers 5 and 6 were seen handed out: places 6 and 7 are admitted.
	// Numbers 7..19 may be in someone's hands: places 8..20 are passed
	// over, and the joiner of number 20 (place 21) is next.
	h.leave(3, at(2100), a)
	h.leave(4, at(2100), a)
	if v := h.view(); v.Serving != 20 || v.Skipped != 13 || v.Active != 3 {
		t.Errorf("after two leaves: %+v, want places 6, 7 in and 8..20 passed over", v)
	}
	h.leave(5, at(2100), a)
	if v := h.view(); v.Serving != 21 {
		t.Errorf("after a third leave: %+v, want place 21 in", v)
	}
}

// A line of the same epoch that is behind what a node saw (restored from
// an older copy) is raised to it; a line that is not behind is left as it
// is.
func testRestoreMerge(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	now := h.joinN(3, at(0), a)
	same := now
	same.Active = 0
	if v := h.restore(same, 0, at(100), a); v != now {
		t.Errorf("Restore with what the line already has: %+v, want it unchanged %+v", v, now)
	}
	if _, _, _, err := h.s.Join(h.ctx, h.room, at(100), a); err != nil {
		t.Errorf("join after a Restore that changed nothing: %v", err)
	}
	ahead := now
	ahead.PostSeq, ahead.Joins, ahead.Serving, ahead.Admissions, ahead.ControlsSet = 10, 10, 10, 10, 3
	ahead.Controls.Paused = true
	v := h.restore(ahead, 0, at(200), a)
	if v.PostSeq != 256 || v.Serving != 10 || v.Joins != 10 || !v.Controls.Paused || v.ControlsSet != 3 {
		t.Errorf("Restore of a line behind: %+v", v)
	}
	if _, _, _, err := h.s.Join(h.ctx, h.room, at(300), a); !errors.Is(err, room.ErrRestoring) {
		t.Errorf("join after a Restore that raised the line: %v, want ErrRestoring", err)
	}
}

// A line of another epoch is refused, unless nothing was ever handed out
// from it: then the restore replaces it.
func testRestoreOtherEpoch(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second, LotteryKey: "k"}
	seen := room.View{Epoch: "old", Frozen: true, PostSeq: 4, ResvPost: 10, Serving: 2, Controls: room.Controls{Capacity: 5, Rate: 10},
		ControlsSet: 1, Joins: 4, Admissions: 2}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0)) // a node with no record started a new line
	h.reserve(room.PhaseOpen, 50, at(0))
	if v := h.restore(seen, 0, at(100), a); v.Epoch != "old" || v.PostSeq != 10 || v.Controls != seen.Controls {
		t.Errorf("Restore over a line nobody joined: %+v, want the old line", v)
	}
	other := h.other()
	other.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	other.joinN(1, at(0), a)
	if _, err := other.s.Restore(other.ctx, other.room, seen, 0, at(100), a); !errors.Is(err, room.ErrLineReset) {
		t.Errorf("Restore over a line with a joiner: %v, want ErrLineReset", err)
	}
}

// A restore of a line not drawn yet, by a node that saw it drawn, draws it
// as that node saw it.
func testRestoreDrawn(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: time.Minute, LotteryKey: "k", Draw: drawTest}
	h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
	h.joinN(3, at(0), a)
	seen := room.View{Epoch: testEpoch, Frozen: true, N: 8, PreSeq: 8, ResvPre: 8, Controls: room.Controls{Capacity: 100, Rate: 1000},
		ControlsSet: 1, LotteryKey: "k", Joins: 8}
	v := h.restore(seen, 0, at(2000), a)
	if !v.Frozen || v.N != 8 || v.LotteryKey != "k" || v.Joins != 8 {
		t.Errorf("Restore of a line a node saw drawn: %+v", v)
	}
}
