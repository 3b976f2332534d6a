package sharedtest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func testConcurrency(t *testing.T, h *harness) {
	const workers, perWorker, capacity = 8, 100, 3
	a := room.AdmitParams{ClaimTimeout: 3 * time.Millisecond, LotteryKey: "k"}
	h.init(room.Controls{Capacity: capacity, Rate: 1000}, at(0))
	h.reserve(room.PhaseOpen, workers*perWorker, at(0))
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
