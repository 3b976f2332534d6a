package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Idempotency keys of Book, Change and Cancel (booking/idempotency.go):
// kept in idempotency_keys with the request's hash, in the transaction of
// the request, which first waits for any other request with the key.

// idemLockClass is the first key of the advisory locks on idempotency keys
// ("SLC1"); the second is a hash of the key.
const idemLockClass int32 = 0x534c4331

// lockKey serialises the requests with one idempotency key (none: key
// "") and answers one whose key the store holds (found) from the booking
// as it is: it waits for any other transaction with the key to end, so
// that a retry racing the first attempt finds its result.
func lockKey(ctx context.Context, tx pgx.Tx, key string, hash []byte) (booking.Booking, bool, error) {
	if key == "" {
		return booking.Booking{}, false, nil
	}
	if _, err := tx.Exec(ctx, sqlIdemLock, idemLockClass, keyHash(key)); err != nil {
		return booking.Booking{}, false, err
	}
	b, found, err := replayed(ctx, tx, key, hash)
	return b, found, err
}

// replayed answers a request whose idempotency key the store holds.
func replayed(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key string, hash []byte) (booking.Booking, bool, error) {
	var number string
	var stored []byte
	switch err := q.QueryRow(ctx, sqlIdemGet, key).Scan(&number, &stored); {
	case errors.Is(err, pgx.ErrNoRows):
		return booking.Booking{}, false, nil
	case err != nil:
		return booking.Booking{}, false, err
	}
	b, err := storecheck.Replayed(stored, hash, func() (booking.Booking, error) {
		b, _, err := scanBooking(q.QueryRow(ctx, sqlBookingGet, number))
		return b, err
	})
	return b, err == nil, err
}

// PutKey records the idempotency key of a request.
func (r records) PutKey(key, number string, hash []byte, at time.Time) error {
	if _, err := r.tx.Exec(r.ctx, sqlIdemPut, key, number, hash, at.UnixNano()); err != nil {
		if uniqueViolation(err, constraintIdempotencyKey) {
			// Cannot happen under the advisory lock; if it does, the
			// next attempt finds the key and answers from it.
			return fmt.Errorf("%w: idempotency key written concurrently: %w", errRetry, err)
		}
		return err
	}
	return nil
}

// Replay is booking.Store's Replay: a read, no transaction.
func (s *Store) Replay(ctx context.Context, key string, hash []byte) (booking.Booking, bool, error) {
	if !storable(key) {
		return booking.Booking{}, false, nil
	}
	b, found, err := replayed(ctx, s.pool, key, hash)
	if err != nil {
		return booking.Booking{}, false, fail(ctx, "replay", err)
	}
	return b, found, nil
}

// keyHash is the second key of the advisory lock on an idempotency key.
func keyHash(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}
