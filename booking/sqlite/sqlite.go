// Package sqlite is the embedded default booking.Store, on SQLite through the
// pure-Go driver modernc.org/sqlite.
//
// Every rule of the store (capacity, one active booking per person per
// campaign, vaccine supply, idempotency, the transactional outbox) is enforced
// inside one database transaction per operation, with constraints as the last
// word; nothing relies on a cache.
//
// Durability: a file database runs in WAL mode with synchronous=FULL, so the
// WAL is fsynced at every commit and a booking that Book returned survives a
// process crash, an OS crash and a power cut. synchronous=NORMAL would also
// survive a process crash but may lose the last transactions on power loss;
// because a confirmation message may be delivered as soon as the booking
// commits, a lost booking would be a message about a booking that does not
// exist (the 2021 failure we exist to prevent), so FULL is the default. On
// the development VM a booking commit took about 0.8 ms with FULL against
// 0.4 ms with NORMAL; see TestBookingCommitRatio in bench_test.go.
//
// Writes go through one dedicated connection (SQLite allows one writer at a
// time anyway; queueing in Go, where waiting honours the context, is cheaper
// than lock retries in SQLite), with every statement prepared once on it,
// BEGIN IMMEDIATE and COMMIT included, so a transaction never has to upgrade
// a read lock and no SQL is compiled on the hot path. Reads of a file
// database use a separate pool of read-only connections, which in WAL mode
// never block and are never blocked by the writer. An in-memory database is
// a single connection, so there reads queue with the writes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// ErrInvalid is wrapped by errors about bad input (an empty person key, a
// zero slot, a missing capacity function, ...). Such calls change nothing.
var ErrInvalid = storecheck.ErrInvalid

// Memory is the path that opens a private in-memory database (one per Open).
const Memory = ":memory:"

// synchronous is the PRAGMA synchronous of file databases. It is a variable
// only so that the benchmarks can measure NORMAL against FULL.
var synchronous = "FULL"

// walAutocheckpoint is PRAGMA wal_autocheckpoint (pages) of file databases:
// SQLite's default, stated so that the store and the benchmark baseline
// share it.
const walAutocheckpoint = 1000

// Busy handling. Another process holding the database's write lock (a
// backup, a sqlite3 shell left in a transaction) makes SQLite wait in its
// busy handler, which no context can interrupt. So SQLite waits only
// briefly: busyTimeout while opening (migrations, which may wait for
// another process migrating) and on the read connections, writerBusyTimeout
// on the writer once open; the writer's BEGIN IMMEDIATE is asked again every
// busyRetry while the caller's deadline allows (beginImmediate), and then
// fails with SQLITE_BUSY and the deadline, reported as
// booking.ErrUnavailable. A request is answered by its deadline however
// long the lock is held.
const (
	busyTimeout       = 5 * time.Second
	readerBusyTimeout = time.Second
	writerBusyTimeout = 50 * time.Millisecond
	busyRetry         = 20 * time.Millisecond
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a booking.Store on SQLite. It is safe for concurrent use.
type Store struct {
	w    *sql.DB       // pool of exactly one connection: wc
	wc   *sql.Conn     // the writer connection, held for the life of the Store
	wsem chan struct{} // held while a transaction (or, in memory, a read) uses wc
	r    *sql.DB       // read-only pool; nil for in-memory databases (reads use wc)

	ws writeStmts // prepared on wc
	rs readStmts  // prepared on r, or on wc in memory

	// group shares COMMITs between concurrent transactions (file
	// databases; see batch in stmts.go). nil: each commits alone.
	group *groupCommit

	now       func() time.Time
	newNumber func() string

	closeOnce sync.Once
	closeErr  error
}

var _ booking.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, or a private
// in-memory database if path is ":memory:", and applies pending migrations.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: %w: empty path", ErrInvalid)
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: %w: give a plain file path or %q", path, ErrInvalid, Memory)
	}
	s := &Store{now: time.Now, newNumber: NewNumber, wsem: make(chan struct{}, 1)}
	w, err := sql.Open("sqlite", writerDSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection, kept for the life of the Store: for ":memory:" it *is*
	// the database.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	ctx := context.Background()
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if s.wc, err = w.Conn(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if _, err := s.wc.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(writerBusyTimeout.Milliseconds(), 10)); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if path != Memory {
		s.group = &groupCommit{}
		r, err := sql.Open("sqlite", readerDSN(path))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		s.r = r
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// writerDSN configures the writer connection. _txlock=immediate makes
// database/sql transactions (migrations, the benchmark baseline) start with
// BEGIN IMMEDIATE like the store's own.
func writerDSN(path string) string {
	q := "_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
	if path != Memory {
		q += "&_pragma=journal_mode(WAL)&_pragma=synchronous(" + synchronous + ")" +
			"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walAutocheckpoint) + ")"
	}
	return path + "?" + q
}

func readerDSN(path string) string {
	return path + "?_pragma=busy_timeout(" + strconv.FormatInt(readerBusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)&_pragma=query_only(1)"
}

// Close closes the database. Committed bookings are already durable; Close
// only releases connections (and checkpoints the WAL).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, st := range s.ws.all() {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		for _, st := range s.rs.all() {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.wc != nil {
			errs = append(errs, s.wc.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// migrate applies the embedded migrations/NNN_name.sql files that are not yet
// recorded in schema_migrations, in order, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := storecheck.Migrations(migrationFS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := storecheck.CheckSchemaVersion(int(newest.Int64), ms); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m.Version, m.Name); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, name string) error {
	body, err := migrationFS.ReadFile("migrations/" + name)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: another process migrating waits
	if err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	return nil
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// fail turns an error from a store operation into the error returned to the
// caller (storecheck.Wrap).
func fail(ctx context.Context, op string, err error) error {
	return storecheck.Wrap(ctx, "sqlite", op, err, unavailable)
}

// failed is fail for an operation that returns a booking
// (storecheck.Failed).
func failed(ctx context.Context, op string) func(booking.Booking, error) (booking.Booking, error) {
	return storecheck.Failed(ctx, "sqlite", op, unavailable)
}

// unavailable reports whether err says the database cannot serve now
// rather than that the request is wrong: locked by another process past
// busyTimeout, out of disk or memory, an I/O error, a file it cannot open.
func unavailable(err error) bool {
	switch sqliteCode(err) & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}
