// Package sharedtest is the contract suite every room.Shared implementation
// must pass. It uses only the room.Shared interface; room.MemShared is the
// reference that defines the semantics.
//
// Every time the suite passes is a whole number of milliseconds after one
// base time, so implementations may store Unix milliseconds.
package sharedtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// base is the suite's time zero.
var base = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// at is base plus ms milliseconds.
func at(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

// Run runs the contract suite. newShared is called once per subtest and must
// return a Shared with no state left from other subtests (the suite uses a
// distinct room name in each subtest anyway).
func Run(t *testing.T, newShared func(t *testing.T) room.Shared) {
	n := func(f func(*testing.T, func(*testing.T) room.Shared)) func(*testing.T) {
		return func(t *testing.T) { f(t, newShared) }
	}
	t.Run("Init", func(t *testing.T) {
		t.Run("CreatesWithControls", n(testInitCreates))
		t.Run("TokensFull", n(testInitTokensFull))
		t.Run("FirstNodeWins", n(testInitFirstWins))
		t.Run("NothingBeforeInit", n(testNothingBeforeInit))
	})
	t.Run("Prequeue", func(t *testing.T) {
		t.Run("Seqs", n(testPrequeueSeqs))
		t.Run("TickBeforeOpensAtKeepsUnfrozen", n(testPrequeueTickBeforeOpen))
		t.Run("FreezeAtOpensAt", n(testPrequeueFreeze))
	})
	t.Run("Open", func(t *testing.T) {
		t.Run("Seqs", n(testOpenSeqs))
	})
	t.Run("Admission", func(t *testing.T) {
		t.Run("ImmediateOnEmptyLine", n(testAdmitImmediate))
		t.Run("CapacityBound", n(testAdmitCapacity))
		t.Run("RateBound", n(testAdmitRate))
		t.Run("Invariants", n(testAdmitInvariants))
	})
	t.Run("Stopped", func(t *testing.T) {
		t.Run("NoAdmissionThenResume", n(testStoppedResume))
		t.Run("ClosesAtBoundary", n(testClosesAtBoundary))
	})
	t.Run("Clock", func(t *testing.T) {
		t.Run("EarlierStepAddsNoTokens", n(testClockBackwards))
	})
	t.Run("Claim", func(t *testing.T) {
		t.Run("NotAdmitted", n(testClaimNotAdmitted))
		t.Run("AdmittedOnce", n(testClaimAdmitted))
		t.Run("ClaimTimeout", n(testClaimTimeout))
		t.Run("AfterPassExpiry", n(testClaimAfterPass))
	})
	t.Run("Active", n(testActive))
	t.Run("TickSweeps", n(testTickSweeps))
	t.Run("Leave", n(testLeave))
	t.Run("SetControls", func(t *testing.T) {
		t.Run("ChangesView", n(testSetControlsView))
		t.Run("LowerCapacity", n(testSetControlsLowerCapacity))
		t.Run("RaiseCapacity", n(testSetControlsRaiseCapacity))
	})
	t.Run("JoinsCounter", n(testJoinsCounter))
	t.Run("ViewMatchesLastStep", n(testViewMatches))
	t.Run("RoomsIndependent", n(testRoomsIndependent))
	t.Run("Concurrency", n(testConcurrency))
}

// harness is one room on one Shared; its methods fail the test on errors.
type harness struct {
	t    *testing.T
	s    room.Shared
	room string
	ctx  context.Context
}

var roomSeq atomic.Uint64

func roomName(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "_", "=", "-").Replace(t.Name())
	return fmt.Sprintf("sharedtest-%d-%s", roomSeq.Add(1), name)
}

func newHarness(t *testing.T, newShared func(*testing.T) room.Shared) *harness {
	t.Helper()
	s := newShared(t)
	if s == nil {
		t.Fatal("newShared returned nil")
	}
	return &harness{t: t, s: s, room: roomName(t), ctx: context.Background()}
}

// other is another room on the same Shared.
func (h *harness) other() *harness {
	return &harness{t: h.t, s: h.s, room: roomName(h.t), ctx: h.ctx}
}

func (h *harness) init(c room.Controls, now time.Time) room.View {
	h.t.Helper()
	v, err := h.s.Init(h.ctx, h.room, c, now)
	if err != nil {
		h.t.Fatalf("Init: %v", err)
	}
	h.check(v, "Init")
	return v
}

