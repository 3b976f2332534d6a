package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// booking.SessionStore: the attempts of challenges, sessions and look-up
// grants (migrations/002_sessions.sql). Writes go through the writer like
// bookings (and share its group commit); reads use the read pool.

// CountAttempt counts a wrong code tried against a challenge.
func (s *Store) CountAttempt(ctx context.Context, id string, expires time.Time, maxAttempts int) (int, error) {
	if err := storecheck.CheckChallengeID(id); err != nil {
		return 0, fail(ctx, "count attempt", err)
	}
	var n int
	err := s.write(ctx, func(t *wtx) error {
		var err error
		n, err = storecheck.ScanAttempts(t.row(s.ws.challengeCount, id, expires.UnixNano(), maxAttempts).Scan, sql.ErrNoRows)
		return err
	})
	if err != nil {
		return 0, fail(ctx, "count attempt", err)
	}
	return n, nil
}

// OpenSession uses the challenge up and opens the session in one write
// transaction.
func (s *Store) OpenSession(ctx context.Context, req booking.OpenSessionRequest) error {
	r := req.Session
	if err := storecheck.CheckOpenSession(req); err != nil {
		return fail(ctx, "open session", err)
	}
	return fail(ctx, "open session", s.write(ctx, func(t *wtx) error {
		return storecheck.OpenSession(func() (int64, error) {
			return t.exec(s.ws.challengeUse, req.ChallengeID, req.ChallengeExpires.UnixNano(), req.MaxAttempts)
		}, func() (int64, error) {
			return t.exec(s.ws.sessionOpen, r.PersonKey, r.ID, r.Sealed, r.LockedUntil.UnixNano(), r.Expires.UnixNano(), req.Now.UnixNano())
		})
	}))
}

// Session returns an unexpired session.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (booking.SessionRecord, error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return booking.SessionRecord{}, fail(ctx, "session", err)
	}
	defer unlock()
	r, err := storecheck.ScanSession(s.rs.sessionGet.QueryRowContext(ctx, id, now.UnixNano()).Scan, sql.ErrNoRows, id)
	return r, fail(ctx, "session", err)
}

// EndSession ends a session.
func (s *Store) EndSession(ctx context.Context, id string) error {
	return fail(ctx, "end session", s.write(ctx, func(t *wtx) error {
		_, err := t.exec(s.ws.sessionEnd, id)
		return err
	}))
}

// PutLookupGrant records a look-up.
func (s *Store) PutLookupGrant(ctx context.Context, id string, sealed []byte, expires time.Time) error {
	if err := storecheck.CheckRecord("look-up", id, sealed, expires); err != nil {
		return fail(ctx, "put look-up", err)
	}
	return fail(ctx, "put look-up", s.write(ctx, func(t *wtx) error {
		_, err := t.exec(s.ws.grantPut, id, sealed, expires.UnixNano())
		return err
	}))
}

// LookupGrant returns an unexpired look-up's record.
func (s *Store) LookupGrant(ctx context.Context, id string, now time.Time) ([]byte, error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return nil, fail(ctx, "look-up", err)
	}
	defer unlock()
	sealed, err := storecheck.ScanGrant(s.rs.grantGet.QueryRowContext(ctx, id, now.UnixNano()).Scan, sql.ErrNoRows)
	return sealed, fail(ctx, "look-up", err)
}

// PurgeExpired deletes expired challenges, sessions and look-ups, at most
// limit of each, in one write transaction.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := storecheck.CheckLimit(limit); err != nil {
		return 0, fail(ctx, "purge", err)
	}
	deleted := 0
	err := s.write(ctx, func(t *wtx) error {
		for _, st := range []*sql.Stmt{s.ws.purgeChallenges, s.ws.purgeSessions, s.ws.purgeGrants} {
			n, err := t.exec(st, now.UnixNano(), limit)
			if err != nil {
				return err
			}
			deleted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fail(ctx, "purge", err)
	}
	return deleted, nil
}

// write runs fn in a write transaction and commits it if fn succeeds.
func (s *Store) write(ctx context.Context, fn func(t *wtx) error) error {
	t, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := fn(t); err != nil {
		return err
	}
	return t.commit()
}
