package redis

import (
	"context"
	"fmt"
)

// Ping checks that Redis answers (the server's readiness check).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}
