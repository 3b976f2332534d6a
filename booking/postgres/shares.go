package postgres

import (
	"context"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// ShareBooked counts the active bookings at slot in share key, other than
// booking except. The caller holds the slot's row lock (see places).
func (p places) ShareBooked(slot booking.Slot, key, except string) (int, error) {
	var n int64
	err := p.tx.QueryRow(p.ctx, `SELECT count(*) FROM bookings
		WHERE dose1_clinic = $1 AND dose1_date = $2 AND dose1_block = $3 AND share_key = $4 AND status = 'booked' AND number <> $5`,
		slot.ClinicID, pgDate(slot.Date), int32(slot.Block), key, except).Scan(&n)
	return int(n), err
}

// ShareCounts is booking.Store's ShareCounts.
func (s *Store) ShareCounts(ctx context.Context) ([]booking.ShareCount, error) {
	out, err := storecheck.ReadAll(s.query(ctx, `SELECT dose1_clinic, dose1_date, dose1_block, share_key, count(*) FROM bookings
		WHERE status = 'booked' AND share_key <> '' GROUP BY dose1_clinic, dose1_date, dose1_block, share_key`), storecheck.ScanShareCount)
	return out, fail(ctx, "share counts", err)
}