func (h *harness) view() room.View {
	h.t.Helper()
	v, err := h.s.View(h.ctx, h.room)
	if err != nil {
		h.t.Fatalf("View: %v", err)
	}
	h.check(v, "View")
	return v
}

func (h *harness) join(now time.Time, a room.AdmitParams) (room.Phase, uint64, room.View) {
	h.t.Helper()
	ph, seq, v, err := h.s.Join(h.ctx, h.room, now, a)
	if err != nil {
		h.t.Fatalf("Join: %v", err)
	}
	h.check(v, "Join")
	return ph, seq, v
}

// joinN joins n times at now and returns the last view.
func (h *harness) joinN(n int, now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	var v room.View
	for range n {
		_, _, v = h.join(now, a)
	}
	return v
}

func (h *harness) tick(now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	v, err := h.s.Tick(h.ctx, h.room, now, a)
	if err != nil {
		h.t.Fatalf("Tick: %v", err)
	}
	h.check(v, "Tick")
	return v
}

func (h *harness) claim(pos uint64, now time.Time, passTTL time.Duration) (time.Time, bool) {
	h.t.Helper()
	exp, ok, err := h.s.Claim(h.ctx, h.room, pos, now, passTTL)
	if err != nil {
		h.t.Fatalf("Claim(%d): %v", pos, err)
	}
	return exp, ok
}

func (h *harness) active(pos uint64, now time.Time) bool {
	h.t.Helper()
	ok, err := h.s.Active(h.ctx, h.room, pos, now)
	if err != nil {
		h.t.Fatalf("Active(%d): %v", pos, err)
	}
	return ok
}

func (h *harness) leave(pos uint64, now time.Time, a room.AdmitParams) bool {
	h.t.Helper()
	ok, err := h.s.Leave(h.ctx, h.room, pos, now, a)
	if err != nil {
		h.t.Fatalf("Leave(%d): %v", pos, err)
	}
	return ok
}

func (h *harness) set(c room.Controls) {
	h.t.Helper()
	if err := h.s.SetControls(h.ctx, h.room, c); err != nil {
		h.t.Fatalf("SetControls: %v", err)
	}
}

// check reports a view that breaks an invariant every view must keep.
func (h *harness) check(v room.View, what string) {
	h.t.Helper()
	if err := invariants(v); err != nil {
		h.t.Errorf("%s: %v", what, err)
	}
}

func invariants(v room.View) error {
	var errs []string
	if v.Serving > v.N+v.PostSeq {
		errs = append(errs, fmt.Sprintf("Serving %d > N %d + PostSeq %d", v.Serving, v.N, v.PostSeq))
	}
	if v.Admissions != v.Serving {
		errs = append(errs, fmt.Sprintf("Admissions %d != Serving %d", v.Admissions, v.Serving))
	}
	if v.Joins != v.PreSeq+v.PostSeq {
		errs = append(errs, fmt.Sprintf("Joins %d != PreSeq %d + PostSeq %d", v.Joins, v.PreSeq, v.PostSeq))
	}
	if v.Active < 0 || uint64(v.Active) > v.Serving {
		errs = append(errs, fmt.Sprintf("Active %d outside [0, Serving %d]", v.Active, v.Serving))
	}
	if v.Active >= 0 && v.Expired+v.Leaves+uint64(v.Active) != v.Admissions {
		errs = append(errs, fmt.Sprintf("Expired %d + Leaves %d + Active %d != Admissions %d",
			v.Expired, v.Leaves, v.Active, v.Admissions))
	}
	if !v.Frozen && (v.N != 0 || v.PostSeq != 0 || v.Serving != 0) {
		errs = append(errs, fmt.Sprintf("not frozen but N %d, PostSeq %d, Serving %d", v.N, v.PostSeq, v.Serving))
	}
	if v.Frozen && v.N != v.PreSeq {
		errs = append(errs, fmt.Sprintf("frozen with N %d != PreSeq %d", v.N, v.PreSeq))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("view %+v: %s", v, strings.Join(errs, "; "))
}

// burst is the token bucket's size for rate.
func burst(rate float64) float64 { return max(1, rate/10) }

var open = room.AdmitParams{ClaimTimeout: time.Hour, LotteryKey: "key-open"}

// ---- Init ----

func testInitCreates(t *testing.T, newShared func(*testing.T) room.Shared) {
	for _, c := range []room.Controls{
		{Capacity: 10, Rate: 5},
		{Capacity: 250, Rate: 0.5},
		{Paused: true, Capacity: 1, Rate: 100},
		{Closed: true, Capacity: 3, Rate: 2},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			h := newHarness(t, newShared)
			v := h.init(c, at(0))
			want := room.View{Controls: c}
			if v != want {
				t.Errorf("Init view = %+v, want %+v", v, want)
			}
			if got := h.view(); got != want {
				t.Errorf("View after Init = %+v, want %+v", got, want)
			}
		})
	}
}

