package redis_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/room/redis"
)

// BenchmarkNode is one node's joins and status checks, many at a time,
// with its line in this process's memory (a single node) and in Redis
// (one of several nodes), ticked every 50 ms as sluice serve does. On
// Redis it reports the commands Redis ran per operation (the change in
// its total_commands_processed, which counts the commands run inside
// scripts too), on a redis-server of its own so that nothing else counts.
// scripts/bench-redis.sh runs it before and after a change.
func BenchmarkNode(b *testing.B) {
	srv := redistest.NewServer(b)
	keys := room.GenerateKeyring("k1")
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	cl := goredis.NewClient(opt)
	defer cl.Close()
	n := 0
	for _, backend := range []string{"memory", "redis"} {
		for _, op := range []string{"join", "status"} {
			b.Run(backend+"/"+op, func(b *testing.B) {
				n++
				s := room.Settings{Name: fmt.Sprintf("bench-%d", n), Capacity: 1, Rate: 1}
				var r *room.Room
				var err error
				if backend == "memory" {
					r, err = room.New(s, keys, clock.System{}, nil)
				} else {
					var st *redis.Store
					if st, err = redis.Open(ctx, srv.URL(), "bench:"); err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					r, err = room.NewShared(s, keys, clock.System{}, st, nil)
				}
				if err != nil {
					b.Fatal(err)
				}
				// Status checks are of someone far down the line (the rate
				// admits one a second): a waiting person's.
				var tok string
				for range 1000 {
					if tok, _, err = r.Join(); err != nil {
						b.Fatal(err)
					}
				}
				tk, err := r.VerifyTicket(tok)
				if err != nil {
					b.Fatal(err)
				}
				done := make(chan struct{})
				ticked := make(chan struct{})
				go func() {
					defer close(ticked)
					t := time.NewTicker(50 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-done:
							return
						case <-t.C:
							r.Tick()
						}
					}
				}()
				before := commands(b, cl)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var err error
						if op == "join" {
							_, _, err = r.Join()
						} else {
							_, err = r.Status(tk)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				close(done)
				<-ticked
				if backend == "redis" {
					// Less the INFO that read the count before.
					b.ReportMetric(float64(commands(b, cl)-before-1)/float64(b.N), "redis-cmds/op")
				}
			})
		}
	}
}

// commands is Redis's total_commands_processed.
func commands(b *testing.B, cl *goredis.Client) int64 {
	info, err := cl.Info(ctx, "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no total_commands_processed in INFO")
	return 0
}
