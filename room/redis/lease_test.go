package redis_test

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// TestDifferentialLeases drives MemShared and the Store with nodes that
// hand out their leased blocks as room.Room does (in order, none once the
// block is passed, a final report after that), report on their ticks
// (sometimes late, sometimes not at all for a while: a dead node), and
// people who claim places around the head of the line, and requires the
// same answer from both after every step: admission waits at a live
// node's numbers, cuts a block on the report after it reached it or after
// room.LeaseGrace, and drops the passed-over places of numbers a final
// report says were never handed out, alike in Lua and Go.
func TestDifferentialLeases(t *testing.T) {
	st := newStore(t)
	mem := room.NewMemShared()
	rng := mrand.New(mrand.NewPCG(15, 2026))
	const name = "leases"
	a := room.AdmitParams{ClaimTimeout: 700 * time.Millisecond, LotteryKey: "k"}
	now := t0
	check := func(step int, what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d %s:\nredis: %+v\nmem:   %+v", step, what, got, want)
		}
	}
	for _, sh := range []room.Shared{mem, st} {
		if _, err := sh.Init(ctx, name, room.Controls{Capacity: 50, Rate: 400}, "e1", now); err != nil {
			t.Fatal(err)
		}
	}
	type node struct {
		b     room.SeqRange
		used  uint64 // the next number to hand out
		valid bool
		quiet int // steps it makes no calls (dead for a while)
	}
	nodes := make([]node, 3)
	var view room.View
	// report is node i's report on its block, final once passed.
	report := func(n *node, id uint64) *room.LeaseReport {
		if !n.valid {
			return nil
		}
		passed := view.N+n.used+1 <= view.Serving
		return &room.LeaseReport{Node: id, Phase: n.b.Phase, From: n.b.From, Used: n.used, Final: passed}
	}
	ops := map[string]int{}
	for step := 1; step <= 4000; step++ {
		now = now.Add(time.Duration(rng.IntN(30)) * time.Millisecond)
		i := rng.IntN(len(nodes))
		n := &nodes[i]
		id := uint64(i + 1)
		if n.quiet > 0 {
			n.quiet--
			continue
		}
		var op string
		switch k := rng.IntN(100); {
		case k < 40:
			op = "hand out"
			if n.valid && n.used < n.b.To && view.N+n.used+1 > view.Serving {
				n.used++
				break
			}
			op = "lease"
			pa := a
			pa.Report = report(n, id)
			size := uint64(1 + rng.IntN(6))
			rm, vm, errm := mem.Lease(ctx, name, id, size, now, pa)
			rr, vr, err := st.Lease(ctx, name, id, size, now, pa)
			if err != nil || errm != nil {
				t.Fatal(errors.Join(err, errm))
			}
			check(step, fmt.Sprintf("Lease(%d, %d, %+v)", id, size, pa.Report), []any{rr, vr}, []any{rm, vm})
			n.b, n.used, n.valid, view = rr, rr.From+1, true, vr
		case k < 75:
			op = "tick"
			pa := a
			pa.Report = report(n, id)
			if pa.Report != nil && rng.IntN(5) == 0 { // taken a moment before a number was handed out
				pa.Report.Used = max(n.b.From+1, pa.Report.Used-1)
				pa.Report.Final = false
			}
			vm, errm := mem.Tick(ctx, name, now, pa)
			vr, err := st.Tick(ctx, name, now, pa)
			if err != nil || errm != nil {
				t.Fatal(errors.Join(err, errm))
			}
			check(step, fmt.Sprintf("Tick(%+v)", pa.Report), vr, vm)
			view = vr
			if vr.Skipped > 0 {
				ops["skipped"]++
			}
		case k < 97:
			op = "claim"
			pos := view.Serving - min(view.Serving, uint64(rng.IntN(12)))
			_, okm, vm, errm := mem.Claim(ctx, name, pos, now, time.Second, a)
			_, okr, vr, err := st.Claim(ctx, name, pos, now, time.Second, a)
			for _, e := range []error{err, errm} {
				if e != nil && !errors.Is(e, room.ErrClaimWait) {
					t.Fatalf("step %d Claim(%d): redis %v, mem %v", step, pos, err, errm)
				}
			}
			check(step, fmt.Sprintf("Claim(%d)", pos), []any{okr, vr, errors.Is(err, room.ErrClaimWait)}, []any{okm, vm, errors.Is(errm, room.ErrClaimWait)})
			view = vr
			if okr {
				ops["claim ok"]++
			}
		default:
			op = "dies for a while"
			n.quiet = 5 + rng.IntN(40)
		}
		ops[op]++
	}
	if ops["skipped"] == 0 || ops["claim ok"] < 100 || ops["lease"] < 300 {
		t.Errorf("the test exercises too little: %v", ops)
	}
	t.Logf("ops %v, view %+v", ops, view)
}
