package sharedtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testPrequeueSeqs(t *testing.T, h *harness) {
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

func testPrequeueTickBeforeOpen(t *testing.T, h *harness) {
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

func testPrequeueFreeze(t *testing.T, parent *harness) {
	const opens = 60_000
	for _, tc := range []struct {
		name   string
		freeze func(h *harness, a room.AdmitParams) room.View
		post   uint64 // open-phase joins made by freeze
		admits bool
	}{
		{"Freeze", func(h *harness, a room.AdmitParams) room.View {
			h.t.Helper()
			v, err := h.s.Freeze(h.ctx, h.room, at(opens-1), a)
			if h.must("Freeze before OpensAt", v, err); v.Frozen {
				h.t.Errorf("Freeze 1ms before OpensAt froze: %+v", v)
			}
			v, err = h.s.Freeze(h.ctx, h.room, at(opens), a)
			return h.must("Freeze", v, err)
		}, 0, false},
		{"Tick", func(h *harness, a room.AdmitParams) room.View { return h.tick(at(opens), a) }, 0, true},
		{"Join", func(h *harness, a room.AdmitParams) room.View {
			h.t.Helper()
			ph, seq, v := h.join(at(opens), a)
			if ph != room.PhaseOpen || seq != 0 {
				h.t.Errorf("join at OpensAt: phase %d seq %d, want open (%d) seq 0", ph, seq, room.PhaseOpen)
			}
			return v
		}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := parent.fresh(t)
			a := room.AdmitParams{OpensAt: at(opens), ClaimTimeout: time.Minute, LotteryKey: "k1"}
			h.init(room.Controls{Capacity: 10, Rate: 1000}, at(0))
			h.joinN(3, at(1000), a)
			v := tc.freeze(h, a)
			if !v.Frozen || v.N != 3 || v.PreSeq != 3 || v.LotteryKey != "k1" {
				t.Errorf("at OpensAt: %+v, want frozen with N 3 = PreSeq, LotteryKey k1", v)
			}
			want := uint64(0)
			if tc.admits {
				want = 3 + tc.post
			}
			if v.Serving != want || v.PostSeq != tc.post {
				t.Errorf("at OpensAt: Serving %d PostSeq %d, want %d and %d (capacity and tokens free; Freeze admits nobody)",
					v.Serving, v.PostSeq, want, tc.post)
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

func testOpenSeqs(t *testing.T, parent *harness) {
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
			h := parent.fresh(t)
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
