package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

const bookingColumns = `number, campaign_id, cohort_id, vaccine_id, person_key, name, phone, birth_date, booked_by,
	dose1_clinic, dose1_date, dose1_block, dose2_clinic, dose2_date, dose2_block,
	status, supply_doses, created_at, updated_at, share_key`

// writeStmts are prepared once on the writer connection. Transactions are
// plain BEGIN IMMEDIATE / COMMIT / ROLLBACK statements on that connection
// (not database/sql's Tx, which compiles "BEGIN" and "COMMIT" afresh each
// time): wsem guarantees that nothing else uses the connection meanwhile.
type writeStmts struct {
	begin, commit, rollback            *sql.Stmt
	savepoint, release, rollbackTo     *sql.Stmt // one transaction of a batch (group commit)
	idemGet, idemPut                   *sql.Stmt
	personActive                       *sql.Stmt
	supplyTake, supplyGet, supplyGive  *sql.Stmt
	slotTake, slotRelease              *sql.Stmt
	leftoverTake                       *sql.Stmt
	bookingInsert, bookingGet          *sql.Stmt
	bookingMove, bookingCancel         *sql.Stmt
	outboxInsert, outboxMark, outboxIs *sql.Stmt
	supplySet                          *sql.Stmt
	challengeCount, challengeUse       *sql.Stmt
	sessionOpen                        *sql.Stmt
	sessionEnd, grantPut               *sql.Stmt
	purgeChallenges, purgeSessions     *sql.Stmt
	purgeGrants                        *sql.Stmt
}

func (w *writeStmts) all() []*sql.Stmt {
	return []*sql.Stmt{
		w.begin, w.commit, w.rollback, w.savepoint, w.release, w.rollbackTo,
		w.idemGet, w.idemPut, w.personActive, w.supplyTake, w.supplyGet, w.supplyGive,
		w.slotTake, w.slotRelease, w.leftoverTake, w.bookingInsert, w.bookingGet, w.bookingMove, w.bookingCancel,
		w.outboxInsert, w.outboxMark, w.outboxIs, w.supplySet,
		w.challengeCount, w.challengeUse, w.sessionOpen, w.sessionEnd, w.grantPut,
		w.purgeChallenges, w.purgeSessions, w.purgeGrants,
	}
}

type readStmts struct {
	bookingGet, bookingActive, slotCounts, supply, pending, countBookings *sql.Stmt
	idemGet, sessionGet, grantGet, ping                                   *sql.Stmt
}

