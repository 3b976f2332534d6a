//go:build linux

package redistest_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/redistest"
)

// A persistent server keeps what it acknowledged through kill -9; the
// other comes back empty.
func TestRestartKeepsWhatPersistentServerAcknowledged(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start func(testing.TB) *redistest.Server
		kept  bool
	}{
		{"persistent", redistest.NewPersistentServer, true},
		{"without persistence", redistest.NewServer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.start(t)
			opts, err := goredis.ParseURL(s.URL())
			if err != nil {
				t.Fatal(err)
			}
			c := goredis.NewClient(opts)
			defer c.Close()
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			s.Restart()
			got, err := c.Get(ctx, "k").Result()
			if kept := err == nil && got == "v"; kept != tc.kept {
				t.Fatalf("after kill -9 and a restart: %q, %v; want kept = %v", got, err, tc.kept)
			}
		})
	}
}
