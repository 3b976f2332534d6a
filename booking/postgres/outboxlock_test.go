package postgres_test

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/booking/postgres"
	"github.com/sluicehq/sluice/internal/pgtest"
)

// TestOutboxLock: one node at a time holds the outbox lock of a schema;
// releasing it, or losing the connection that holds it, lets another take
// it; another schema has a lock of its own.
func TestOutboxLock(t *testing.T) {
	ctx := context.Background()
	u := freshSchema(t)
	a, b := open(t, u), open(t, u)
	other := open(t, freshSchema(t))

	la, ok, err := a.TryLockOutbox(ctx)
	if err != nil || !ok {
		t.Fatalf("node a: %v %v", ok, err)
	}
	if !la.Held(ctx) {
		t.Fatal("node a's lease is not held")
	}
	if _, ok, err := b.TryLockOutbox(ctx); ok || err != nil {
		t.Fatalf("node b took the lock node a holds: %v %v", ok, err)
	}
	lo, ok, err := other.TryLockOutbox(ctx)
	if err != nil || !ok {
		t.Fatalf("a store in another schema: %v %v, want its own lock", ok, err)
	}
	lo.Release()
	la.Release()
	if la.Held(ctx) {
		t.Error("a released lease still says held")
	}
	lb, ok, err := b.TryLockOutbox(ctx)
	if err != nil || !ok {
		t.Fatalf("node b after node a released: %v %v", ok, err)
	}
	// Node b's connection dies (as when the node does): the session ends
	// and the lock with it. Only the session holding this schema's outbox
	// lock is ended: the database is shared with the other packages'
	// tests, run at the same time, which hold advisory locks of their own
	// (a bigint key shows in pg_locks as classid, its high 32 bits, and
	// objid, its low 32 bits).
	conn := pgtest.Connect(t, u)
	var ended int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l,
		(SELECT (`+postgres.OutboxLockKey+`)::bigint AS k) x
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND l.pid <> pg_backend_pid()
		AND l.classid = ((x.k >> 32) & 4294967295)::oid AND l.objid = (x.k & 4294967295)::oid`).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended != 1 {
		t.Fatalf("ended %d sessions holding the outbox lock, want node b's", ended)
	}
	if lb.Held(ctx) {
		t.Error("the lease says held after its connection was terminated")
	}
	lb.Release() // harmless on a dead connection
	c := open(t, u)
	lc, ok, err := c.TryLockOutbox(ctx)
	if err != nil || !ok {
		t.Fatalf("node c after node b's connection died: %v %v", ok, err)
	}
	lc.Release()
}
