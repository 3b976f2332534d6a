package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// booking.SessionStore: the attempts of challenges, sessions and look-up
// grants (migrations/003_sessions.sql), shared by every node on the
// database.
// Each operation is one statement, atomic on its own, except OpenSession
// (two, in one transaction).

// CountAttempt counts a wrong code tried against a challenge: one upsert,
// atomic on its own.
func (s *Store) CountAttempt(ctx context.Context, id string, expires time.Time, maxAttempts int) (int, error) {
	if err := storecheck.CheckChallengeID(id); err != nil {
		return 0, fail(ctx, "count attempt", err)
	}
	if !storable(id) {
		return 0, booking.ErrChallengeExpired
	}
	row := s.pool.QueryRow(ctx, sqlChallengeCount, id, expires.UnixNano(), int32(maxAttempts))
	n, err := storecheck.ScanAttempts(row.Scan, pgx.ErrNoRows)
	return n, fail(ctx, "count attempt", err)
}

// OpenSession uses the challenge up and opens the session in one
// transaction.
func (s *Store) OpenSession(ctx context.Context, req booking.OpenSessionRequest) error {
	r := req.Session
	if err := storecheck.CheckOpenSession(req); err != nil {
		return fail(ctx, "open session", err)
	}
	if err := checkText("session id", r.ID, "person key", r.PersonKey, "challenge id", req.ChallengeID); err != nil {
		return fail(ctx, "open session", err)
	}
	return fail(ctx, "open session", s.inTx(ctx, func(tx pgx.Tx) error {
		return storecheck.OpenSession(func() (int64, error) {
			tag, err := tx.Exec(ctx, sqlChallengeUse, req.ChallengeID, req.ChallengeExpires.UnixNano(), int32(req.MaxAttempts))
			return tag.RowsAffected(), err
		}, func() (int64, error) {
			tag, err := tx.Exec(ctx, sqlSessionOpen, r.PersonKey, r.ID, r.Sealed,
				r.LockedUntil.UnixNano(), r.Expires.UnixNano(), req.Now.UnixNano())
			return tag.RowsAffected(), err
		})
	}))
}

// Session returns an unexpired session.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (booking.SessionRecord, error) {
	if !storable(id) {
		return booking.SessionRecord{}, booking.ErrSessionExpired
	}
	r, err := storecheck.ScanSession(s.pool.QueryRow(ctx, sqlSessionGet, id, now.UnixNano()).Scan, pgx.ErrNoRows, id)
	return r, fail(ctx, "session", err)
}

// EndSession ends a session.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if !storable(id) {
		return nil
	}
	_, err := s.pool.Exec(ctx, sqlSessionEnd, id)
	return fail(ctx, "end session", err)
}

// PutLookupGrant records a look-up.
func (s *Store) PutLookupGrant(ctx context.Context, id string, sealed []byte, expires time.Time) error {
	if err := storecheck.CheckRecord("look-up", id, sealed, expires); err != nil {
		return fail(ctx, "put look-up", err)
	}
	if err := checkText("look-up id", id); err != nil {
		return fail(ctx, "put look-up", err)
	}
	_, err := s.pool.Exec(ctx, sqlGrantPut, id, sealed, expires.UnixNano())
	return fail(ctx, "put look-up", err)
}

// LookupGrant returns an unexpired look-up's record.
func (s *Store) LookupGrant(ctx context.Context, id string, now time.Time) ([]byte, error) {
	if !storable(id) {
		return nil, booking.ErrLookupExpired
	}
	sealed, err := storecheck.ScanGrant(s.pool.QueryRow(ctx, sqlGrantGet, id, now.UnixNano()).Scan, pgx.ErrNoRows)
	return sealed, fail(ctx, "look-up", err)
}

// PurgeExpired deletes expired challenges, sessions and look-ups, at most
// limit of each; each kind in a statement of its own (no transaction:
// nothing ties them).
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := storecheck.CheckLimit(limit); err != nil {
		return 0, fail(ctx, "purge", err)
	}
	deleted := 0
	for _, q := range []string{sqlPurgeChallenges, sqlPurgeSessions, sqlPurgeGrants} {
		tag, err := s.pool.Exec(ctx, q, now.UnixNano(), int64(limit))
		if err != nil {
			return deleted, fail(ctx, "purge", err)
		}
		deleted += int(tag.RowsAffected())
	}
	return deleted, nil
}