func testInitTokensFull(t *testing.T, newShared func(*testing.T) room.Shared) {
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
			h := newHarness(t, newShared)
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

func testInitFirstWins(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	first := room.Controls{Capacity: 10, Rate: 30} // bucket of 3
	h.init(first, at(0))
	v := h.joinN(5, at(0), open)
	if v.Serving != 3 || v.PostSeq != 5 {
		t.Fatalf("after 5 joins: Serving %d PostSeq %d, want 3 and 5", v.Serving, v.PostSeq)
	}
	second := room.Controls{Capacity: 100, Rate: 1000, Paused: true}
	v2 := h.init(second, at(0))
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
func testNothingBeforeInit(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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
	if _, _, err := h.s.Claim(h.ctx, h.room, 1, at(0), time.Minute); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Claim before Init: %v, want ErrNoSharedState", err)
	}
	if _, err := h.s.Leave(h.ctx, h.room, 1, at(0), a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Leave before Init: %v, want ErrNoSharedState", err)
	}
	if err := h.s.SetControls(h.ctx, h.room, room.Controls{Capacity: 1, Rate: 1}); !errors.Is(err, room.ErrNoSharedState) {
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

// ---- Pre-queue ----

func testPrequeueSeqs(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	a := room.AdmitParams{OpensAt: at(3_600_000), ClaimTimeout: time.Minute, LotteryKey: "k1"}
	h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
	for i := range uint64(5) {
		ph, seq, v := h.join(at(int64(1000*i)), a)
		if ph != room.PhasePrequeue || seq != i {
			t.Errorf("join %d: phase %d seq %d, want pre-queue (%d) seq %d", i, ph, seq, room.PhasePrequeue, i)
		}
		if v.PreSeq != i+1 || v.Frozen || v.N != 0 || v.PostSeq != 0 || v.Serving != 0 || v.LotteryKey != "" {
			t.Errorf("join %d: view %+v, want PreSeq %d, not frozen, nothing else", i, v, i+1)
		}
	}
	// One millisecond before opening is still the pre-queue.
	ph, seq, v := h.join(at(3_599_999), a)
	if ph != room.PhasePrequeue || seq != 5 || v.Frozen {
		t.Errorf("join 1ms before OpensAt: phase %d seq %d frozen %v, want pre-queue seq 5 not frozen", ph, seq, v.Frozen)
	}
}

func testPrequeueTickBeforeOpen(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	a := room.AdmitParams{OpensAt: at(60_000), ClaimTimeout: time.Minute, LotteryKey: "k1"}
	h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
	h.joinN(3, at(0), a)
	for _, ms := range []int64{0, 1000, 30_000, 59_999} {
		v := h.tick(at(ms), a)
		if v.Frozen || v.N != 0 || v.Serving != 0 || v.LotteryKey != "" || v.PreSeq != 3 {
			t.Errorf("Tick at +%dms before OpensAt: %+v, want unfrozen pre-queue of 3, nobody admitted", ms, v)
		}
	}
}

func testPrequeueFreeze(t *testing.T, newShared func(*testing.T) room.Shared) {
	const opens = 60_000
	for _, tc := range []struct {
		name   string
		freeze func(h *harness, a room.AdmitParams) room.View
		post   uint64 // open-phase joins made by freeze
	}{
		{"Tick", func(h *harness, a room.AdmitParams) room.View { return h.tick(at(opens), a) }, 0},
		{"Join", func(h *harness, a room.AdmitParams) room.View {
			h.t.Helper()
			ph, seq, v := h.join(at(opens), a)
			if ph != room.PhaseOpen || seq != 0 {
				h.t.Errorf("join at OpensAt: phase %d seq %d, want open (%d) seq 0", ph, seq, room.PhaseOpen)
			}
			return v
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newShared)
			a := room.AdmitParams{OpensAt: at(opens), ClaimTimeout: time.Minute, LotteryKey: "k1"}
			h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
			h.joinN(3, at(1000), a)
			v := tc.freeze(h, a)
			if !v.Frozen || v.N != 3 || v.PreSeq != 3 || v.LotteryKey != "k1" {
				t.Errorf("at OpensAt: %+v, want frozen with N 3 = PreSeq, LotteryKey k1", v)
			}
			if v.Serving != 3+tc.post || v.PostSeq != tc.post {
				t.Errorf("at OpensAt: Serving %d PostSeq %d, want %d and %d (capacity and tokens free)",
					v.Serving, v.PostSeq, 3+tc.post, tc.post)
			}
			// Later freezes with another key change nothing.
			b := a
			b.LotteryKey = "k2"
			if v := h.tick(at(opens+1000), b); v.LotteryKey != "k1" || v.N != 3 {
				t.Errorf("Tick with another key: LotteryKey %q N %d, want k1 and 3", v.LotteryKey, v.N)
			}
			ph, seq, v := h.join(at(opens+2000), b)
			if ph != room.PhaseOpen || seq != tc.post || v.LotteryKey != "k1" || v.N != 3 {
				t.Errorf("join after freeze: phase %d seq %d LotteryKey %q N %d, want open seq %d, k1, 3",
					ph, seq, v.LotteryKey, v.N, tc.post)
			}
			// Once frozen, a node whose clock is behind OpensAt still joins
			// the open phase.
			ph, seq, v = h.join(at(opens-5000), b)
			if ph != room.PhaseOpen || seq != tc.post+1 || v.PreSeq != 3 || v.N != 3 {
				t.Errorf("join with a clock behind OpensAt after freeze: phase %d seq %d PreSeq %d N %d, want open seq %d, 3, 3",
					ph, seq, v.PreSeq, v.N, tc.post+1)
			}
		})
	}
}

// ---- Open phase ----

func testOpenSeqs(t *testing.T, newShared func(*testing.T) room.Shared) {
	for _, tc := range []struct {
		name    string
		opensAt int64 // ms; -1 for the zero time
		pre     uint64
		joinAt  int64
	}{
		{"zero OpensAt", -1, 0, 0},
		{"at OpensAt", 10_000, 2, 10_000},
		{"after OpensAt", 10_000, 3, 25_000},
		{"after OpensAt with empty pre-queue", 10_000, 0, 10_001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newShared)
			a := room.AdmitParams{ClaimTimeout: time.Hour, LotteryKey: "k-open"}
			if tc.opensAt >= 0 {
				a.OpensAt = at(tc.opensAt)
			}
			h.init(room.Controls{Capacity: 100, Rate: 1000}, at(0))
			for i := range tc.pre {
				if ph, seq, _ := h.join(at(0), a); ph != room.PhasePrequeue || seq != i {
					t.Fatalf("pre-queue join %d: phase %d seq %d", i, ph, seq)
				}
			}
			for i := range uint64(4) {
				b := a
				if i > 0 {
					b.LotteryKey = fmt.Sprintf("k-later-%d", i)
				}
				ph, seq, v := h.join(at(tc.joinAt+int64(i)), b)
				if ph != room.PhaseOpen || seq != i {
					t.Errorf("open join %d: phase %d seq %d, want open (%d) seq %d", i, ph, seq, room.PhaseOpen, i)
				}
				if !v.Frozen || v.N != tc.pre || v.PreSeq != tc.pre || v.PostSeq != i+1 || v.LotteryKey != "k-open" {
					t.Errorf("open join %d: %+v, want frozen, N = PreSeq = %d, PostSeq %d, LotteryKey k-open",
						i, v, tc.pre, i+1)
				}
				// Everyone so far fits capacity and the bucket.
				if v.Serving != tc.pre+i+1 {
					t.Errorf("open join %d: Serving %d, want %d", i, v.Serving, tc.pre+i+1)
				}
			}
		})
	}
}

