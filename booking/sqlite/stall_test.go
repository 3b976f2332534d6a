package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/storetest"
)

// Another process holds the database's write lock: a write gives up at its
// deadline (ErrUnavailable, and the deadline it ran out of, not SQLite's
// busy timeout), reads go on, and once the lock is released the same
// request books.
func TestWriteLockHeldElsewhere(t *testing.T) {
	s, path := openFile(t)
	ctx := context.Background()
	first, err := s.Book(ctx, storetest.Request("first"))
	if err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	req := storetest.Request("second")
	req.IdempotencyKey = "form-2"
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = s.Book(dctx, req)
	if !errors.Is(err, booking.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Book while another process holds the write lock: %v, want ErrUnavailable at the deadline", err)
	}
	// A queue of writers behind it gives up at its deadlines too.
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			_, err := s.CountAttempt(dctx, string(rune('a'+i)), time.Now().Add(time.Hour), 5)
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; !errors.Is(err, booking.ErrUnavailable) {
			t.Errorf("a write queued behind the stalled one: %v, want ErrUnavailable", err)
		}
	}
	if _, err := s.Get(ctx, first.Number); err != nil {
		t.Errorf("a read while the write lock is held elsewhere: %v", err)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	b, err := s.Book(ctx, req)
	if err != nil {
		t.Fatalf("the same request once the lock is released: %v", err)
	}
	if again, err := s.Book(ctx, req); err != nil || again.Number != b.Number {
		t.Fatalf("sent once more: %v, %v; want %s", again.Number, err, b.Number)
	}
}
