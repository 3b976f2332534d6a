package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicehq/sluice/booking"
)

// checkShare refuses (ErrSlotFull) a booking, or the move of booking
// number except, whose share of slot holds its capacity of active bookings
// (other than except) already; nil sh: no share, nothing to check. The
// caller holds the slot's row lock, so the bookings of the slot are
// serialised and the count (a new snapshot in READ COMMITTED) sees every
// one committed before.
func checkShare(ctx context.Context, tx pgx.Tx, slot booking.Slot, sh *booking.ShareLimit, except string) error {
	if sh == nil {
		return nil
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM bookings
		WHERE dose1_clinic = $1 AND dose1_date = $2 AND dose1_block = $3 AND share_key = $4 AND status = 'booked' AND number <> $5`,
		slot.ClinicID, pgDate(slot.Date), int32(slot.Block), sh.Key, except).Scan(&n); err != nil {
		return err
	}
	if n >= int64(sh.Capacity) {
		return fmt.Errorf("%s: share %s: %w", slot, sh.Key, booking.ErrSlotFull)
	}
	return nil
}

// ShareCounts is booking.Store's ShareCounts.
func (s *Store) ShareCounts(ctx context.Context) ([]booking.ShareCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT dose1_clinic, dose1_date, dose1_block, share_key, count(*) FROM bookings
		WHERE status = 'booked' AND share_key <> '' GROUP BY dose1_clinic, dose1_date, dose1_block, share_key`)
	if err != nil {
		return nil, fail(ctx, "share counts", err)
	}
	defer rows.Close()
	var out []booking.ShareCount
	for rows.Next() {
		var c booking.ShareCount
		var date pgtype.Date
		var block int32
		var n int64
		if err := rows.Scan(&c.ClinicID, &date, &block, &c.Key, &n); err != nil {
			return nil, fail(ctx, "share counts", err)
		}
		if c.Date, err = fromDate(date); err != nil {
			return nil, fail(ctx, "share counts", err)
		}
		c.Block, c.Booked = booking.TimeBlock(block), int(n)
		out = append(out, c)
	}
	return out, fail(ctx, "share counts", rows.Err())
}
