// Package redistest gives tests a key prefix of their own on the shared
// test Redis (SLUICE_REDIS_URL, default DefaultURL), whose keys are deleted
// when the test ends; the server itself is never flushed. Without a server
// the test is skipped, or fails when SLUICE_REQUIRE_SERVICES=1 (CI). Tests
// that break Redis (restart it empty) start a server of their own
// (NewServer).
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

// DefaultURL is the test server when SLUICE_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Prefix returns the URL of the test server and a fresh key prefix
// ("sluicetest:<hex>:") whose keys are deleted when the test ends.
func Prefix(tb testing.TB) (url, prefix string) {
	tb.Helper()
	url = os.Getenv("SLUICE_REDIS_URL")
	if url == "" {
		url = DefaultURL
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatalf("SLUICE_REDIS_URL: %v", err)
	}
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		testenv.Missing(tb, fmt.Sprintf("Redis at %s does not answer (%v): set SLUICE_REDIS_URL to a server the tests may use", opts.Addr, err))
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix = "sluicetest:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return url, prefix
}
