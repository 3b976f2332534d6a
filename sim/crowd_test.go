package sim

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/every"
	"github.com/sluicehq/sluice/room"
)

func TestCrowdGoesThrough(t *testing.T) {
	const n, capacity = 40, 3
	rm, err := room.New(room.Settings{Name: "vaccine", Capacity: capacity, Rate: 200, MinPoll: 100 * time.Millisecond,
		ClaimTimeout: 5 * time.Second, PassTTL: time.Minute}, room.GenerateKeyring("t"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Crowd{Room: rm, MinStay: 5 * time.Millisecond, MaxStay: 40 * time.Millisecond}
	if got := c.Join(n); got != n {
		t.Fatalf("joined %d, want %d", got, n)
	}
	if rc := rm.Counters(); rc.Joined != n {
		t.Fatalf("room joined = %d", rc.Joined)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The room's own tick, and a watcher of the capacity.
	var wg sync.WaitGroup
	var maxActive int
	tickCtx, stopTick := context.WithCancel(ctx)
	wg.Go(func() {
		every.Interval(tickCtx, 2*time.Millisecond, func() {
			rm.Tick()
			if a := rm.Counters().Active; a > maxActive {
				maxActive = a
			}
		})
	})
	c.Run(ctx) // returns when everyone has left
	stopTick()
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("crowd did not get through in time: %+v", c.Stats())
	}
	st := c.Stats()
	if st.Joined != n || st.Admitted != n || st.Left != n || st.Missed != 0 || st.Waiting != 0 || st.Inside != 0 {
		t.Errorf("stats = %+v; want all %d admitted and left", st, n)
	}
	if maxActive > capacity {
		t.Errorf("active reached %d > capacity %d", maxActive, capacity)
	}
	if maxActive == 0 {
		t.Error("never saw anyone inside")
	}
	rc := rm.Counters()
	if rc.Active != 0 || rc.Leaves != n || rc.Admissions != n || rc.Waiting != 0 {
		t.Errorf("room counters = %+v", rc)
	}
	// People poll only when told: far fewer polls than a fixed 100 ms
	// interval for everyone would make.
	if st.Polls == 0 {
		t.Error("nobody polled")
	}
}

func TestCrowdWaitsForOpening(t *testing.T) {
	rm, err := room.New(room.Settings{Name: "r", Closed: true}, room.GenerateKeyring("t"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Crowd{Room: rm, Retry: 10 * time.Millisecond, MinStay: time.Millisecond, MaxStay: 2 * time.Millisecond}
	if got := c.Join(5); got != 0 {
		t.Fatalf("a closed room took %d", got)
	}
	if st := c.Stats(); st.Pending != 5 {
		t.Fatalf("pending = %d", st.Pending)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	go func() {
		for ctx.Err() == nil {
			rm.Tick()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(30 * time.Millisecond)
	if _, err := rm.Update(func(s *room.Settings) { s.Closed = false }); err != nil {
		t.Fatal(err)
	}
	<-done
	if st := c.Stats(); st.Joined != 5 || st.Left != 5 {
		t.Errorf("stats = %+v", st)
	}
}
