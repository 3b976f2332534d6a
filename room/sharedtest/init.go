package sharedtest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testInitCreates(t *testing.T, parent *harness) {
	for _, c := range []room.Controls{
		{Capacity: 10, Rate: 5},
		{Capacity: 250, Rate: 0.5},
		{Paused: true, Capacity: 1, Rate: 100},
		{Closed: true, Capacity: 3, Rate: 2},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			h := parent.fresh(t)
			v := h.init(c, at(0))
			want := room.View{Epoch: testEpoch, Controls: c, ControlsSet: 1}
			if v != want {
				t.Errorf("Init view = %+v, want %+v", v, want)
			}
			if got := h.view(); got != want {
				t.Errorf("View after Init = %+v, want %+v", got, want)
			}
		})
	}
}

func testInitTokensFull(t *testing.T, parent *harness) {
	for _, tc := range []struct {
		rate float64
		want uint64 // admitted at once: floor(max(1, rate/10))
	}{
		{0, 1},
		{0.5, 1},
		{5, 1},
		{10, 1},
		{25, 2},
		{50, 5},
		{1000, 100},
	} {
		t.Run(fmt.Sprintf("rate-%g", tc.rate), func(t *testing.T) {
			h := parent.fresh(t)
			h.init(room.Controls{Capacity: 1000, Rate: tc.rate}, at(0))
			v := h.joinN(150, at(0), open)
			if v.Serving != tc.want {
				t.Errorf("150 joins at the Init time admitted %d, want the full bucket %d", v.Serving, tc.want)
			}
			if v.Active != int(tc.want) {
				t.Errorf("Active = %d, want %d", v.Active, tc.want)
			}
		})
	}
}

func testInitFirstWins(t *testing.T, h *harness) {
	first := room.Controls{Capacity: 10, Rate: 30} // bucket of 3
	h.init(first, at(0))
	v := h.joinN(5, at(0), open)
	if v.Serving != 3 || v.PostSeq != 5 {
		t.Fatalf("after 5 joins: Serving %d PostSeq %d, want 3 and 5", v.Serving, v.PostSeq)
	}
	second := room.Controls{Capacity: 100, Rate: 1000, Paused: true}
	v2, err := h.s.Init(h.ctx, h.room, second, "another-epoch", at(0))
	if err != nil {
		t.Fatal(err)
	}
	if v2 != v {
		t.Errorf("second Init = %+v, want the existing view %+v", v2, v)
	}
	if got := h.view(); got.Controls != first {
		t.Errorf("controls after second Init = %+v, want the first %+v", got.Controls, first)
	}
	// The second Init must not refill the bucket (nor apply its rate).
	_, _, v = h.join(at(0), open)
	if v.Serving != 3 {
		t.Errorf("join after second Init at the same time admitted: Serving %d, want 3", v.Serving)
	}
}

// A View of a room nobody has initialised must not create it: the first
// Init afterwards still sets its controls and a full bucket.
func testNothingBeforeInit(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: time.Minute}
	// Before Init (a new room, or one whose state was lost) nothing but
	// Init and Active works, and none of it creates the room: starting the
	// line again from zero would give away places tickets already hold.
	if _, err := h.s.View(h.ctx, h.room); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("View before Init: %v, want ErrNoSharedState", err)
	}
	if _, _, _, err := h.s.Join(h.ctx, h.room, at(0), a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Join before Init: %v, want ErrNoSharedState", err)
	}
	if _, err := h.s.Tick(h.ctx, h.room, at(0), a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Tick before Init: %v, want ErrNoSharedState", err)
	}
	if _, err := h.s.Reserve(h.ctx, h.room, room.PhaseOpen, 10, at(0)); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Reserve before Init: %v, want ErrNoSharedState", err)
	}
	if _, _, _, err := h.s.Claim(h.ctx, h.room, 1, at(0), time.Minute, a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Claim before Init: %v, want ErrNoSharedState", err)
	}
	if _, _, err := h.s.Leave(h.ctx, h.room, 1, at(0), a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Leave before Init: %v, want ErrNoSharedState", err)
	}
	if _, err := h.s.SetControls(h.ctx, h.room, room.Controls{Capacity: 1, Rate: 1}); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("SetControls before Init: %v, want ErrNoSharedState", err)
	}
	if ok, err := h.s.Active(h.ctx, h.room, 1, at(0)); ok || err != nil {
		t.Errorf("Active before Init: %v, %v, want false, nil", ok, err)
	}
	c := room.Controls{Capacity: 10, Rate: 50}
	if v := h.init(c, at(0)); v.Controls != c || v.Joins != 0 || v.PostSeq != 0 {
		t.Errorf("Init after the refused calls: %+v, want a fresh room with controls %+v", v, c)
	}
	if v := h.joinN(8, at(0), open); v.Serving != 5 {
		t.Errorf("Init after the refused calls: 8 joins admitted %d, want the full bucket 5", v.Serving)
	}
}
