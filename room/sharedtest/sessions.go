package sharedtest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testClaimNotAdmitted(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
	h.joinN(3, at(0), open) // place 1 admitted, 2 and 3 wait
	for _, pos := range []uint64{0, 2, 3, 4, 1 << 40} {
		if _, ok := h.claim(pos, at(1000), time.Minute); ok {
			t.Errorf("Claim(%d) of a place never admitted = ok", pos)
		}
		if h.active(pos, at(1000)) {
			t.Errorf("Active(%d) of a place never admitted = true", pos)
		}
	}
	if v := h.view(); v.Expired != 0 || v.Active != 1 || v.Serving != 1 {
		t.Errorf("after claims of places not admitted: %+v, want Expired 0, Active 1, Serving 1", v)
	}
}

func testClaimAdmitted(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 5, Rate: 1000}, at(0))
	h.joinN(2, at(0), open)
	for _, tc := range []struct {
		pos     uint64
		now     int64
		ttl     time.Duration
		again   int64
		againTT time.Duration
	}{
		{1, 1000, time.Minute, 20_000, time.Hour},
		{2, 59_999, 90 * time.Second, 59_999, time.Second},
	} {
		exp, ok := h.claim(tc.pos, at(tc.now), tc.ttl)
		want := at(tc.now).Add(tc.ttl)
		if !ok || !exp.Equal(want) {
			t.Errorf("Claim(%d) at +%dms = %v %v, want %v true", tc.pos, tc.now, exp, ok, want)
		}
		exp2, ok := h.claim(tc.pos, at(tc.again), tc.againTT)
		if !ok || !exp2.Equal(want) {
			t.Errorf("second Claim(%d) at +%dms = %v %v, want the same expiry %v true", tc.pos, tc.again, exp2, ok, want)
		}
	}
	if v := h.view(); v.Active != 2 || v.Expired != 0 {
		t.Errorf("after claims: Active %d Expired %d, want 2 and 0", v.Active, v.Expired)
	}
}

func testClaimTimeout(t *testing.T, parent *harness) {
	const claimTimeout = 30 * time.Second
	const admitted = 10_000 // place 2 is admitted by a Leave at +10s
	for _, tc := range []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{"JustBefore", claimTimeout - time.Millisecond, true},
		{"At", claimTimeout, false},
		{"WellAfter", claimTimeout + time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := parent.fresh(t)
			a := room.AdmitParams{ClaimTimeout: claimTimeout}
			h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
			h.joinN(2, at(0), a)
			if !h.leave(1, at(admitted), a) {
				t.Fatal("Leave(1) = false")
			}
			if v := h.view(); v.Serving != 2 || v.Active != 1 {
				t.Fatalf("after Leave: Serving %d Active %d, want 2 and 1", v.Serving, v.Active)
			}
			now := at(admitted).Add(tc.after)
			exp, ok := h.claim(2, now, time.Minute)
			v := h.view()
			if ok != tc.ok {
				t.Fatalf("Claim of a place admitted at +%dms, %v later: ok %v, want %v", admitted, tc.after, ok, tc.ok)
			}
			if tc.ok {
				if want := now.Add(time.Minute); !exp.Equal(want) {
					t.Errorf("expires %v, want %v", exp, want)
				}
				if v.Active != 1 || v.Expired != 0 {
					t.Errorf("after Claim: Active %d Expired %d, want 1 and 0", v.Active, v.Expired)
				}
				return
			}
			if v.Active != 0 || v.Expired != 1 {
				t.Errorf("after a late Claim: Active %d Expired %d, want 0 and 1", v.Active, v.Expired)
			}
			if _, ok := h.claim(2, now, time.Minute); ok {
				t.Errorf("second late Claim = ok")
			}
			if h.leave(2, now, a) {
				t.Errorf("Leave of the timed-out place = true")
			}
			if v := h.view(); v.Expired != 1 || v.Leaves != 1 || v.Active != 0 {
				t.Errorf("end: Expired %d Leaves %d Active %d, want 1, 1, 0", v.Expired, v.Leaves, v.Active)
			}
		})
	}
}

func testClaimAfterPass(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 5, Rate: 1000}, at(0))
	h.join(at(0), open)
	exp, ok := h.claim(1, at(1000), 10*time.Second)
	if !ok || !exp.Equal(at(11_000)) {
		t.Fatalf("Claim = %v %v, want %v true", exp, ok, at(11_000))
	}
	if _, ok := h.claim(1, at(11_000), 10*time.Second); ok {
		t.Errorf("Claim at the pass's expiry = ok, want the session gone")
	}
	if v := h.view(); v.Active != 0 || v.Expired != 1 {
		t.Errorf("after Claim at expiry: Active %d Expired %d, want 0 and 1", v.Active, v.Expired)
	}
}