func (r *readStmts) all() []*sql.Stmt {
	return []*sql.Stmt{r.bookingGet, r.bookingActive, r.slotCounts, r.supply, r.pending, r.countBookings,
		r.idemGet, r.sessionGet, r.grantGet, r.ping}
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	p := func(db preparer, dst **sql.Stmt, query string) {
		if err != nil {
			return
		}
		*dst, err = db.PrepareContext(ctx, query)
		if err != nil {
			err = fmt.Errorf("prepare %q: %w", query, err)
		}
	}
	w := &s.ws
	p(s.wc, &w.begin, `BEGIN IMMEDIATE`)
	p(s.wc, &w.commit, `COMMIT`)
	p(s.wc, &w.rollback, `ROLLBACK`)
	p(s.wc, &w.savepoint, `SAVEPOINT tx`)
	p(s.wc, &w.release, `RELEASE tx`)
	p(s.wc, &w.rollbackTo, `ROLLBACK TO tx`)
	p(s.wc, &w.idemGet, `SELECT booking_number, request_hash FROM idempotency_keys WHERE key = ?`)
	p(s.wc, &w.idemPut, `INSERT INTO idempotency_keys (key, booking_number, request_hash, created_at) VALUES (?, ?, ?, ?)`)
	p(s.wc, &w.personActive, `SELECT number FROM bookings WHERE person_key = ? AND status = 'booked'`)
	p(s.wc, &w.supplyTake, `UPDATE vaccine_supply SET used = used + ?2
		WHERE vaccine_id = ?1 AND allocated > 0 AND used + ?2 <= allocated`)
	p(s.wc, &w.supplyGet, `SELECT allocated FROM vaccine_supply WHERE vaccine_id = ?`)
	p(s.wc, &w.supplyGive, `UPDATE vaccine_supply SET used = max(used - ?2, 0) WHERE vaccine_id = ?1`)
	p(s.wc, &w.slotTake, `INSERT INTO slots (clinic_id, date, block, booked) VALUES (?1, ?2, ?3, 1)
		ON CONFLICT (clinic_id, date, block) DO UPDATE SET booked = booked + 1 WHERE booked < ?4`)
	p(s.wc, &w.slotRelease, `UPDATE slots SET booked = booked - 1
		WHERE clinic_id = ? AND date = ? AND block = ? AND booked > 0`)
	p(s.wc, &w.leftoverTake, `UPDATE leftovers SET booked = booked + 1 WHERE id = ? AND booked < doses AND until_at > ?`)
	p(s.wc, &w.bookingInsert, `INSERT INTO bookings (`+bookingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	p(s.wc, &w.bookingGet, `SELECT `+bookingColumns+` FROM bookings WHERE number = ?`)
	p(s.wc, &w.bookingMove, `UPDATE bookings SET dose1_clinic = ?, dose1_date = ?, dose1_block = ?,
		dose2_clinic = ?, dose2_date = ?, dose2_block = ?, updated_at = ?, share_key = ?
		WHERE number = ? AND status = 'booked'`)
	p(s.wc, &w.bookingCancel, `UPDATE bookings SET status = 'cancelled', updated_at = ?
		WHERE number = ? AND status = 'booked'`)
	p(s.wc, &w.outboxInsert, `INSERT INTO outbox (booking_number, kind, recipient, body, created_at) VALUES (?, ?, ?, ?, ?)`)
	p(s.wc, &w.outboxMark, `UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL`)
	p(s.wc, &w.outboxIs, `SELECT count(*) FROM outbox WHERE id = ?`)
	p(s.wc, &w.supplySet, `INSERT INTO vaccine_supply (vaccine_id, allocated, used) VALUES (?, ?, 0)
		ON CONFLICT (vaccine_id) DO UPDATE SET allocated = excluded.allocated`)
	// A code tried against a challenge (?1, expiring ?2) counts only while
	// it has been tried fewer than ?3 times; one that answers it uses it
	// up (attempts = ?3).
	p(s.wc, &w.challengeCount, `INSERT INTO challenge_attempts (id, attempts, expires) VALUES (?1, 1, ?2)
		ON CONFLICT (id) DO UPDATE SET attempts = attempts + 1 WHERE attempts < ?3
		RETURNING attempts`)
	p(s.wc, &w.challengeUse, `INSERT INTO challenge_attempts (id, attempts, expires) VALUES (?1, ?3, ?2)
		ON CONFLICT (id) DO UPDATE SET attempts = ?3 WHERE attempts < ?3`)
	// A session replaces the identity's row only once its lock has run
	// out (or it has expired): one identity, one session.
	p(s.wc, &w.sessionOpen, `INSERT INTO booking_sessions (person_key, id, sealed, locked_until, expires)
		VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (person_key) DO UPDATE SET id = excluded.id, sealed = excluded.sealed,
			locked_until = excluded.locked_until, expires = excluded.expires
		WHERE booking_sessions.locked_until <= ?6 OR booking_sessions.expires <= ?6`)
	p(s.wc, &w.sessionEnd, `DELETE FROM booking_sessions WHERE id = ?`)
	p(s.wc, &w.grantPut, `INSERT INTO lookup_grants (id, sealed, expires) VALUES (?, ?, ?)`)
	// The oldest ?2 rows, by rowid, are the first to expire
	// (migrations/002_sessions.sql): those of them that have expired go.
	p(s.wc, &w.purgeChallenges, `DELETE FROM challenge_attempts WHERE expires <= ?1
		AND rowid < coalesce((SELECT rowid FROM challenge_attempts ORDER BY rowid LIMIT 1 OFFSET ?2), 9223372036854775807)`)
	p(s.wc, &w.purgeSessions, `DELETE FROM booking_sessions WHERE expires <= ?1 AND locked_until <= ?1
		AND rowid < coalesce((SELECT rowid FROM booking_sessions ORDER BY rowid LIMIT 1 OFFSET ?2), 9223372036854775807)`)
	p(s.wc, &w.purgeGrants, `DELETE FROM lookup_grants WHERE expires <= ?1
		AND rowid < coalesce((SELECT rowid FROM lookup_grants ORDER BY rowid LIMIT 1 OFFSET ?2), 9223372036854775807)`)

	r := &s.rs
	var rdb preparer = s.wc
	if s.r != nil {
		rdb = s.r
	}
	p(rdb, &r.bookingGet, `SELECT `+bookingColumns+` FROM bookings WHERE number = ?`)
	p(rdb, &r.bookingActive, `SELECT `+bookingColumns+` FROM bookings WHERE person_key = ? AND status = 'booked'`)
	p(rdb, &r.slotCounts, `SELECT clinic_id, date, block, booked FROM slots WHERE booked > 0
		ORDER BY clinic_id, date, block`)
	p(rdb, &r.supply, `SELECT allocated, used FROM vaccine_supply WHERE vaccine_id = ?`)
	p(rdb, &r.pending, `SELECT id, booking_number, kind, recipient, body, created_at FROM outbox
		WHERE sent_at IS NULL ORDER BY id LIMIT ?`)
	p(rdb, &r.countBookings, `SELECT campaign_id, cohort_id, vaccine_id, count(*) FROM bookings WHERE status = 'booked'
		GROUP BY campaign_id, cohort_id, vaccine_id`)
	p(rdb, &r.idemGet, `SELECT booking_number, request_hash FROM idempotency_keys WHERE key = ?`)
	p(rdb, &r.sessionGet, `SELECT person_key, sealed, locked_until, expires FROM booking_sessions
		WHERE id = ? AND expires > ?`)
	p(rdb, &r.grantGet, `SELECT sealed FROM lookup_grants WHERE id = ? AND expires > ?`)
	p(rdb, &r.ping, `SELECT 1`)
	return err
}

// wtx is a write transaction on the writer connection.
type wtx struct {
	ctx context.Context
	// stmtCtx runs the statements. In a batch it cannot be cancelled:
	// SQLite answers an interrupted write by rolling back the whole
	// transaction, which would take the batch's other transactions with
	// it; exec looks at ctx between statements instead.
	stmtCtx context.Context
	s       *Store
	batch   *batch // nil: a transaction of its own (in-memory databases)
	done    bool
}

// Group commit. With synchronous=FULL every COMMIT waits for an fsync of
// the WAL (about 0.6-0.8 ms on the development VM), and with one writer
// connection the commits of concurrent bookings queued one fsync after
// another: the store could not commit more than about 1,500 transactions
// a second however many cores served the requests. So transactions that
// are waiting for the writer share a COMMIT: each runs inside the batch's
// BEGIN IMMEDIATE as a savepoint (RELEASE when it succeeds, ROLLBACK TO
// when it fails, which undoes it alone), the writer is handed to the next
// waiting transaction, and the last one of the batch (nobody waiting, or
// maxBatch reached) commits for all. A transaction reports success only
// after that COMMIT is durable; if the COMMIT fails, or SQLite rolled the
// whole transaction back, every transaction of the batch reports the
// error and none of them is written. Alone, a transaction commits at once,
// as before.
type batch struct {
	done chan struct{} // closed when the batch has committed or failed
	err  error
	n    int // transactions released into the batch
}

// maxBatch bounds the transactions that share one COMMIT (and so how long
// the first of them waits for it).
const maxBatch = 64

type groupCommit struct {
	mu      sync.Mutex
	waiting int    // begin calls waiting for the writer
	open    *batch // the batch open on the writer; read and written only while holding it
	commits int    // batches committed (tests); written only while holding the writer
}

// lockWriter waits for the writer connection, or for ctx to end.
func (s *Store) lockWriter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.wsem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWriter() { <-s.wsem }

// begin starts a write transaction (BEGIN IMMEDIATE: the write lock is taken
// at once), or joins the open batch. The caller must end it with commit or
// rollback.
func (s *Store) begin(ctx context.Context) (*wtx, error) {
	g := s.group
	if g == nil {
		if err := s.lockWriter(ctx); err != nil {
			return nil, err
		}
		if err := s.beginImmediate(ctx); err != nil {
			s.unlockWriter()
			return nil, err
		}
		return &wtx{ctx: ctx, stmtCtx: ctx, s: s}, nil
	}
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	err := s.lockWriter(ctx)
	g.mu.Lock()
	g.waiting--
	if err != nil {
		// The holder may have handed the writer on, with a batch open,
		// counting on this caller: whoever takes the writer now ends it.
		select {
		case s.wsem <- struct{}{}:
			g.mu.Unlock()
			s.handOn()
		default:
			g.mu.Unlock()
		}
		return nil, err
	}
	g.mu.Unlock()
	if err := ctx.Err(); err != nil {
		s.handOn()
		return nil, err
	}
	bg := context.WithoutCancel(ctx)
	if g.open == nil {
		if err := s.beginImmediate(ctx); err != nil {
			s.unlockWriter()
			return nil, err
		}
		g.open = &batch{done: make(chan struct{})}
	}
	if _, err := s.ws.savepoint.ExecContext(bg); err != nil {
		s.failBatch(err)
		s.handOn()
		return nil, err
	}
	return &wtx{ctx: ctx, stmtCtx: bg, s: s, batch: g.open}, nil
}

// beginImmediate takes SQLite's write lock, asking again every busyRetry
// while another process holds it (see "Busy handling" in sqlite.go), until
// ctx ends: then it fails with the busy error and ctx's.
func (s *Store) beginImmediate(ctx context.Context) error {
	for {
		// Not cancelled with ctx: SQLite's busy wait cannot be interrupted
		// anyway, and an interrupt arriving late could hit the next
		// statement on the connection; ctx is looked at between tries.
		_, err := s.ws.begin.ExecContext(context.WithoutCancel(ctx))
		if err == nil || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		t := time.NewTimer(busyRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// handOn gives up the writer: to the next waiting transaction if one is
// waiting and the open batch has room, else after committing the batch.
// The caller holds the writer.
func (s *Store) handOn() {
	g := s.group
	g.mu.Lock()
	b := g.open
	if b != nil && g.waiting > 0 && b.n < maxBatch {
		s.unlockWriter() // the batch stays open for the next holder
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	if b != nil {
		g.open = nil
		if b.n == 0 {
			s.ws.rollback.ExecContext(context.Background())
		} else if _, err := s.ws.commit.ExecContext(context.Background()); err != nil {
			s.ws.rollback.ExecContext(context.Background())
			b.err = fmt.Errorf("commit: %w", err)
		} else {
			g.commits++
		}
		close(b.done)
	}
	s.unlockWriter()
}

// failBatch rolls the open batch back after SQLite lost its transaction
// (a savepoint that cannot be released or rolled back to): every
// transaction of the batch fails with err. The caller holds the writer.
func (s *Store) failBatch(err error) {
	g := s.group
	b := g.open
	if b == nil {
		return
	}
	g.open = nil
	s.ws.rollback.ExecContext(context.Background()) // fails harmlessly if SQLite already rolled back
	b.err = fmt.Errorf("transaction rolled back with its batch: %w", err)
	close(b.done)
}

// commit commits the transaction. It does not look at the context: once the
// work is done, the outcome must not depend on a caller leaving at the last
// moment, or a committed booking could be reported as failed.
func (t *wtx) commit() error {
	if t.done {
		return errors.New("transaction already ended")
	}
	if t.batch == nil {
		_, err := t.s.ws.commit.ExecContext(context.Background())
		if err != nil {
			t.rollback()
			return err
		}
		t.done = true
		t.s.unlockWriter()
		return nil
	}
	t.done = true
	b := t.batch
	if _, err := t.s.ws.release.ExecContext(context.Background()); err != nil {
		t.s.failBatch(err)
		t.s.handOn()
		return err
	}
	b.n++
	t.s.handOn()
	// The batch commits when its last transaction is done; a caller whose
	// deadline comes first is answered that the outcome is not known yet
	// (it commits or fails with the batch all the same): sent again with
	// its idempotency key, the request then finds its booking.
	select {
	case <-b.done:
		return b.err
	case <-t.ctx.Done():
		return fmt.Errorf("waiting for the batch's commit, which may still succeed: %w", t.ctx.Err())
	}
}

// rollback ends the transaction without writing anything; it is a no-op
// after commit, so it can be deferred.
func (t *wtx) rollback() {
	if t.done {
		return
	}
	t.done = true
	bg := context.Background()
	if t.batch == nil {
		// Fails harmlessly ("no transaction is active") when SQLite has
		// already rolled back by itself, e.g. after an interrupt.
		t.s.ws.rollback.ExecContext(bg)
		t.s.unlockWriter()
		return
	}
	_, err := t.s.ws.rollbackTo.ExecContext(bg)
	if err == nil {
		_, err = t.s.ws.release.ExecContext(bg)
	}
	if err != nil {
		t.s.failBatch(err)
	}
	t.s.handOn()
}

// exec runs a prepared statement in the transaction and returns the number of
// rows it changed.
func (t *wtx) exec(st *sql.Stmt, args ...any) (int64, error) {
	if err := t.ctx.Err(); err != nil {
		return 0, err
	}
	res, err := st.ExecContext(t.stmtCtx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *wtx) row(st *sql.Stmt, args ...any) *sql.Row {
	return st.QueryRowContext(t.stmtCtx, args...)
}

// lockReader makes a read safe to run: a no-op with a reader pool, the writer
// lock for an in-memory database.
func (s *Store) lockReader(ctx context.Context) (unlock func(), err error) {
	if s.r != nil {
		return func() {}, nil
	}
	if err := s.lockWriter(ctx); err != nil {
		return nil, err
	}
	return s.unlockWriter, nil
}

// read is the storecheck.Query of a read that open starts, run while
// lockReader holds.
func (s *Store) read(ctx context.Context, open func() (*sql.Rows, error)) storecheck.Query {
	return func() (storecheck.Rows, func(), error) {
		unlock, err := s.lockReader(ctx)
		if err != nil {
			return nil, nil, err
		}
		rows, err := open()
		if err != nil {
			unlock()
			return nil, nil, err
		}
		return rows, func() { rows.Close(); unlock() }, nil
	}
}

// queryStmt is the storecheck.Query of prepared read statement st.
func (s *Store) queryStmt(ctx context.Context, st *sql.Stmt, args ...any) storecheck.Query {
	return s.read(ctx, func() (*sql.Rows, error) { return st.QueryContext(ctx, args...) })
}

// query is the storecheck.Query of a read that is not prepared ahead.
func (s *Store) query(ctx context.Context, query string, args ...any) storecheck.Query {
	return s.read(ctx, func() (*sql.Rows, error) {
		if s.r != nil {
			return s.r.QueryContext(ctx, query, args...)
		}
		return s.wc.QueryContext(ctx, query, args...)
	})
}

// queryRow runs a read of one row; done releases the reader once the row
// is scanned.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) (row *sql.Row, done func(), err error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.r != nil {
		return s.r.QueryRowContext(ctx, query, args...), unlock, nil
	}
	return s.wc.QueryRowContext(ctx, query, args...), unlock, nil
}
