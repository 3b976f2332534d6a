package room_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/room/sharedtest"
)

// TestMemSharedNodes runs several room "nodes" on one in-memory Shared
// (room/redis runs the same checks on Redis).
func TestMemSharedNodes(t *testing.T) {
	sharedtest.RunNodes(t, func(t *testing.T) room.Shared { return room.NewMemShared() },
		func(t *testing.T, sh room.Shared, name string) { sh.(*room.MemShared).Forget(name) })
}

// brokenShared works until broken is set, then fails every call, as Redis
// does when it cannot be reached.
type brokenShared struct {
	room.Shared
	broken bool
}

var errDown = errors.New("connection refused")

func (b *brokenShared) View(ctx context.Context, name string) (room.View, error) {
	if b.broken {
		return room.View{}, errDown
	}
	return b.Shared.View(ctx, name)
}

func (b *brokenShared) Join(ctx context.Context, name string, now time.Time, a room.AdmitParams) (room.Phase, uint64, room.View, error) {
	if b.broken {
		return 0, 0, room.View{}, errDown
	}
	return b.Shared.Join(ctx, name, now, a)
}

func (b *brokenShared) Lease(ctx context.Context, name string, node, n uint64, now time.Time, a room.AdmitParams) (room.SeqRange, room.View, error) {
	if b.broken {
		return room.SeqRange{}, room.View{}, errDown
	}
	return b.Shared.Lease(ctx, name, node, n, now, a)
}

func (b *brokenShared) Tick(ctx context.Context, name string, now time.Time, a room.AdmitParams) (room.View, error) {
	if b.broken {
		return room.View{}, errDown
	}
	return b.Shared.Tick(ctx, name, now, a)
}

func (b *brokenShared) Active(ctx context.Context, name string, pos uint64, now time.Time) (bool, error) {
	if b.broken {
		return false, errDown
	}
	return b.Shared.Active(ctx, name, pos, now)
}

func (b *brokenShared) Leave(ctx context.Context, name string, pos uint64, now time.Time, a room.AdmitParams) (bool, room.View, error) {
	if b.broken {
		return false, room.View{}, errDown
	}
	return b.Shared.Leave(ctx, name, pos, now, a)
}

// TestSharedFailsClosed: when the shared state cannot be reached, nobody
// joins, nobody is told to go ahead and no pass opens the gate.
func TestSharedFailsClosed(t *testing.T) {
	sh := &brokenShared{Shared: room.NewMemShared()}
	clk := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	r, err := room.NewShared(room.Settings{Name: "down", Capacity: 1, Rate: 10}, room.GenerateKeyring("k1"), clk, sh, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := r.Join()
	if err != nil || st.State != room.StateAdmitted || st.Pass == "" {
		t.Fatalf("join while up: %+v %v", st, err)
	}
	second, _, err := r.Join()
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.VerifyPass(st.Pass)
	if err != nil {
		t.Fatal(err)
	}
	sh.broken = true
	// Joins go on from the node's block of numbers, which the line holds
	// for it, and stop when it is used up.
	for i := 0; ; i++ {
		_, _, err := r.Join()
		if err == nil && i < room.LeaseBlock {
			continue
		}
		if !errors.Is(err, room.ErrPersist) {
			t.Errorf("join %d while down: %v, want ErrPersist", i, err)
		}
		break
	}
	tk, _ := r.VerifyTicket(second)
	// Statuses are answered from the node's view until it is too old.
	if st, err := r.Status(tk); err != nil || st.State != room.StateWaiting {
		t.Errorf("status while down, fresh view: %+v %v, want waiting", st, err)
	}
	clk.Advance(room.ViewFresh)
	if st, err := r.Status(tk); !errors.Is(err, room.ErrPersist) {
		t.Errorf("status while down: %+v %v, want ErrPersist", st, err)
	}
	if _, err := r.VerifyPass(st.Pass); err == nil {
		t.Error("a pass verified while its session could not be checked")
	}
	g := &room.Gate{Verifier: r}
	req := httptest.NewRequest("GET", "/booking", nil)
	req.Header.Set(room.PassHeader, st.Pass)
	if _, reason, ok := g.Check(req); ok {
		t.Error("the gate let a request through while the shared state was down")
	} else if reason != room.ReasonInternal {
		t.Errorf("gate reason %q, want %q", reason, room.ReasonInternal)
	}
	if err := r.Leave(p); !errors.Is(err, room.ErrPersist) {
		t.Errorf("leave while down: %v, want ErrPersist", err)
	}
	if err := r.Tick(); err == nil {
		t.Error("tick while down: no error")
	}
	sh.broken = false
	if _, err := r.VerifyPass(st.Pass); err != nil {
		t.Errorf("pass once the shared state is back: %v", err)
	}
}

// TestTickFailureLoggedOnce: while the shared state is down every tick
// fails; the log says so when it starts, every 10 s while it lasts and when
// it ends, not 20 times a second.
func TestTickFailureLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	sh := &brokenShared{Shared: room.NewMemShared()}
	clk := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	m := room.NewSharedManager(room.GenerateKeyring("k1"), clk, sh, nil, log)
	if _, err := m.Add(room.Settings{Name: "down", Capacity: 1, Rate: 10}); err != nil {
		t.Fatal(err)
	}
	sh.broken = true
	for i := 0; i < 25*20; i++ { // 25 s of ticks every 50 ms
		m.TickAll()
		clk.Advance(50 * time.Millisecond)
	}
	sh.broken = false
	m.TickAll()
	m.TickAll()
	failed := strings.Count(buf.String(), "room tick failed")
	if failed != 3 { // at 0 s, 10 s and 20 s
		t.Errorf("%d failure lines over 25 s of failing ticks, want 3:\n%s", failed, buf.String())
	}
	if n := strings.Count(buf.String(), "room tick works again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "failed_ticks=500") {
		t.Errorf("the recovery line does not count the 500 failed ticks:\n%s", buf.String())
	}
}

