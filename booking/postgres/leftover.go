package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Leftover doses and clinic credentials (booking.Store).

// TakeLeftover books one dose of leftover id, if some is left and its time
// is not over at now. The row's lock serialises the bookings of one offer.
func (p places) TakeLeftover(id int64, now time.Time) error {
	tag, err := p.tx.Exec(p.ctx, `UPDATE leftovers SET booked = booked + 1 WHERE id = $1 AND booked < doses AND until_at > $2`, id, now.UnixNano())
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return booking.ErrLeftoverGone
	}
	return nil
}

// PostLeftover is booking.Store's PostLeftover.
func (s *Store) PostLeftover(ctx context.Context, l booking.Leftover) (booking.Leftover, error) {
	if err := storecheck.CheckLeftover(l); err != nil {
		return booking.Leftover{}, fail(ctx, "post leftover", err)
	}
	l.Booked = 0
	err := s.pool.QueryRow(ctx, `INSERT INTO leftovers (clinic_id, vaccine_id, date, doses, until_at, posted_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, l.ClinicID, l.VaccineID, pgDate(l.Date), l.Doses, l.Until.UnixNano(), l.PostedAt.UnixNano()).Scan(&l.ID)
	if err != nil {
		return booking.Leftover{}, fail(ctx, "post leftover", err)
	}
	return l, nil
}

// Leftovers is booking.Store's Leftovers.
func (s *Store) Leftovers(ctx context.Context, day booking.Date) ([]booking.Leftover, error) {
	out, err := storecheck.ReadAll(s.query(ctx, `SELECT id, clinic_id, vaccine_id, doses, booked, until_at, posted_at
		FROM leftovers WHERE date = $1 ORDER BY posted_at DESC, id DESC`, pgDate(day)),
		func(r storecheck.Rows) (booking.Leftover, error) { return storecheck.ScanLeftover(r, day) })
	return out, fail(ctx, "leftovers", err)
}

// BookingsAt is booking.Store's BookingsAt.
func (s *Store) BookingsAt(ctx context.Context, clinicID int64, day booking.Date) ([]booking.Booking, error) {
	return storecheck.GetAll(ctx, s.query(ctx, `SELECT number FROM bookings
		WHERE dose1_clinic = $1 AND dose1_date = $2 AND status = 'booked' ORDER BY dose1_block, created_at`, clinicID, pgDate(day)),
		s.Get, func(err error) error { return fail(ctx, "bookings at", err) })
}

// PutClinicToken is booking.Store's PutClinicToken.
func (s *Store) PutClinicToken(ctx context.Context, t booking.ClinicToken) error {
	if err := storecheck.CheckClinicToken(t); err != nil {
		return fail(ctx, "put clinic token", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO clinic_tokens (hash, clinic_id, created_at, revoked_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO UPDATE SET revoked_at = excluded.revoked_at`, t.Hash, t.ClinicID, t.CreatedAt.UnixNano(), storecheck.NanosOrNull(t.RevokedAt))
	return fail(ctx, "put clinic token", err)
}

// ClinicToken is booking.Store's ClinicToken.
func (s *Store) ClinicToken(ctx context.Context, hash string) (booking.ClinicToken, error) {
	row := s.pool.QueryRow(ctx, `SELECT clinic_id, created_at, revoked_at FROM clinic_tokens WHERE hash = $1`, hash)
	t, err := storecheck.ScanClinicToken(row.Scan, pgx.ErrNoRows, hash)
	return t, fail(ctx, "clinic token", err)
}

// RevokeClinicTokens is booking.Store's RevokeClinicTokens.
func (s *Store) RevokeClinicTokens(ctx context.Context, clinicID int64, at time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE clinic_tokens SET revoked_at = $1 WHERE clinic_id = $2 AND revoked_at IS NULL`, at.UnixNano(), clinicID)
	if err != nil {
		return 0, fail(ctx, "revoke clinic tokens", err)
	}
	return int(tag.RowsAffected()), nil
}
