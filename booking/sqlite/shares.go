package sqlite

import (
	"context"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// ShareBooked counts the active bookings at slot in share key, other than
// booking except.
func (p places) ShareBooked(slot booking.Slot, key, except string) (n int, err error) {
	err = p.s.wc.QueryRowContext(p.t.stmtCtx, `SELECT count(*) FROM bookings
		WHERE dose1_clinic = ? AND dose1_date = ? AND dose1_block = ? AND share_key = ? AND status = 'booked' AND number <> ?`,
		slot.ClinicID, slot.Date.String(), int64(slot.Block), key, except).Scan(&n)
	return n, err
}

// ShareCounts is booking.Store's ShareCounts.
func (s *Store) ShareCounts(ctx context.Context) ([]booking.ShareCount, error) {
	out, err := storecheck.ReadAll(s.query(ctx, `SELECT dose1_clinic, dose1_date, dose1_block, share_key, count(*) FROM bookings
		WHERE status = 'booked' AND share_key <> '' GROUP BY dose1_clinic, dose1_date, dose1_block, share_key`), storecheck.ScanShareCount)
	return out, fail(ctx, "share counts", err)
}