func testActive(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 5, Rate: 1000}, at(0))
	h.joinN(2, at(0), open)
	if h.active(1, at(500)) {
		t.Errorf("Active of an admitted, unclaimed place = true")
	}
	if _, ok := h.claim(1, at(1000), 10*time.Second); !ok {
		t.Fatal("Claim(1) failed")
	}
	for _, tc := range []struct {
		ms   int64
		want bool
	}{
		{1000, true},
		{5000, true},
		{10_999, true},
		{11_000, false},
		{20_000, false},
	} {
		if got := h.active(1, at(tc.ms)); got != tc.want {
			t.Errorf("Active(1) at +%dms (claimed at +1s for 10s) = %v, want %v", tc.ms, got, tc.want)
		}
	}
	if h.active(2, at(1000)) {
		t.Errorf("Active(2), admitted but never claimed = true")
	}
	if h.active(3, at(1000)) {
		t.Errorf("Active(3), never joined = true")
	}
}

func testTickSweeps(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second}
	h.init(room.Controls{Capacity: 2, Rate: 1000}, at(0))
	if v := h.joinN(4, at(0), a); v.Serving != 2 {
		t.Fatalf("4 joins: Serving %d, want 2", v.Serving)
	}
	if exp, ok := h.claim(1, at(1000), 5*time.Second); !ok || !exp.Equal(at(6000)) {
		t.Fatalf("Claim(1) = %v %v", exp, ok)
	}
	steps := []struct {
		ms                int64
		serving, expired  uint64
		active            int
		what              string
		claimable, gone   uint64
		claimableExpected bool
	}{
		{5999, 2, 0, 2, "before any expiry", 0, 0, false},
		{6000, 3, 1, 2, "place 1's pass expired", 0, 1, false},
		{9999, 3, 1, 2, "before place 2's claim timeout", 0, 0, false},
		{10_000, 4, 2, 2, "place 2 unclaimed past its claim timeout", 3, 2, true},
	}
	for _, s := range steps {
		v := h.tick(at(s.ms), a)
		if v.Serving != s.serving || v.Expired != s.expired || v.Active != s.active {
			t.Errorf("Tick at +%dms (%s): Serving %d Expired %d Active %d, want %d %d %d",
				s.ms, s.what, v.Serving, v.Expired, v.Active, s.serving, s.expired, s.active)
		}
		if s.gone != 0 {
			if _, ok := h.claim(s.gone, at(s.ms), time.Minute); ok {
				t.Errorf("Claim(%d) after it was swept = ok", s.gone)
			}
		}
		if s.claimableExpected {
			// Place 3 was admitted at +6s: its claim timeout ends at +16s.
			if _, ok := h.claim(s.claimable, at(s.ms), time.Minute); !ok {
				t.Errorf("Claim(%d) at +%dms failed", s.claimable, s.ms)
			}
		}
	}
	if v := h.view(); v.Expired != 2 || v.Serving != 4 || v.Active != 2 {
		t.Errorf("end: %+v, want Expired 2, Serving 4, Active 2 (a Claim of a swept place is no new expiry)", v)
	}
}

func testLeave(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
	h.joinN(4, at(0), open)
	if _, ok := h.claim(1, at(100), time.Minute); !ok {
		t.Fatal("Claim(1) failed")
	}
	steps := []struct {
		pos             uint64
		want            bool
		serving, leaves uint64
	}{
		{1, true, 2, 1},  // claimed: leaves, place 2 admitted in the same step
		{1, false, 2, 1}, // again
		{3, false, 2, 1}, // not admitted yet
		{0, false, 2, 1},
		{2, true, 3, 2}, // admitted, never claimed
		{3, true, 4, 3},
		{4, true, 4, 4}, // nobody left to admit
		{4, false, 4, 4},
	}
	for i, s := range steps {
		if got := h.leave(s.pos, at(int64(1000*(i+1))), open); got != s.want {
			t.Errorf("step %d: Leave(%d) = %v, want %v", i, s.pos, got, s.want)
		}
		v := h.view()
		wantActive := 1
		if s.serving == 4 && s.leaves == 4 {
			wantActive = 0
		}
		if v.Serving != s.serving || v.Leaves != s.leaves || v.Active != wantActive {
			t.Errorf("step %d, after Leave(%d): Serving %d Leaves %d Active %d, want %d %d %d",
				i, s.pos, v.Serving, v.Leaves, v.Active, s.serving, s.leaves, wantActive)
		}
	}
	if h.active(1, at(9000)) {
		t.Errorf("Active(1) after Leave = true")
	}
	if _, ok := h.claim(1, at(9000), time.Minute); ok {
		t.Errorf("Claim(1) after Leave = ok")
	}
	if v := h.view(); v.Expired != 0 {
		t.Errorf("Expired %d after only leaves, want 0", v.Expired)
	}
}
