package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Leftover doses and clinic credentials (booking.Store). They are rare
// next to bookings, so their statements are not prepared ahead, except
// leftoverTake, which runs in the booking transaction.

// TakeLeftover books one dose of leftover id, if some is left and its
// time is not over at now.
func (p places) TakeLeftover(id int64, now time.Time) error {
	n, err := p.t.exec(p.s.ws.leftoverTake, id, now.UnixNano())
	if err != nil {
		return err
	}
	if n != 1 {
		return booking.ErrLeftoverGone
	}
	return nil
}

// exec runs one write statement in a transaction of its own.
func (s *Store) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	res, err := s.wc.ExecContext(t.stmtCtx, query, args...)
	if err != nil {
		return nil, err
	}
	return res, t.commit()
}

// PostLeftover is booking.Store's PostLeftover.
func (s *Store) PostLeftover(ctx context.Context, l booking.Leftover) (booking.Leftover, error) {
	if err := storecheck.CheckLeftover(l); err != nil {
		return booking.Leftover{}, fail(ctx, "post leftover", err)
	}
	l.Booked = 0
	res, err := s.execWrite(ctx, `INSERT INTO leftovers (clinic_id, vaccine_id, date, doses, until_at, posted_at)
		VALUES (?, ?, ?, ?, ?, ?)`, l.ClinicID, l.VaccineID, l.Date.String(), l.Doses, l.Until.UnixNano(), l.PostedAt.UnixNano())
	if err != nil {
		return booking.Leftover{}, fail(ctx, "post leftover", err)
	}
	if l.ID, err = res.LastInsertId(); err != nil {
		return booking.Leftover{}, fail(ctx, "post leftover", err)
	}
	return l, nil
}

// Leftovers is booking.Store's Leftovers.
func (s *Store) Leftovers(ctx context.Context, day booking.Date) ([]booking.Leftover, error) {
	out, err := storecheck.ReadAll(s.query(ctx, `SELECT id, clinic_id, vaccine_id, doses, booked, until_at, posted_at
		FROM leftovers WHERE date = ? ORDER BY posted_at DESC, id DESC`, day.String()),
		func(r storecheck.Rows) (booking.Leftover, error) { return storecheck.ScanLeftover(r, day) })
	return out, fail(ctx, "leftovers", err)
}

// BookingsAt is booking.Store's BookingsAt.
func (s *Store) BookingsAt(ctx context.Context, clinicID int64, day booking.Date) ([]booking.Booking, error) {
	return storecheck.GetAll(ctx, s.query(ctx, `SELECT number FROM bookings
		WHERE dose1_clinic = ? AND dose1_date = ? AND status = 'booked' ORDER BY dose1_block, created_at`, clinicID, day.String()),
		s.Get, func(err error) error { return fail(ctx, "bookings at", err) })
}

// PutClinicToken is booking.Store's PutClinicToken.
func (s *Store) PutClinicToken(ctx context.Context, t booking.ClinicToken) error {
	if err := storecheck.CheckClinicToken(t); err != nil {
		return fail(ctx, "put clinic token", err)
	}
	_, err := s.execWrite(ctx, `INSERT INTO clinic_tokens (hash, clinic_id, created_at, revoked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET revoked_at = excluded.revoked_at`, t.Hash, t.ClinicID, t.CreatedAt.UnixNano(), storecheck.NanosOrNull(t.RevokedAt))
	return fail(ctx, "put clinic token", err)
}

// ClinicToken is booking.Store's ClinicToken.
func (s *Store) ClinicToken(ctx context.Context, hash string) (booking.ClinicToken, error) {
	row, done, err := s.queryRow(ctx, `SELECT clinic_id, created_at, revoked_at FROM clinic_tokens WHERE hash = ?`, hash)
	if err != nil {
		return booking.ClinicToken{}, fail(ctx, "clinic token", err)
	}
	defer done()
	t, err := storecheck.ScanClinicToken(row.Scan, sql.ErrNoRows, hash)
	return t, fail(ctx, "clinic token", err)
}

// RevokeClinicTokens is booking.Store's RevokeClinicTokens.
func (s *Store) RevokeClinicTokens(ctx context.Context, clinicID int64, at time.Time) (int, error) {
	res, err := s.execWrite(ctx, `UPDATE clinic_tokens SET revoked_at = ? WHERE clinic_id = ? AND revoked_at IS NULL`, at.UnixNano(), clinicID)
	if err != nil {
		return 0, fail(ctx, "revoke clinic tokens", err)
	}
	n, err := res.RowsAffected()
	return int(n), fail(ctx, "revoke clinic tokens", err)
}
