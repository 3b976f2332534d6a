package sharedtest

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// lateClaim is Claim with a.LateUntil set to lateUntil (zero: none); it
// returns whether the place was collected and the error (ErrClaimWait).
func (h *harness) lateClaim(pos uint64, now, lateUntil time.Time, a room.AdmitParams) (bool, error) {
	h.t.Helper()
	a.LateUntil = lateUntil
	return h.claimErr(pos, now, a)
}

// A place admitted in line order whose session ended uncollected may be
// claimed late while the node vouches for it (AdmitParams.LateUntil): its
// holder becomes a claimant, admitted before the next in line; at most
// once, and never a place whose session was collected or a place not
// admitted.
func testLateClaim(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second}
	h.init(room.Controls{Capacity: 2, Rate: 1000}, at(0))
	h.joinN(7, at(0), a) // places 1 and 2 in
	if _, ok := h.claim(1, at(100), time.Minute); !ok {
		t.Fatal("Claim(1) failed")
	}
	h.leave(1, at(200), a) // place 3 in
	// Places 2 and 3 end uncollected; 4 and 5 go in.
	if v := h.tick(at(20_000), a); v.Serving != 5 || v.Active != 2 || v.Expired != 2 {
		t.Fatalf("after places 2 and 3 timed out: %+v, want serving 5, 2 active, 2 expired", v)
	}
	vouch := at(30_000)
	if ok, err := h.lateClaim(2, at(20_100), time.Time{}, a); ok || err != nil {
		t.Fatalf("late Claim(2) with nobody vouching: %v %v, want its turn over", ok, err)
	}
	if ok, err := h.lateClaim(2, at(20_100), at(20_100), a); ok || err != nil {
		t.Fatalf("late Claim(2) vouched until now: %v %v, want its turn over", ok, err)
	}
	for _, p := range []uint64{1, 6} { // collected; not admitted
		if ok, err := h.lateClaim(p, at(20_100), vouch, a); ok || err != nil {
			t.Errorf("late Claim(%d): %v %v, want refused", p, ok, err)
		}
	}
	// Capacity is full: the holder of place 2 waits at the head of the
	// line, and keeps the claim by asking again.
	for _, now := range []int64{20_200, 25_000} {
		if ok, err := h.lateClaim(2, at(now), vouch, a); ok || !errors.Is(err, room.ErrClaimWait) {
			t.Fatalf("late Claim(2) at %d with capacity full: %v %v, want ErrClaimWait", now, ok, err)
		}
	}
	if v := h.view(); v.Claimants != 1 {
		t.Fatalf("with the holder of place 2 waiting: %d claimants in the view, want 1", v.Claimants)
	}
	// A place frees: 2 goes in before 6, the next in line.
	h.leave(4, at(26_000), a)
	if v := h.view(); v.Serving != 5 || v.Active != 2 || v.Admissions != 6 || v.Claimants != 0 {
		t.Fatalf("after a leave with place 2 waiting: %+v, want place 2 admitted, serving still 5 and no claimant", v)
	}
	if _, ok := h.claim(2, at(26_100), time.Minute); !ok {
		t.Fatal("Claim(2) once admitted failed")
	}
	h.leave(2, at(26_200), a)
	if ok, err := h.lateClaim(2, at(26_300), vouch, a); ok || err != nil {
		t.Errorf("late Claim(2) again after its session: %v %v, want refused", ok, err)
	}
	// Place 3: claimed late while capacity is full, not asked for again
	// within the claim timeout: the claim lapses, and is not made twice.
	if ok, err := h.lateClaim(3, at(26_300), at(60_000), a); ok || !errors.Is(err, room.ErrClaimWait) {
		t.Fatalf("late Claim(3) with capacity full: %v %v, want ErrClaimWait", ok, err)
	}
	if v := h.view(); v.Claimants != 1 {
		t.Fatalf("with the holder of place 3 waiting: %d claimants in the view, want 1", v.Claimants)
	}
	if v := h.tick(at(36_300), a); v.Claimants != 0 {
		t.Fatalf("after the claim of place 3 lapsed: %d claimants in the view, want 0", v.Claimants)
	}
	if ok, err := h.lateClaim(3, at(36_400), at(60_000), a); ok || err != nil {
		t.Errorf("late Claim(3) after its claim lapsed: %v %v, want refused", ok, err)
	}
}

// A late claim with room to spare is admitted and collected in one step.
func testLateClaimAdmitsAtOnce(t *testing.T, h *harness) {
	a := room.AdmitParams{ClaimTimeout: 10 * time.Second}
	h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
	h.joinN(3, at(0), a)
	if v := h.tick(at(11_000), a); v.Expired != 3 || v.Active != 0 {
		t.Fatalf("after the claim timeout: %+v, want 3 expired", v)
	}
	if ok, err := h.lateClaim(2, at(11_100), at(20_000), a); !ok || err != nil {
		t.Fatalf("late Claim(2) with capacity free: %v %v, want collected", ok, err)
	}
	if v := h.view(); v.Active != 1 || v.Admissions != 4 || !h.active(2, at(11_200)) {
		t.Fatalf("after the late claim: %+v, want place 2's session collected", v)
	}
}
