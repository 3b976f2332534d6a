package sharedtest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testSetControlsView(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 10, Rate: 5}, at(0))
	for _, c := range []room.Controls{
		{Capacity: 20, Rate: 5},
		{Capacity: 20, Rate: 7.25},
		{Paused: true, Capacity: 20, Rate: 7.25},
		{Paused: true, Closed: true, Capacity: 20, Rate: 7.25},
		{Closed: true, Capacity: 0, Rate: 0.5},
		{Capacity: 3, Rate: 1000},
		// The operator's word to the line, Unicode and quotes included.
		{Paused: true, Capacity: 3, Rate: 1000, Message: `서버 점검 중입니다 "곧" 재개 ' -- 'end`, ResumeAt: time.UnixMilli(1626699600123).UTC()},
		{Paused: true, Capacity: 3, Rate: 1000, Message: "ResumeAt cleared"},
		{Capacity: 3, Rate: 1000},
		// The pacing is shared with the rate (docs/PACING.md).
		{Capacity: 3, Rate: 12.5, Pacing: room.Pacing{Mode: room.PacingAuto, TargetP95: 750 * time.Millisecond, MaxErrorRate: 0.025, MinRate: 0.5, MaxRate: 333.25}},
		{Capacity: 3, Rate: 40, Pacing: room.Pacing{Mode: room.PacingFixed, TargetP95: time.Second, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}},
		{Capacity: 3, Rate: 1000},
	} {
		before := h.view().ControlsSet
		if v := h.set(c); v.Controls != c || v.ControlsSet != before+1 {
			t.Errorf("SetControls(%+v) = %+v, want those controls and ControlsSet %d", c, v, before+1)
		}
		if v := h.view(); v.Controls != c {
			t.Errorf("after SetControls(%+v): View controls %+v", c, v.Controls)
		}
		if v := h.tick(at(1000), open); v.Controls != c {
			t.Errorf("after SetControls(%+v): Tick controls %+v", c, v.Controls)
		}
	}
}

func testSetControlsLowerCapacity(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 3, Rate: 1000}, at(0))
	if v := h.joinN(10, at(0), open); v.Serving != 3 || v.Active != 3 {
		t.Fatalf("10 joins: Serving %d Active %d, want 3 and 3", v.Serving, v.Active)
	}
	if _, ok := h.claim(1, at(0), time.Hour); !ok {
		t.Fatal("Claim(1) failed")
	}
	h.set(room.Controls{Capacity: 1, Rate: 1000})
	v := h.tick(at(1000), open)
	if v.Active != 3 || v.Serving != 3 || v.Controls.Capacity != 1 {
		t.Errorf("after lowering capacity to 1: %+v, want Active 3 (no session removed), Serving 3", v)
	}
	if !h.active(1, at(1000)) {
		t.Errorf("claimed session 1 inactive after lowering capacity")
	}
	for i, s := range []struct {
		pos     uint64
		serving uint64
		active  int
	}{
		{1, 3, 2}, // 2 sessions left, capacity 1: nobody admitted
		{2, 3, 1}, // 1 left: still full
		{3, 4, 1}, // 0 left: place 4 admitted
	} {
		now := at(int64(2000 + 1000*i))
		if !h.leave(s.pos, now, open) {
			t.Fatalf("Leave(%d) = false", s.pos)
		}
		if v := h.tick(now, open); v.Serving != s.serving || v.Active != s.active {
			t.Errorf("after Leave(%d): Serving %d Active %d, want %d and %d", s.pos, v.Serving, v.Active, s.serving, s.active)
		}
	}
}

func testSetControlsRaiseCapacity(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
	h.joinN(10, at(0), open)
	h.set(room.Controls{Capacity: 4, Rate: 1000})
	if v := h.tick(at(1000), open); v.Serving != 4 || v.Active != 4 {
		t.Errorf("Tick after raising capacity to 4: Serving %d Active %d, want 4 and 4", v.Serving, v.Active)
	}
}

func testJoinsCounter(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: time.Hour, LotteryKey: "k"}
	h.init(room.Controls{Paused: true, Capacity: 2, Rate: 1000}, at(0))
	joins := uint64(0)
	step := func(now time.Time) {
		t.Helper()
		joins++
		if _, _, v := h.join(now, a); v.Joins != joins {
			t.Errorf("join %d: Joins %d", joins, v.Joins)
		}
	}
	for range 3 {
		step(at(0)) // pre-queue
	}
	for range 4 {
		step(at(2000)) // open, paused
	}
	h.set(room.Controls{Capacity: 2, Rate: 1000})
	for range 3 {
		step(at(3000)) // open, room full after these
	}
	v := h.view()
	if v.Joins != 10 || v.PreSeq != 3 || v.PostSeq != 7 {
		t.Errorf("end: Joins %d PreSeq %d PostSeq %d, want 10, 3, 7", v.Joins, v.PreSeq, v.PostSeq)
	}
}

func testViewMatches(t *testing.T, h *harness) {
	a := room.AdmitParams{OpensAt: at(1000), ClaimTimeout: 5 * time.Second, LotteryKey: "k"}
	same := func(what string, v room.View) {
		t.Helper()
		for range 2 {
			if got := h.view(); got != v {
				t.Errorf("View after %s = %+v, want %+v", what, got, v)
			}
		}
	}
	same("Init", h.init(room.Controls{Capacity: 2, Rate: 20}, at(0)))
	_, _, v := h.join(at(0), a)
	same("pre-queue Join", v)
	same("Tick before opening", h.tick(at(500), a))
	same("Tick at opening", h.tick(at(1000), a))
	_, _, v = h.join(at(1500), a)
	same("open Join", v)
	_, _, v = h.join(at(1600), a)
	same("Join of a waiting person", v)
	same("Tick", h.tick(at(2000), a))
	before := h.view()
	h.claim(1, at(2100), time.Minute)
	h.active(1, at(2100))
	same("Claim and Active", before)
	same("Tick after expiry", h.tick(at(8000), a))
}

func testRoomsIndependent(t *testing.T, x *harness) {
	y := x.other()
	cx := room.Controls{Capacity: 1, Rate: 1000}
	cy := room.Controls{Capacity: 5, Rate: 20}
	x.init(cx, at(0))
	y.init(cy, at(0))
	x.joinN(3, at(0), open)
	_, seq, vy := y.join(at(0), open)
	if seq != 0 || vy.PostSeq != 1 || vy.Serving != 1 || vy.Controls != cy {
		t.Errorf("room y after 3 joins in x and 1 in y: seq %d, %+v", seq, vy)
	}
	x.set(room.Controls{Paused: true, Capacity: 1, Rate: 1000})
	if !x.leave(1, at(100), open) {
		t.Fatal("Leave(1) in x = false")
	}
	if vy := y.view(); vy.Controls != cy || vy.Leaves != 0 || vy.Active != 1 {
		t.Errorf("room y after changes to x: %+v", vy)
	}
	if vx := x.view(); vx.PostSeq != 3 || vx.Serving != 1 || vx.Leaves != 1 || vx.Active != 0 {
		t.Errorf("room x: %+v, want PostSeq 3, Serving 1, Leaves 1, Active 0", vx)
	}
}
