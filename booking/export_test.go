package booking

import (
	"context"
	"time"
)

// RunOutboxOnTicks is RunOutbox driven by the test's ticks.
func (s *Service) RunOutboxOnTicks(ctx context.Context, ticks <-chan time.Time) error {
	return s.runOutbox(ctx, ticks)
}