// ---- Admission ----

func testAdmitImmediate(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testAdmitCapacity(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testAdmitRate(t *testing.T, newShared func(*testing.T) room.Shared) {
	const stepMS, endMS = 70, 5000
	for _, rate := range []float64{2, 20, 100} {
		t.Run(fmt.Sprintf("rate-%g", rate), func(t *testing.T) {
			h := newHarness(t, newShared)
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
func testAdmitInvariants(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

// ---- Paused, closed, closing time ----

func testStoppedResume(t *testing.T, newShared func(*testing.T) room.Shared) {
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
			h := newHarness(t, newShared)
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

func testClosesAtBoundary(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

// ---- Clock ----

func testClockBackwards(t *testing.T, newShared func(*testing.T) room.Shared) {
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
			h := newHarness(t, newShared)
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

// ---- Claim and Active ----

func testClaimNotAdmitted(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testClaimAdmitted(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testClaimTimeout(t *testing.T, newShared func(*testing.T) room.Shared) {
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
			h := newHarness(t, newShared)
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

func testClaimAfterPass(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testActive(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

// ---- Tick, Leave ----

func testTickSweeps(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testLeave(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

// ---- SetControls ----

func testSetControlsView(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	h.init(room.Controls{Capacity: 10, Rate: 5}, at(0))
	for _, c := range []room.Controls{
		{Capacity: 20, Rate: 5},
		{Capacity: 20, Rate: 7.25},
		{Paused: true, Capacity: 20, Rate: 7.25},
		{Paused: true, Closed: true, Capacity: 20, Rate: 7.25},
		{Closed: true, Capacity: 0, Rate: 0.5},
		{Capacity: 3, Rate: 1000},
	} {
		h.set(c)
		if v := h.view(); v.Controls != c {
			t.Errorf("after SetControls(%+v): View controls %+v", c, v.Controls)
		}
		if v := h.tick(at(1000), open); v.Controls != c {
			t.Errorf("after SetControls(%+v): Tick controls %+v", c, v.Controls)
		}
	}
}

func testSetControlsLowerCapacity(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testSetControlsRaiseCapacity(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	h.init(room.Controls{Capacity: 1, Rate: 1000}, at(0))
	h.joinN(10, at(0), open)
	h.set(room.Controls{Capacity: 4, Rate: 1000})
	if v := h.tick(at(1000), open); v.Serving != 4 || v.Active != 4 {
		t.Errorf("Tick after raising capacity to 4: Serving %d Active %d, want 4 and 4", v.Serving, v.Active)
	}
}

// ---- Counters, View ----

func testJoinsCounter(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testViewMatches(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
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

func testRoomsIndependent(t *testing.T, newShared func(*testing.T) room.Shared) {
	x := newHarness(t, newShared)
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

// ---- Concurrency ----

func testConcurrency(t *testing.T, newShared func(*testing.T) room.Shared) {
	h := newHarness(t, newShared)
	const workers, perWorker, capacity = 8, 100, 3
	a := room.AdmitParams{ClaimTimeout: 3 * time.Millisecond, LotteryKey: "k"}
	h.init(room.Controls{Capacity: capacity, Rate: 1000}, at(0))
	seqs := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			bad := func(what string, v room.View) bool {
				if v.Active > capacity {
					t.Errorf("worker %d: %s: Active %d > %d", w, what, v.Active, capacity)
					return true
				}
				if err := invariants(v); err != nil {
					t.Errorf("worker %d: %s: %v", w, what, err)
					return true
				}
				return false
			}
			for i := range perWorker {
				now := at(int64(i*workers + w))
				ph, seq, v, err := h.s.Join(ctx, h.room, now, a)
				if err != nil {
					t.Errorf("worker %d: Join: %v", w, err)
					return
				}
				if ph != room.PhaseOpen {
					t.Errorf("worker %d: Join phase %d, want open", w, ph)
				}
				seqs[w] = append(seqs[w], seq)
				if bad("Join", v) {
					return
				}
				if i%2 == w%2 {
					v, err := h.s.Tick(ctx, h.room, now, a)
					if err != nil {
						t.Errorf("worker %d: Tick: %v", w, err)
						return
					}
					if bad("Tick", v) {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	all := slices.Concat(seqs...)
	slices.Sort(all)
	if len(all) != workers*perWorker {
		t.Fatalf("%d seqs, want %d", len(all), workers*perWorker)
	}
	for i, s := range all {
		if s != uint64(i) {
			t.Fatalf("sorted seqs[%d] = %d: seqs are not exactly 0..%d", i, s, workers*perWorker-1)
		}
	}
	v := h.view()
	if v.PostSeq != workers*perWorker || v.Joins != workers*perWorker {
		t.Errorf("end: PostSeq %d Joins %d, want %d", v.PostSeq, v.Joins, workers*perWorker)
	}
	// Everyone is admitted in the end, each place once.
	ms := int64(workers * perWorker)
	for v.Serving < workers*perWorker && ms < 100_000 {
		ms += 5
		v = h.tick(at(ms), a)
		if v.Active > capacity {
			t.Fatalf("Tick at +%dms: Active %d > %d", ms, v.Active, capacity)
		}
	}
	if v.Serving != workers*perWorker {
		t.Errorf("Serving %d after ticking to +%dms, want %d", v.Serving, ms, workers*perWorker)
	}
}
