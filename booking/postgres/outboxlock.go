package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/booking"
)

// The outbox lock is a session-level advisory lock, keyed by the schema so
// that deployments in different schemas of one database do not share it,
// and held on a connection taken out of the pool for as long as this node
// delivers. If the node or its connection dies, PostgreSQL ends the session
// and so releases the lock, and another node's next try takes it.
const outboxLockKey = `hashtext(current_schema() || ':sluice-outbox')`

var _ booking.OutboxLocker = (*Store)(nil)

// TryLockOutbox implements booking.OutboxLocker.
func (s *Store) TryLockOutbox(ctx context.Context) (booking.OutboxLease, bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("outbox lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+outboxLockKey+`)`).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("outbox lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &outboxLease{conn: conn}, true, nil
}

type outboxLease struct {
	mu   sync.Mutex
	conn *pgxpool.Conn
}

// Held checks that the connection holding the lock is still alive (the
// lock lives exactly as long as its session).
func (l *outboxLease) Held(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return l.conn.Ping(ctx) == nil
}

// Release gives the lock up. If unlocking fails the connection is closed
// rather than returned to the pool, which ends the session and the lock.
func (l *outboxLease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(`+outboxLockKey+`)`); err != nil {
		l.conn.Hijack().Close(ctx)
	} else {
		l.conn.Release()
	}
	l.conn = nil
}
