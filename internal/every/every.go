// Package every runs a piece of work at a fixed interval until a context
// ends: the loop of a node's background jobs (sampling, ticking rooms,
// reloading what other nodes wrote).
package every

import (
	"context"
	"time"
)

// Interval calls f every interval until ctx ends; the first call is one
// interval from now. It returns once ctx has ended and f is not running.
func Interval(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
