package sharedtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testAdmitImmediate(t *testing.T, h *harness) {
	h.init(room.Controls{Capacity: 2, Rate: 10}, at(0))
	ph, seq, v := h.join(at(5000), open)
	if ph != room.PhaseOpen || seq != 0 {
		t.Fatalf("join: phase %d seq %d", ph, seq)
	}
	if v.Serving != 1 || v.Active != 1 || v.Admissions != 1 {
		t.Errorf("join into an empty line: %+v, want admitted at once (Serving 1, Active 1)", v)
	}
	if got := h.view(); got != v {
		t.Errorf("View = %+v, want the join's view %+v", got, v)
	}
	if _, ok := h.claim(1, at(5000), time.Minute); !ok {
		t.Errorf("place 1 not claimable after an immediate admission")
	}
}

func testAdmitCapacity(t *testing.T, h *harness) {
	c := room.Controls{Capacity: 3, Rate: 1000}
	h.init(c, at(0))
	for i := range 10 {
		_, _, v := h.join(at(0), open)
		if want := uint64(min(i+1, 3)); v.Serving != want || v.Active != int(want) {
			t.Errorf("join %d: Serving %d Active %d, want %d", i, v.Serving, v.Active, want)
		}
	}
	for s := int64(1); s <= 10; s++ {
		v := h.tick(at(s*1000), open)
		if v.Serving != 3 || v.Active != 3 {
			t.Errorf("Tick at +%ds with a full room: Serving %d Active %d, want 3 and 3", s, v.Serving, v.Active)
		}
	}
}

func testAdmitRate(t *testing.T, parent *harness) {
	const stepMS, endMS = 70, 5000
	for _, rate := range []float64{2, 20, 100} {
		t.Run(fmt.Sprintf("rate-%g", rate), func(t *testing.T) {
			h := parent.fresh(t)
			b := burst(rate)
			people := int(2*(b+rate*endMS/1000)) + 10
			h.init(room.Controls{Capacity: people, Rate: rate}, at(0))
			type point struct {
				ms  int64
				adm uint64
			}
			pts := []point{{0, 0}}
			v := h.joinN(people, at(0), open)
			if v.Serving != uint64(b) {
				t.Errorf("%d joins at the Init time admitted %d, want the bucket %g", people, v.Serving, b)
			}
			pts = append(pts, point{0, v.Admissions})
			for ms := int64(stepMS); ms <= endMS; ms += stepMS {
				v = h.tick(at(ms), open)
				if v.Active > people {
					t.Fatalf("Active %d > Capacity %d", v.Active, people)
				}
				pts = append(pts, point{ms, v.Admissions})
			}
			for i := range pts {
				for j := i + 1; j < len(pts); j++ {
					limit := math.Floor(b + rate*float64(pts[j].ms-pts[i].ms)/1000 + 1e-9)
					if d := pts[j].adm - pts[i].adm; float64(d) > limit {
						t.Fatalf("%d admissions between +%dms and +%dms, more than burst %g + rate %g * interval = %g",
							d, pts[i].ms, pts[j].ms, b, rate, limit)
					}
				}
			}
			last := pts[len(pts)-1]
			// A bucket of burst tokens may lose a fraction per step to its
			// cap, so the floor is loose: 80% of the rate.
			if min := math.Floor(0.8 * rate * float64(last.ms) / 1000); float64(last.adm) < min {
				t.Errorf("only %d admissions in %dms at rate %g, want at least %g", last.adm, last.ms, rate, min)
			}
		})
	}
}

// testAdmitInvariants runs a pseudo-random mix of steps and checks every
// view against the invariants, the capacity and the rate.
func testAdmitInvariants(t *testing.T, h *harness) {
	const capacity, rate = 4, 50.0
	h.init(room.Controls{Capacity: capacity, Rate: rate}, at(0))
	a := room.AdmitParams{ClaimTimeout: 200 * time.Millisecond}
	rng := rand.New(rand.NewPCG(1, 2))
	type point struct {
		ms  int64
		adm uint64
	}
	pts := []point{{0, 0}}
	ms := int64(0)
	for i := range 2000 {
		ms += rng.Int64N(40)
		now := at(ms)
		var v room.View
		switch op := rng.IntN(100); {
		case op < 40:
			_, _, v = h.join(now, a)
		case op < 70:
			v = h.tick(now, a)
		case op < 85:
			sv := h.view().Serving
			if sv > 0 {
				pos := 1 + rng.Uint64N(sv)
				exp, ok := h.claim(pos, now, 300*time.Millisecond)
				if ok && !exp.After(now) {
					t.Errorf("step %d: Claim(%d) at %v ok with expiry %v not after now", i, pos, now, exp)
				}
			}
			v = h.view()
		default:
			sv := h.view().Serving
			if sv > 0 {
				h.leave(1+rng.Uint64N(sv), now, a)
			}
			v = h.view()
		}
		if v.Active > capacity {
			t.Fatalf("step %d: Active %d > Capacity %d", i, v.Active, capacity)
		}
		if err := invariants(v); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		pts = append(pts, point{ms, v.Admissions})
	}
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			limit := math.Floor(burst(rate) + rate*float64(pts[j].ms-pts[i].ms)/1000 + 1e-9)
			if d := pts[j].adm - pts[i].adm; float64(d) > limit {
				t.Fatalf("%d admissions between +%dms and +%dms, more than %g", d, pts[i].ms, pts[j].ms, limit)
			}
		}
	}
	if last := pts[len(pts)-1]; last.adm < 20 {
		t.Errorf("only %d admissions in the whole run", last.adm)
	}
}

