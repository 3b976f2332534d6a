package every

import (
	"context"
	"testing"
	"time"
)

func TestIntervalRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	Interval(ctx, time.Millisecond, func() {
		calls++
		if calls == 3 {
			cancel()
		}
	})
	if calls != 3 {
		t.Fatalf("%d calls, want 3 (the third cancels)", calls)
	}
}

func TestIntervalEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Interval(ctx, time.Hour, func() { t.Error("called after the context ended") })
}