// TestJoinAtHeadAdmitted: on a shared line that admits everyone as they
// come, a join is admitted in its own answer, also when its number comes
// out of the node's block (the node reports it at once) rather than from
// a lease, and not at the person's next poll.
func TestJoinAtHeadAdmitted(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	r, err := room.NewShared(room.Settings{Name: "head", Capacity: 100, Rate: 1000}, room.GenerateKeyring("k1"), clk, room.NewMemShared(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Blocks of 1, 2, 4, 8: joins 3, 5-7 and 9-12 come out of a block.
	for i := range 12 {
		if _, st, err := r.Join(); err != nil || st.State != room.StateAdmitted {
			t.Fatalf("join %d: %+v %v, want admitted", i+1, st, err)
		}
	}
	if c := r.Counters(); c.Skipped != 0 {
		t.Errorf("%d places passed over", c.Skipped)
	}
}

// A join behind another node's number that the node has not reported yet
// waits for that node's next report, not for the line: it is asked back
// within LeaseGrace rather than after MinPoll.
func TestJoinBehindUnreportedAskedBackSoon(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	line := room.NewMemShared()
	set := room.Settings{Name: "soon", Capacity: 100, Rate: 1000}
	a, err := room.NewShared(set, room.GenerateKeyring("k1"), clk, line, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := room.NewShared(set, room.GenerateKeyring("k1"), clk, line, nil)
	if err != nil {
		t.Fatal(err)
	}
	// a's blocks: [0,1), then [1,3) of which it hands out 1; 2 is a's, not
	// handed out, ahead of b's number.
	for i := range 2 {
		if _, st, err := a.Join(); err != nil || st.State != room.StateAdmitted {
			t.Fatalf("join %d on a: %+v %v, want admitted", i+1, st, err)
		}
	}
	_, st, err := b.Join()
	if err != nil {
		t.Fatal(err)
	}
	if st.State != room.StateWaiting {
		t.Fatalf("join on b: %+v, want waiting behind a's unreported number", st)
	}
	if st.PollAfter > room.LeaseGrace {
		t.Errorf("join on b asked back after %v, want at most LeaseGrace (%v)", st.PollAfter, room.LeaseGrace)
	}
}
