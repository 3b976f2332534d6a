package redis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/room/redis"
	"github.com/sluicehq/sluice/room/sharedtest"
)

var (
	ctx = context.Background()
	// t0 is the tests' time zero, a whole number of milliseconds.
	t0 = time.UnixMilli(1_800_000_000_000)
)

// newClient is a client of the test Redis and a key prefix of the test's
// own, emptied when the test ends (internal/redistest); it skips the test
// without a server (fails it when SLUICE_REQUIRE_SERVICES=1).
func newClient(t *testing.T) (c *goredis.Client, url, prefix string) {
	t.Helper()
	url, prefix = redistest.Prefix(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("SLUICE_REDIS_URL: %v", err)
	}
	c = goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c, url, prefix
}

// newStore returns a Store on a key prefix of its own.
func newStore(t *testing.T) *redis.Store {
	t.Helper()
	url, prefix := redistest.Prefix(t)
	st, err := redis.Open(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestContract(t *testing.T) {
	redistest.Prefix(t) // skip without a server
	sharedtest.Run(t, func(t *testing.T) room.Shared { return newStore(t) })
}

func TestNodes(t *testing.T) {
	redistest.Prefix(t) // skip without a server
	sharedtest.RunNodes(t, func(t *testing.T) room.Shared { return newStore(t) },
		func(t *testing.T, sh room.Shared, name string) {
			if err := sh.(*redis.Store).Forget(ctx, name); err != nil {
				t.Fatal(err)
			}
		})
}

// TestScenario walks one room through its life on both MemShared and the
// Store, checking the numbers by hand (the differential test below checks
// the two agree on everything else).
func TestScenario(t *testing.T) {
	impls := map[string]func(t *testing.T) room.Shared{
		"mem":   func(*testing.T) room.Shared { return room.NewMemShared() },
		"redis": func(t *testing.T) room.Shared { return newStore(t) },
	}
	for name, newShared := range impls {
		t.Run(name, func(t *testing.T) {
			sh := newShared(t)
			a := room.AdmitParams{OpensAt: t0.Add(10 * time.Second), ClaimTimeout: 30 * time.Second, LotteryKey: "k1"}
			c := room.Controls{Capacity: 2, Rate: 5}
			v, err := sh.Init(ctx, "r", c, "e1", t0)
			if err != nil {
				t.Fatal(err)
			}
			if want := (room.View{Epoch: "e1", Controls: c, ControlsSet: 1}); v != want {
				t.Fatalf("Init: %+v, want %+v", v, want)
			}
			// A second node's Init adopts what is there.
			if v, err = sh.Init(ctx, "r", room.Controls{Capacity: 9, Rate: 1}, "e1", t0); err != nil || v.Controls != c {
				t.Fatalf("second Init: %+v, %v", v, err)
			}
			if ph, _, _, err := sh.Join(ctx, "r", t0, a); !errors.Is(err, room.ErrUnreserved) || ph != room.PhasePrequeue {
				t.Fatalf("join before a reservation: %v %v", ph, err)
			}
			if v, err = sh.Reserve(ctx, "r", room.PhasePrequeue, 3, t0); err != nil || v.ResvPre != 3 {
				t.Fatalf("Reserve: %+v %v", v, err)
			}
			if v, err = sh.Reserve(ctx, "r", room.PhaseOpen, 1, t0); err != nil || v.ResvPost != 1 {
				t.Fatalf("Reserve: %+v %v", v, err)
			}
			for i := range 3 {
				ph, seq, v, err := sh.Join(ctx, "r", t0.Add(time.Duration(i)*time.Second), a)
				if err != nil || ph != room.PhasePrequeue || seq != uint64(i) || v.PreSeq != uint64(i+1) || v.Frozen {
					t.Fatalf("pre-queue join %d: %v %d %+v %v", i, ph, seq, v, err)
				}
			}
			// Opening freezes the pre-queue and admits as the bucket allows:
			// it starts with max(1, 5/10) = 1 token.
			v, err = sh.Tick(ctx, "r", a.OpensAt, a)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Frozen || v.N != 3 || v.LotteryKey != "k1" || v.Serving != 1 || v.Active != 1 || v.Admissions != 1 {
				t.Fatalf("Tick at opening: %+v", v)
			}
			// 100ms later half a token has come in (5/s); 200ms later the
			// bucket is full again (capped at 1).
			if v, _ = sh.Tick(ctx, "r", a.OpensAt.Add(100*time.Millisecond), a); v.Serving != 1 {
				t.Fatalf("Tick +100ms: %+v", v)
			}
			if v, _ = sh.Tick(ctx, "r", a.OpensAt.Add(200*time.Millisecond), a); v.Serving != 2 || v.Active != 2 {
				t.Fatalf("Tick +200ms: %+v", v)
			}
			// Capacity is full now.
			if v, _ = sh.Tick(ctx, "r", a.OpensAt.Add(time.Second), a); v.Serving != 2 {
				t.Fatalf("Tick +1s: %+v", v)
			}
			now := a.OpensAt.Add(time.Second)
			ph, seq, v, err := sh.Join(ctx, "r", now, a)
			if err != nil || ph != room.PhaseOpen || seq != 0 || v.PostSeq != 1 || v.Joins != 4 {
				t.Fatalf("open join: %v %d %+v %v", ph, seq, v, err)
			}
			exp, ok, _, err := sh.Claim(ctx, "r", 1, now, time.Minute, a)
			if err != nil || !ok || !exp.Equal(now.Add(time.Minute)) {
				t.Fatalf("Claim: %v %v %v", exp, ok, err)
			}
			// Claiming again keeps the first expiry.
			if exp2, ok, _, _ := sh.Claim(ctx, "r", 1, now.Add(time.Second), time.Hour, a); !ok || !exp2.Equal(exp) {
				t.Fatalf("second Claim: %v %v", exp2, ok)
			}
			if ok, _ := sh.Active(ctx, "r", 1, now); !ok {
				t.Fatal("Active(1) false after Claim")
			}
			if ok, _ := sh.Active(ctx, "r", 2, now); ok {
				t.Fatal("Active(2) true before Claim")
			}
			if _, ok, _, _ := sh.Claim(ctx, "r", 3, now, time.Minute, a); ok {
				t.Fatal("Claim(3) ok before admission")
			}
			// Leaving lets the next one in at once.
			if ok, _, err := sh.Leave(ctx, "r", 1, now, a); !ok || err != nil {
				t.Fatalf("Leave: %v %v", ok, err)
			}
			if ok, _, _ := sh.Leave(ctx, "r", 1, now, a); ok {
				t.Fatal("second Leave ok")
			}
			v, _ = sh.View(ctx, "r")
			if v.Serving != 3 || v.Active != 2 || v.Leaves != 1 {
				t.Fatalf("after Leave: %+v", v)
			}
			// Unclaimed places expire after ClaimTimeout.
			later := now.Add(a.ClaimTimeout)
			if v, _ = sh.Tick(ctx, "r", later, a); v.Expired != 2 || v.Serving != 4 {
				t.Fatalf("Tick after timeout: %+v", v)
			}
			if _, err := sh.SetControls(ctx, "r", room.Controls{Paused: true, Capacity: 7, Rate: 0.25}); err != nil {
				t.Fatal(err)
			}
			v, _ = sh.View(ctx, "r")
			if want := (room.Controls{Paused: true, Capacity: 7, Rate: 0.25}); v.Controls != want {
				t.Fatalf("controls: %+v", v.Controls)
			}
		})
	}
}

// TestDifferential drives MemShared and the Store with one random sequence
// of operations and requires the same answer from both after every step.
func TestDifferential(t *testing.T) {
	st := newStore(t)
	mem := room.NewMemShared()
	rng := mrand.New(mrand.NewPCG(20261126, 1))

	t0 := time.UnixMilli(1_790_000_000_000)
	clock := t0
	rooms := []string{"alpha", "beta", "gamma"}
	// Uncertain pre-queue numbers get their places from the lottery, which
	// the node draws (here: a lottery of the key's name).
	draw := func(key string, n uint64) (*room.Lottery, bool) {
		return room.NewLottery([]byte("differential "+key), n), key != "k2"
	}
	params := map[string]room.AdmitParams{
		"alpha": {OpensAt: t0.Add(3 * time.Second), ClaimTimeout: 800 * time.Millisecond, LotteryKey: "k1", Draw: draw},
		"beta":  {ClaimTimeout: 1500 * time.Millisecond, LotteryKey: "k2", Draw: draw},
		"gamma": {OpensAt: t0.Add(time.Second), ClosesAt: t0.Add(40 * time.Second), ClaimTimeout: 300 * time.Millisecond, Draw: draw},
	}
	rates := []float64{0, 0.1, 1.0 / 3, 0.7, 1, 2.5, 7.77, 13.37, 100, 1234.5678, 1e6}
	randControls := func() room.Controls {
		return room.Controls{
			Paused:   rng.IntN(5) == 0,
			Closed:   rng.IntN(12) == 0,
			Capacity: rng.IntN(8) - 1,
			Rate:     rates[rng.IntN(len(rates))],
		}
	}
	check := func(step int, what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d %s:\nredis: %+v\nmem:   %+v", step, what, got, want)
		}
	}
	// both runs a step that returns a view on both and requires the same.
	both := func(step int, what string, op func(sh room.Shared) (room.View, error)) {
		t.Helper()
		vm, _ := op(mem)
		vr, err := op(st)
		if err != nil {
			t.Fatal(err)
		}
		check(step, what, vr, vm)
	}
	for _, r := range rooms {
		c := room.Controls{Capacity: 3, Rate: 2.5}
		both(0, "Init "+r, func(sh room.Shared) (room.View, error) { return sh.Init(ctx, r, c, "e1", t0) })
		for _, ph := range []room.Phase{room.PhasePrequeue, room.PhaseOpen} {
			both(0, "Reserve "+r, func(sh room.Shared) (room.View, error) { return sh.Reserve(ctx, r, ph, 20, t0) })
		}
	}

	claimed := map[string][]uint64{} // recently claimed places, per room
	// blocks are the last blocks of join numbers leased, per room and node.
	blocks := map[string]map[uint64]room.SeqRange{}
	// report is a node's report on its last block, about as far as it got
	// (sometimes beyond, or of a block long cut), sometimes final (the
	// node saw the block passed): admission waits at, cuts, and drops the
	// passed-over places of blocks as both must.
	report := func(r string) *room.LeaseReport {
		node := uint64(1 + rng.IntN(3))
		b, ok := blocks[r][node]
		if !ok || rng.IntN(4) == 0 {
			return nil
		}
		return &room.LeaseReport{Node: node, Phase: b.Phase, From: b.From, Used: b.From + uint64(rng.IntN(int(b.To-b.From)+2)), Final: rng.IntN(3) == 0}
	}
	const steps = 8000
	ops := map[string]int{}
	for step := 1; step <= steps; step++ {
		clock = clock.Add(time.Duration(rng.IntN(50)) * time.Millisecond)
		now := clock
		if rng.IntN(5) == 0 { // another node, whose clock is a little off
			now = now.Add(time.Duration(rng.IntN(400)-300) * time.Millisecond)
		}
		r := rooms[rng.IntN(len(rooms))]
		a := params[r]
		if rng.IntN(20) == 0 { // exactly on a boundary
			if b := []time.Time{a.OpensAt, a.ClosesAt}[rng.IntN(2)]; !b.IsZero() {
				now = b
			}
		}
		view, _ := mem.View(ctx, r)
		pos := uint64(rng.IntN(int(view.Serving) + 3))
		switch rng.IntN(10) {
		case 0:
			pos = 1 << 60
		case 1, 2, 3, 4: // most likely to hold a session
			pos = view.Serving - uint64(rng.IntN(min(8, int(view.Serving)+1)))
		case 5, 6, 7: // claimed before
			if cl := claimed[r]; len(cl) > 0 {
				pos = cl[rng.IntN(len(cl))]
			}
		}
		var op string
		switch n := rng.IntN(100); {
		case n < 2:
			op = "init"
			c := randControls()
			both(step, "Init", func(sh room.Shared) (room.View, error) { return sh.Init(ctx, r, c, "e1", now) })
		case n < 5:
			op = "view"
			both(step, "View", func(sh room.Shared) (room.View, error) { return sh.View(ctx, r) })
		case n < 8:
			op = "reserve"
			ph, k := room.Phase(rng.IntN(2)), uint64(rng.IntN(25))
			both(step, fmt.Sprintf("Reserve(%d, %d)", ph, k), func(sh room.Shared) (room.View, error) { return sh.Reserve(ctx, r, ph, k, now) })
		case n < 10:
			op = "freeze"
			both(step, "Freeze", func(sh room.Shared) (room.View, error) { return sh.Freeze(ctx, r, now, a) })
		case n < 22:
			op = "lease"
			node, k := uint64(1+rng.IntN(3)), uint64(rng.IntN(40))
			a.Report = report(r)
			rm, vm, errm := mem.Lease(ctx, r, node, k, now, a)
			rr, vr, err := st.Lease(ctx, r, node, k, now, a)
			if err != nil && !errors.Is(err, room.ErrRestoring) {
				t.Fatal(err)
			}
			check(step, fmt.Sprintf("Lease(%d, %d, %+v)", node, k, a.Report), []any{rr, vr, errors.Is(err, room.ErrRestoring)}, []any{rm, vm, errors.Is(errm, room.ErrRestoring)})
			if err == nil {
				if blocks[r] == nil {
					blocks[r] = map[uint64]room.SeqRange{}
				}
				blocks[r][node] = rr
			}
		case n < 35:
			op = "join"
			pm, sm, vm, errm := mem.Join(ctx, r, now, a)
			pr, sr, vr, err := st.Join(ctx, r, now, a)
			if err != nil && !errors.Is(err, room.ErrUnreserved) && !errors.Is(err, room.ErrRestoring) {
				t.Fatal(err)
			}
			check(step, "Join", []any{pr, sr, vr, errors.Is(err, room.ErrUnreserved), errors.Is(err, room.ErrRestoring)},
				[]any{pm, sm, vm, errors.Is(errm, room.ErrUnreserved), errors.Is(errm, room.ErrRestoring)})
			if errors.Is(err, room.ErrUnreserved) {
				ops["join unreserved"]++
			}
			if errors.Is(err, room.ErrRestoring) {
				ops["join held"]++
			}
		case n < 60:
			op = "tick"
			a.Report = report(r)
			both(step, "Tick", func(sh room.Shared) (room.View, error) { return sh.Tick(ctx, r, now, a) })
		case n < 72:
			op = "claim"
			ttl := time.Duration(rng.IntN(10000)) * time.Millisecond
			if rng.IntN(3) == 0 { // a node vouching for a late claim, until a little before or after now
				a.LateUntil = now.Add(time.Duration(rng.IntN(4000)-1000) * time.Millisecond)
				op = "claim late"
			}
			em, okm, vm, errm := mem.Claim(ctx, r, pos, now, ttl, a)
			er, okr, vr, err := st.Claim(ctx, r, pos, now, ttl, a)
			if err != nil && !errors.Is(err, room.ErrClaimWait) {
				t.Fatal(err)
			}
			check(step, "Claim", []any{vr, errors.Is(err, room.ErrClaimWait)}, []any{vm, errors.Is(errm, room.ErrClaimWait)})
			if err != nil {
				ops["claim wait"]++
			}
			if op == "claim late" && (okm || errm != nil) {
				ops["claim late taken"]++ // or a claimant asking again
			}
			if okr != okm || !er.Equal(em) || er.IsZero() != em.IsZero() {
				t.Fatalf("step %d Claim(%d): redis %v %v, mem %v %v", step, pos, er, okr, em, okm)
			}
			if okm {
				ops["claim ok"]++
				claimed[r] = append(claimed[r], pos)
				if len(claimed[r]) > 10 {
					claimed[r] = claimed[r][1:]
				}
			}
		case n < 74:
			op = "uncertain" // numbers handed out or about to be, as a node that stopped leaves them
			ph := room.Phase(rng.IntN(2))
			from := view.PostSeq
			from = max(0, from+uint64(rng.IntN(12))-min(from, 6))
			if ph == room.PhasePrequeue {
				from = uint64(rng.IntN(int(view.PreSeq) + 6))
			}
			ur := room.SeqRange{Phase: ph, From: from, To: from + uint64(rng.IntN(10))}
			both(step, fmt.Sprintf("Uncertain(%+v)", ur), func(sh room.Shared) (room.View, error) { return sh.Uncertain(ctx, r, ur, now, a) })
		case n < 75:
			op = "restore" // what a node saw, after the line was lost or went back
			seen := view
			switch rng.IntN(4) {
			case 1: // a node that saw more than the line has
				k := uint64(rng.IntN(5))
				seen.PostSeq += k
				seen.Joins += k
				seen.ResvPost = max(seen.ResvPost, seen.PostSeq) + uint64(rng.IntN(2)*20)
				seen.Serving = min(seen.Serving+uint64(rng.IntN(4)), seen.N+seen.PostSeq)
				seen.Admissions += uint64(rng.IntN(4))
				seen.ControlsSet += uint64(rng.IntN(2))
				seen.Controls = randControls()
			case 2: // the line is gone
				mem.Forget(r)
				if err := st.Forget(ctx, r); err != nil {
					t.Fatal(err)
				}
				ops["restore lost"]++
			case 3: // a node of another line
				seen.Epoch = "other"
			}
			from := seen.Serving - min(seen.Serving, uint64(rng.IntN(10)))
			vm, errm := mem.Restore(ctx, r, seen, from, now, a)
			vr, err := st.Restore(ctx, r, seen, from, now, a)
			if err != nil && !errors.Is(err, room.ErrLineReset) {
				t.Fatal(err)
			}
			check(step, fmt.Sprintf("Restore(%+v)", seen), []any{vr, errors.Is(err, room.ErrLineReset)}, []any{vm, errors.Is(errm, room.ErrLineReset)})
		case n < 80:
			op = "active"
			if cl := claimed[r]; len(cl) > 0 && rng.IntN(3) > 0 {
				pos = cl[rng.IntN(len(cl))]
			}
			okm, _ := mem.Active(ctx, r, pos, now)
			okr, err := st.Active(ctx, r, pos, now)
			if err != nil {
				t.Fatal(err)
			}
			check(step, fmt.Sprintf("Active(%d)", pos), okr, okm)
			if okm {
				ops["active true"]++
			}
		case n < 92:
			op = "leave"
			okm, vm, _ := mem.Leave(ctx, r, pos, now, a)
			okr, vr, err := st.Leave(ctx, r, pos, now, a)
			if err != nil {
				t.Fatal(err)
			}
			check(step, fmt.Sprintf("Leave(%d)", pos), []any{okr, vr}, []any{okm, vm})
			if okm {
				ops["leave ok"]++
			}
		case n < 97:
			op = "setcontrols"
			c := randControls()
			if rng.IntN(2) == 0 { // mostly open, so that people get in
				c.Paused, c.Closed = false, false
			}
			both(step, "SetControls", func(sh room.Shared) (room.View, error) { return sh.SetControls(ctx, r, c) })
		default:
			op = "params" // the room's settings change (a new node's view)
			if rng.IntN(3) == 0 {
				a.OpensAt = time.Time{}
			} else {
				a.OpensAt = clock.Add(time.Duration(rng.IntN(6000)-1000) * time.Millisecond)
			}
			if rng.IntN(3) == 0 {
				a.ClosesAt = clock.Add(time.Duration(rng.IntN(20000)) * time.Millisecond)
			} else {
				a.ClosesAt = time.Time{}
			}
			a.ClaimTimeout = time.Duration(rng.IntN(4000)) * time.Millisecond
			a.LotteryKey = []string{"", "k1", "k2"}[rng.IntN(3)]
			if rng.IntN(4) == 0 {
				a.Draw = nil // a node without the lottery
			} else {
				a.Draw = draw
			}
			params[r] = a
		}
		ops[op]++
		both(step, "View after "+op, func(sh room.Shared) (room.View, error) { return sh.View(ctx, r) })
	}
	var final []string
	for _, r := range rooms {
		v, _ := mem.View(ctx, r)
		final = append(final, fmt.Sprintf("%s: pre %d post %d serving %d admissions %d expired %d leaves %d skipped %d",
			r, v.PreSeq, v.PostSeq, v.Serving, v.Admissions, v.Expired, v.Leaves, v.Skipped))
		if v.Admissions == 0 || v.Joins == 0 {
			t.Errorf("room %s saw no admissions or joins; the test exercises too little", r)
		}
	}
	for k, least := range map[string]int{"claim ok": 40, "claim wait": 5, "active true": 10, "leave ok": 40, "join unreserved": 20, "reserve": 100, "uncertain": 50, "restore": 50, "restore lost": 10, "join held": 10, "lease": 500} {
		if ops[k] < least {
			t.Errorf("only %d %s; the test exercises too little", ops[k], k)
		}
	}
	t.Logf("ops %v\n%s", ops, strings.Join(final, "\n"))
}

// TestTokenArithmetic has rooms admit at steady rates, ticked at steady
// intervals, where the token bucket's float arithmetic decides on which tick
// a token is whole (ten ticks of 0.1 tokens make 0.9999999999999999), and
// requires the Store to admit on exactly the same ticks as MemShared.
func TestTokenArithmetic(t *testing.T) {
	st := newStore(t)
	mem := room.NewMemShared()
	a := room.AdmitParams{ClaimTimeout: time.Hour}
	for _, rate := range []float64{0.1, 0.7, 1, 1.0 / 3, 3, 7.3, 10, 25.5} {
		for _, stepMs := range []int{1, 7, 30, 100, 333, 1100, 1118, 2300} {
			name := fmt.Sprintf("r%g-s%d", rate, stepMs)
			c := room.Controls{Capacity: 1000, Rate: rate}
			mem.Init(ctx, name, c, "e1", t0)
			mem.Reserve(ctx, name, room.PhaseOpen, 120, t0)
			if _, err := st.Init(ctx, name, c, "e1", t0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Reserve(ctx, name, room.PhaseOpen, 120, t0); err != nil {
				t.Fatal(err)
			}
			for range 120 {
				mem.Join(ctx, name, t0, a)
				if _, _, _, err := st.Join(ctx, name, t0, a); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i <= 100; i++ {
				now := t0.Add(time.Duration(i*stepMs) * time.Millisecond)
				vm, _ := mem.Tick(ctx, name, now, a)
				vr, err := st.Tick(ctx, name, now, a)
				if err != nil {
					t.Fatal(err)
				}
				if vr != vm {
					t.Fatalf("%s tick %d:\nredis: %+v\nmem:   %+v", name, i, vr, vm)
				}
			}
		}
	}
}

// TestUseBeforeInit: as with MemShared, nothing but Init and Active works
// on a room that has no state, and the refused calls create nothing.
func TestUseBeforeInit(t *testing.T) {
	st := newStore(t)
	mem := room.NewMemShared()
	now := t0
	a := room.AdmitParams{ClaimTimeout: time.Minute}
	for _, sh := range []room.Shared{mem, st} {
		if _, err := sh.View(ctx, "early"); !errors.Is(err, room.ErrNoSharedState) {
			t.Fatalf("%T View of a new room: %v", sh, err)
		}
		if ok, err := sh.Active(ctx, "early", 1, now); ok || err != nil {
			t.Fatalf("%T Active in a new room: %v, %v", sh, ok, err)
		}
		if _, err := sh.SetControls(ctx, "early", room.Controls{Capacity: 5, Rate: 100}); !errors.Is(err, room.ErrNoSharedState) {
			t.Fatalf("%T SetControls before Init: %v", sh, err)
		}
		if _, _, _, err := sh.Join(ctx, "early", now, a); !errors.Is(err, room.ErrNoSharedState) {
			t.Fatalf("%T Join before Init: %v", sh, err)
		}
	}
	for i, c := range []room.Controls{{Capacity: 3, Rate: 1}, {Capacity: 9, Rate: 7}} {
		vm, _ := mem.Init(ctx, "early", c, "e1", now.Add(time.Second))
		vr, err := st.Init(ctx, "early", c, "e1", now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if vr != vm {
			t.Fatalf("Init %d: redis %+v, mem %+v", i, vr, vm)
		}
	}
	mem.Reserve(ctx, "early", room.PhaseOpen, 20, now)
	if _, err := st.Reserve(ctx, "early", room.PhaseOpen, 20, now); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		now := now.Add(time.Second + time.Duration(i)*100*time.Millisecond)
		pm, sm, vm, _ := mem.Join(ctx, "early", now, a)
		pr, sr, vr, err := st.Join(ctx, "early", now, a)
		if err != nil {
			t.Fatal(err)
		}
		if pr != pm || sr != sm || vr != vm {
			t.Fatalf("join %d: redis %v %d %+v, mem %v %d %+v", i, pr, sr, vr, pm, sm, vm)
		}
	}
}

// TestStateLost: when Redis loses a room's keys (restarted without
// persistence, or flushed), the room refuses to go on rather than start its
// line again from zero and give away places that tickets already hold.
func TestStateLost(t *testing.T) {
	c, _, prefix := newClient(t)
	st := redis.New(c, prefix)
	now := t0
	a := room.AdmitParams{ClaimTimeout: time.Minute}
	if _, err := st.Init(ctx, "lost", room.Controls{Capacity: 1, Rate: 1}, "e1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reserve(ctx, "lost", room.PhaseOpen, 5, now); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, _, err := st.Join(ctx, "lost", now, a); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{prefix + "{lost}:state", prefix + "{lost}:slots"}
	if n, err := c.Del(ctx, keys...).Result(); err != nil || n != 2 {
		t.Fatalf("deleting the room's keys: %d, %v", n, err)
	}
	if _, _, _, err := st.Join(ctx, "lost", now, a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Join after the state was lost: %v, want ErrNoSharedState", err)
	}
	if _, err := st.Tick(ctx, "lost", now, a); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("Tick after the state was lost: %v, want ErrNoSharedState", err)
	}
	if _, err := st.View(ctx, "lost"); !errors.Is(err, room.ErrNoSharedState) {
		t.Errorf("View after the state was lost: %v, want ErrNoSharedState", err)
	}
	if n, err := c.Exists(ctx, keys...).Result(); err != nil || n != 0 {
		t.Errorf("the refused calls recreated %d keys (%v)", n, err)
	}
}

// TestConcurrent has many callers join and tick one room at once: the
// capacity holds and every seq is handed out exactly once.
func TestConcurrent(t *testing.T) {
	st := newStore(t)
	const capacity, workers, joins = 5, 8, 200
	if _, err := st.Init(ctx, "busy", room.Controls{Capacity: capacity, Rate: 1e6}, "e1", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reserve(ctx, "busy", room.PhaseOpen, workers*joins, t0); err != nil {
		t.Fatal(err)
	}
	a := room.AdmitParams{ClaimTimeout: 50 * time.Millisecond}
	var ms atomic.Int64
	var mu sync.Mutex
	var seqs []uint64
	checkView := func(what string, v room.View) {
		if v.Active > capacity || v.Active < 0 {
			t.Errorf("%s: %d active, capacity %d", what, v.Active, capacity)
		}
		if v.Serving > v.PostSeq {
			t.Errorf("%s: serving %d of %d joined", what, v.Serving, v.PostSeq)
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), 7))
			for range joins {
				now := t0.Add(time.Duration(ms.Add(1)) * time.Millisecond)
				ph, seq, v, err := st.Join(ctx, "busy", now, a)
				if err != nil {
					t.Error(err)
					return
				}
				if ph != room.PhaseOpen {
					t.Errorf("join phase %v", ph)
				}
				checkView("Join", v)
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
				if v, err = st.Tick(ctx, "busy", now, a); err != nil {
					t.Error(err)
					return
				}
				checkView("Tick", v)
				if v.Serving > 0 {
					pos := 1 + uint64(rng.IntN(int(v.Serving)))
					switch rng.IntN(3) {
					case 0:
						_, _, err = st.Leave(ctx, "busy", pos, now, a)
					case 1:
						_, _, _, err = st.Claim(ctx, "busy", pos, now, 20*time.Millisecond, a)
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(seqs)
	if len(seqs) != workers*joins {
		t.Fatalf("%d seqs, want %d", len(seqs), workers*joins)
	}
	for i, s := range seqs {
		if s != uint64(i) {
			t.Fatalf("seqs not 0..%d: seqs[%d] = %d", workers*joins-1, i, s)
		}
	}
	v, err := st.View(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	checkView("final", v)
	if v.PostSeq != workers*joins || v.Joins != workers*joins || v.Admissions != v.Serving || v.Serving == 0 {
		t.Fatalf("final view %+v", v)
	}
}

// TestFloats checks rates survive the trip through Redis bit for bit.
func TestFloats(t *testing.T) {
	st := newStore(t)
	if _, err := st.Init(ctx, "f", room.Controls{Capacity: 1, Rate: 1}, "e1", time.UnixMilli(0)); err != nil {
		t.Fatal(err)
	}
	for i, rate := range []float64{0.1, 1.0 / 3, math.Nextafter(1, 2), 1e-300, 123456789.123456789, math.MaxFloat64, math.Inf(1)} {
		c := room.Controls{Capacity: math.MaxInt64 - i, Rate: rate}
		if _, err := st.SetControls(ctx, "f", c); err != nil {
			t.Fatal(err)
		}
		v, err := st.View(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		if v.Controls != c {
			t.Errorf("controls %+v came back as %+v", c, v.Controls)
		}
	}
}

func TestOpen(t *testing.T) {
	c, url, prefix := newClient(t)
	st, err := redis.Open(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Init(ctx, "open", room.Controls{Capacity: 1, Rate: 1}, "e1", time.UnixMilli(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.View(ctx, "open"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, prefix+"{open}:state", prefix+"{open}:slots").Err(); err != nil {
		t.Fatal(err)
	}

	for _, u := range []string{
		"redis://user:s3cret@127.0.0.1:1/0",   // nothing listens
		"redis://user:s3cret@127.0.0.1:bad/0", // does not parse
		"redis://user:s3cret@127.0.0.1:1/x",   // bad database
		"http://user:s3cret@127.0.0.1:1/0",    // bad scheme
	} {
		_, err := redis.Open(ctx, u, "p:")
		if err == nil {
			t.Errorf("Open(%s) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open error shows the password: %v", err)
		}
		if u == "redis://user:s3cret@127.0.0.1:1/0" && !strings.Contains(err.Error(), "redis://user:xxxxx@127.0.0.1:1/0") {
			t.Errorf("Open error does not name the server: %v", err)
		}
		t.Logf("Open(%s): %v", u, err)
	}
}

func TestContext(t *testing.T) {
	st := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := st.View(ctx, "ctx")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("View with a cancelled context: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "redis view: ") {
		t.Errorf("error lacks context: %v", err)
	}
}