func testStoppedResume(t *testing.T, parent *harness) {
	normal := room.Controls{Capacity: 100, Rate: 20} // bucket of 2
	for _, tc := range []struct {
		name    string
		stopped room.Controls
		a       room.AdmitParams // while stopped
	}{
		{"Paused", room.Controls{Paused: true, Capacity: 100, Rate: 20}, open},
		{"Closed", room.Controls{Closed: true, Capacity: 100, Rate: 20}, open},
		{"PausedAndClosed", room.Controls{Paused: true, Closed: true, Capacity: 100, Rate: 20}, open},
		{"ClosesAtReached", normal, room.AdmitParams{ClosesAt: at(0), ClaimTimeout: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := parent.fresh(t)
			h.init(tc.stopped, at(0))
			v := h.joinN(50, at(0), tc.a)
			if v.Serving != 0 || v.Active != 0 {
				t.Errorf("joins while stopped admitted: Serving %d Active %d", v.Serving, v.Active)
			}
			for ms := int64(500); ms <= 10_000; ms += 500 {
				if v := h.tick(at(ms), tc.a); v.Serving != 0 {
					t.Fatalf("Tick at +%dms while stopped: Serving %d, want 0", ms, v.Serving)
				}
			}
			// Resume: the bucket holds at most the burst, not 10s of rate.
			h.set(normal)
			v = h.tick(at(10_000), open)
			if v.Serving != 2 {
				t.Errorf("first Tick after resuming: Serving %d, want the burst 2", v.Serving)
			}
			if v := h.tick(at(10_000), open); v.Serving != 2 {
				t.Errorf("second Tick at the same time: Serving %d, want 2", v.Serving)
			}
			if v := h.tick(at(10_100), open); v.Serving != 4 {
				t.Errorf("Tick 100ms later at rate 20: Serving %d, want 4", v.Serving)
			}
			// A Leave while stopped frees the session but admits no one.
			h.set(tc.stopped)
			if !h.leave(1, at(10_200), tc.a) {
				t.Fatalf("Leave(1) = false")
			}
			if v := h.view(); v.Serving != 4 || v.Active != 3 {
				t.Errorf("after Leave while stopped: Serving %d Active %d, want 4 and 3", v.Serving, v.Active)
			}
		})
	}
}

func testClosesAtBoundary(t *testing.T, h *harness) {
	a := room.AdmitParams{ClosesAt: at(1000), ClaimTimeout: time.Hour}
	h.init(room.Controls{Capacity: 1000, Rate: 1000}, at(0)) // bucket of 100
	if v := h.joinN(300, at(0), a); v.Serving != 100 {
		t.Fatalf("300 joins: Serving %d, want 100", v.Serving)
	}
	if v := h.tick(at(999), a); v.Serving != 200 {
		t.Errorf("Tick 1ms before ClosesAt: Serving %d, want 200", v.Serving)
	}
	for _, ms := range []int64{1000, 1500, 5000} {
		if v := h.tick(at(ms), a); v.Serving != 200 {
			t.Errorf("Tick at +%dms, ClosesAt +1000ms: Serving %d, want 200", ms, v.Serving)
		}
	}
	if _, _, v := h.join(at(5000), a); v.Serving != 200 {
		t.Errorf("Join after ClosesAt: Serving %d, want 200", v.Serving)
	}
}

func testClockBackwards(t *testing.T, parent *harness) {
	for _, tc := range []struct {
		name    string
		earlier func(h *harness, now time.Time, a room.AdmitParams) room.View
	}{
		{"Tick", func(h *harness, now time.Time, a room.AdmitParams) room.View { return h.tick(now, a) }},
		{"Join", func(h *harness, now time.Time, a room.AdmitParams) room.View {
			_, _, v := h.join(now, a)
			return v
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := parent.fresh(t)
			h.init(room.Controls{Capacity: 100, Rate: 10}, at(0)) // bucket of 1, one token per 100ms
			if v := h.joinN(20, at(0), open); v.Serving != 1 {
				t.Fatalf("20 joins: Serving %d, want 1", v.Serving)
			}
			if v := h.tick(at(1000), open); v.Serving != 2 {
				t.Fatalf("Tick at +1s: Serving %d, want 2", v.Serving)
			}
			if v := tc.earlier(h, at(500), open); v.Serving != 2 {
				t.Errorf("%s at +500ms after +1s: Serving %d, want 2 (no tokens for a backwards step)", tc.name, v.Serving)
			}
			if v := h.tick(at(1000), open); v.Serving != 2 {
				t.Errorf("Tick at +1s again: Serving %d, want 2 (the interval was already paid)", v.Serving)
			}
			if v := h.tick(at(1050), open); v.Serving != 2 {
				t.Errorf("Tick at +1050ms: Serving %d, want 2 (half a token since +1s)", v.Serving)
			}
			if v := h.tick(at(1200), open); v.Serving != 3 {
				t.Errorf("Tick at +1200ms: Serving %d, want 3", v.Serving)
			}
		})
	}
}
