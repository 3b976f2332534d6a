package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/storetest"
)

// queueBehindWriter holds the writer, starts each call in turn once the
// previous one waits for the writer (so they queue in this order), lets
// them run, and returns their errors. A call listed in leaving gives up
// while waiting: its context is cancelled once it waits.
func queueBehindWriter(t *testing.T, s *Store, leaving map[int]context.CancelFunc, calls ...func() error) []error {
	t.Helper()
	waitFor := func(want int) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s.group.mu.Lock()
			n := s.group.waiting
			s.group.mu.Unlock()
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d transactions wait for the writer, want %d", n, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	s.wsem <- struct{}{}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	queued := 0
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		queued++
		waitFor(queued)
		if cancel := leaving[i]; cancel != nil {
			cancel()
			queued--
			waitFor(queued)
		}
	}
	<-s.wsem
	wg.Wait()
	return errs
}

// Transactions waiting for the writer share one COMMIT; one that fails,
// and one whose caller gave up while waiting, leave the others' work
// whole; all of it survives a reopen.
func TestGroupCommitSharesOneCommit(t *testing.T) {
	s, path := openFile(t)
	ctx := context.Background()
	gone, leave := context.WithCancel(ctx)
	var calls []func() error
	var want []string
	for i := range 20 {
		req := storetest.Request(fmt.Sprint("p", i))
		switch i {
		case 5: // refused inside the batch: rolled back alone
			req.SlotCapacity = func(booking.Slot) int { return 0 }
		case 9: // the same person again: already booked
			req = storetest.Request("p1")
		case 13: // gives up while waiting for the writer
			calls = append(calls, func() error {
				_, err := s.Book(gone, req)
				return err
			})
			continue
		default:
			want = append(want, req.Booking.PersonKey)
		}
		calls = append(calls, func() error {
			_, err := s.Book(ctx, req)
			return err
		})
	}
	errs := queueBehindWriter(t, s, map[int]context.CancelFunc{13: leave}, calls...)
	for i, err := range errs {
		var wantErr error
		switch i {
		case 5:
			wantErr = booking.ErrSlotFull
		case 9:
			wantErr = booking.ErrAlreadyBooked
		case 13:
			wantErr = context.Canceled
		}
		if wantErr == nil && err != nil || wantErr != nil && !errors.Is(err, wantErr) {
			t.Errorf("call %d: %v, want %v", i, err, wantErr)
		}
	}
	if s.group.commits != 1 {
		t.Errorf("%d COMMITs for %d transactions waiting together, want 1", s.group.commits, len(want))
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.CountBookings(ctx)
	if err != nil || n.ByCohort[booking.CohortKey{Campaign: "c", Cohort: "18-49"}] != len(want) {
		t.Fatalf("after reopen: %v bookings (%v), want %d", n, err, len(want))
	}
}

// When SQLite loses the batch's transaction under one of its members (an
// error that rolls back everything), the members released before it must
// not report success: nothing of theirs was committed. Transactions after
// it start a new batch.
func TestGroupCommitLostBatchFailsItsMembers(t *testing.T) {
	s, _ := openFile(t)
	ctx := context.Background()
	first := storetest.Request("first")
	breaker := storetest.Request("breaker")
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	breaker.SlotCapacity = func(booking.Slot) int {
		// What SQLite does after an I/O error or a full disk: the whole
		// transaction is gone, and the statement fails.
		s.wc.ExecContext(context.Background(), "ROLLBACK")
		cancel()
		return 100
	}
	after := storetest.Request("after")
	errs := queueBehindWriter(t, s, nil,
		func() error { _, err := s.Book(ctx, first); return err },
		func() error { _, err := s.Book(bctx, breaker); return err },
	)
	if errs[0] == nil {
		t.Error("a transaction of the lost batch reported success")
	}
	if !errors.Is(errs[1], context.Canceled) {
		t.Errorf("the breaking transaction: %v", errs[1])
	}
	if _, err := s.Book(ctx, after); err != nil {
		t.Fatalf("the next transaction: %v", err)
	}
	n, err := s.CountBookings(ctx)
	if err != nil || n.ByCohort[booking.CohortKey{Campaign: "c", Cohort: "18-49"}] != 1 {
		t.Fatalf("bookings %v (%v), want only the one after the lost batch", n, err)
	}
	if _, err := s.Book(ctx, first); err != nil {
		t.Errorf("the lost booking cannot be made again: %v", err)
	}
}
