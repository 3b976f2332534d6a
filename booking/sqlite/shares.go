package sqlite

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/booking"
)

// checkShare refuses (ErrSlotFull) a booking, or the move of booking
// number except, whose share of slot holds its capacity of active bookings
// (other than except) already; nil sh: no share, nothing to check. The
// writer connection is serial, so no booking can commit between the count
// and the write.
func (s *Store) checkShare(t *wtx, slot booking.Slot, sh *booking.ShareLimit, except string) error {
	if sh == nil {
		return nil
	}
	var n int
	if err := s.wc.QueryRowContext(t.stmtCtx, `SELECT count(*) FROM bookings
		WHERE dose1_clinic = ? AND dose1_date = ? AND dose1_block = ? AND share_key = ? AND status = 'booked' AND number <> ?`,
		slot.ClinicID, slot.Date.String(), int64(slot.Block), sh.Key, except).Scan(&n); err != nil {
		return err
	}
	if n >= sh.Capacity {
		return fmt.Errorf("%s: share %s: %w", slot, sh.Key, booking.ErrSlotFull)
	}
	return nil
}

// ShareCounts is booking.Store's ShareCounts.
func (s *Store) ShareCounts(ctx context.Context) ([]booking.ShareCount, error) {
	rows, done, err := s.query(ctx, `SELECT dose1_clinic, dose1_date, dose1_block, share_key, count(*) FROM bookings
		WHERE status = 'booked' AND share_key <> '' GROUP BY dose1_clinic, dose1_date, dose1_block, share_key`)
	if err != nil {
		return nil, fail(ctx, "share counts", err)
	}
	defer done()
	var out []booking.ShareCount
	for rows.Next() {
		var c booking.ShareCount
		var date string
		var block int64
		if err := rows.Scan(&c.ClinicID, &date, &block, &c.Key, &c.Booked); err != nil {
			return nil, fail(ctx, "share counts", err)
		}
		if c.Date, err = booking.ParseDate(date); err != nil {
			return nil, fail(ctx, "share counts", err)
		}
		c.Block = booking.TimeBlock(block)
		out = append(out, c)
	}
	return out, fail(ctx, "share counts", rows.Err())
}
