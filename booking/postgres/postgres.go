// Package postgres is the booking.Store on PostgreSQL, through pgx and its
// connection pool. It stores what the SQLite store stores, with the same
// rules: bookings (one active booking per person per campaign), the number
// of bookings held per slot, vaccine supply, idempotency keys, identity
// booking sessions and the transactional outbox, with schema_migrations
// recording the applied migrations.
//
// It is the store for several nodes sharing one database: any number of
// sluice processes may Open the same database (and schema) at once. Every
// rule is enforced inside one PostgreSQL transaction per operation, with
// constraints as the last word; nothing relies on a process-local lock or
// cache. Open applies the embedded migrations under a transaction-scoped
// advisory lock, so nodes starting together migrate once.
//
// # Concurrency
//
// Transactions run at READ COMMITTED and never overbook because every
// counter is changed by a single conditional UPDATE, which takes the row
// lock and evaluates its condition on the newest committed version of the
// row: UPDATE slots ... WHERE booked < capacity, UPDATE
// vaccine_supply_shards ... WHERE used + 2 <= allocated (a slot's row is
// created by its first booking with INSERT ... ON CONFLICT DO NOTHING, and
// looked at again if another transaction created it first; the supply is
// striped over several rows, see "Vaccine supply" below). A second booking of the same slot waits
// for the first to commit or roll back and then sees its count; the lock is
// held until commit, so the count and the booking row become visible
// together. Second-dose candidates are read first (one query, no locks)
// and only those with room are tried (see places.TakeDose2). One active booking
// per person is the partial unique index: a concurrent insert of the same
// person waits for the first and then fails with a unique violation, mapped
// to booking.ErrAlreadyBooked. Concurrent Book calls with the same idempotency
// key are serialised by a transaction-scoped advisory lock on the key, so a
// retry waits for the first attempt and then returns its booking. Change
// and Cancel lock the booking row first (FOR NO KEY UPDATE), so two of them
// on one booking run one after the other.
//
// Row locks at READ COMMITTED rather than SERIALIZABLE: a crowd on one
// slot (the opening minute of a cohort) queues on one row lock instead of
// failing with serialization errors and retrying, with retries growing with
// the crowd.
//
// Row locks can deadlock when two transactions wait for each other's rows,
// and a deadlock stalls both (and everyone queued on their slots) until
// PostgreSQL notices, after deadlock_timeout (1 s by default). So the store
// takes its locks in chronological order of the slots wherever it can: Book
// and Cancel take the first dose's slot before the second's, and the
// vaccine supply after both; Book does not keep a full second-dose candidate
// locked while it tries the next (see places.TakeDose2); Change locks every slot it
// may touch at once, ordered by date and block, before changing any. The
// supply's own locks follow one order too (below). What remains (a booking
// whose second dose comes before its first, a Change racing the very first
// booking of a slot) PostgreSQL detects and breaks by aborting one
// transaction with SQLSTATE 40P01; the store then runs the operation again,
// as it does on a serialization failure (40001, which READ COMMITTED does
// not raise), up to maxAttempts times in all.
//
// # Vaccine supply
//
// A vaccine with a supply limit has a vaccine_supply row (the allocation as
// set, which Supply reports, 0 meaning no limit, and a debt, below) and
// supplyShards (16) rows in vaccine_supply_shards, its shards, each with an
// allocation and the doses used from it. Supply's used is the sum over the
// shards. A booking takes its 2 doses from one shard and records which
// (bookings.supply_shard), and a cancel gives them back to that shard; a
// Change takes and gives back nothing. A single counter row would be
// updated by every booking of the vaccine and, its lock being held until
// commit, would make them commit one at a time; with shards, concurrent
// bookings of a vaccine take different rows.
//
// Book (takeSupply) first takes the first shard with room that no other
// transaction holds, from a random start (FOR NO KEY UPDATE SKIP LOCKED in
// a subquery, the room checked again by the UPDATE). Only if every shard
// with room is held does it wait for them, in shard order; and only if that
// takes nothing either (none had room, or the ones it waited for were
// filled) does it lock every shard of the vaccine, in shard order, and
// decide on their newest versions. So a booking is refused with
// ErrSupplyExhausted only when no shard has room once the transactions
// holding them have ended, as with a single counter. The tries run after a
// savepoint and one that takes nothing rolls back to it, giving back the
// locks it kept on shards it found full.
//
// The shards never hold between them room for a booking that no single
// shard has: every shard's allocation is its use plus whole bookings (2
// doses each). And exactly as many bookings fit as with a single counter,
// never more: the shards' room together, less the debt, is
// 2*floor((allocated - used)/2). SetSupply locks every shard of the vaccine
// and spreads that room evenly over them, leaving the doses used where they
// are (a cancel gives them back there). If the new allocation is below the
// doses used, every shard is left full and the vaccine gets a debt (the
// doses used beyond the allocation, rounded up to whole bookings): each
// cancel then lowers its shard's allocation with its use and pays off the
// debt, under the lock of the vaccine_supply row, instead of making room,
// until the doses used fall below the allocation.
//
// Lock order for the supply: shards in shard order, then the vaccine_supply
// row. Book holds one shard, taken last (or, at exhaustion, all of them,
// locked in order), and never locks the vaccine_supply row; Cancel holds its
// booking's shard and then, if the vaccine has a debt, the vaccine_supply
// row; SetSupply locks every shard in order, then the vaccine_supply row.
// Bookings made before the supply was striped (migration 002) have no
// recorded shard: their doses were all put in shard 0, and a cancel gives
// them back there.
//
// # Differences from the SQLite store
//
//   - Text must be valid UTF-8 without NUL bytes (PostgreSQL cannot store
//     anything else). Such input is refused with ErrInvalid, where SQLite
//     would store it; a booking number or vaccine id that could not be stored
//     is simply not found.
//   - Outbox message ids come from an identity sequence: increasing in the
//     order messages are written, but with gaps (a rolled-back transaction
//     consumes ids), and a transaction may commit after one that took a
//     larger id. PendingMessages, which selects on sent_at, is not affected;
//     a consumer must not page through the outbox by "id > last seen".
//   - Under concurrency a Book judges its second-dose candidates on one read:
//     a place freed in a preferred candidate by a transaction that commits
//     during the Book is not seen, and a later candidate is taken. SQLite
//     runs one write transaction at a time and cannot have this.
//   - An operation PostgreSQL aborts (deadlock) is run again, so the
//     SlotCapacity function may be called more than once for a slot.
//   - Durability is the server's: a commit is durable when the server's
//     synchronous_commit says so (on, the default, means fsynced WAL).
//   - Dates are PostgreSQL dates (SQLite: 'YYYY-MM-DD' text) and a missing
//     birth date is NULL; instants are bigint unix nanoseconds in both, so a
//     time.Time makes the round trip unchanged.
//
// # Deadlines
//
// Every statement runs under the caller's context, whose deadline (the
// request's) pgx enforces by cancelling the statement. The server enforces
// its own bounds too, set on every connection unless the URL sets them
// (Timeouts): statement_timeout, lock_timeout (a statement waiting for a
// lock longer fails at once with 55P03, the connection still usable), and
// idle_in_transaction_session_timeout (a transaction left open by a node
// that hangs is ended, its locks freed). A COMMIT is not cancelled when
// the caller leaves, but it ends at the caller's deadline: its outcome is
// then unknown, reported as booking.ErrUnavailable, and a request sent
// again with its idempotency key finds out. Errors that say the database
// cannot serve now (unreachable, refusing connections, shutting down,
// timeouts, locks not granted) are booking.ErrUnavailable too
// (unavailable).
//
// The pool has pgxpool's defaults (at most max(4, runtime.NumCPU()) connections);
// pool_max_conns and the other pgxpool settings may be given in the URL.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// ErrInvalid is wrapped by errors about bad input (an empty person key, a
// zero slot, a missing capacity function, a bad URL, ...). Such calls change
// nothing.
var ErrInvalid = storecheck.ErrInvalid

//go:embed migrations/*.sql
var migrationFS embed.FS

// maxAttempts bounds how often one operation is run when PostgreSQL aborts
// it with a deadlock or serialization failure.
const maxAttempts = 5

// commitTimeout bounds a COMMIT of a caller without a deadline. A COMMIT
// runs without the caller's cancellation (once the work is done the
// outcome must not depend on a caller leaving at the last moment, or a
// committed booking could be reported as failed) but not past the
// caller's deadline.
const commitTimeout = 30 * time.Second

// rollbackTimeout bounds a ROLLBACK (also run without the caller's
// cancellation, which may be why the transaction is being rolled back).
const rollbackTimeout = 5 * time.Second

// SQLSTATE codes the store reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Constraint names the store maps to booking errors (see the migrations).
const (
	constraintOneActivePerPerson = "bookings_one_active_per_person"
	constraintIdempotencyKey     = "idempotency_keys_pkey"
)

// Store is a booking.Store on PostgreSQL. It is safe for concurrent use, and
// several Stores (in several processes) may share one database.
type Store struct {
	pool *pgxpool.Pool

	now       func() time.Time
	newNumber func() string

	closeOnce sync.Once
}

var _ booking.Store = (*Store)(nil)

// Timeouts are the server-side bounds set on every connection (see
// "Deadlines" in the package comment). A zero field takes its default; a
// parameter of the same name in the URL wins.
type Timeouts struct {
	// Statement is statement_timeout (default DefaultStatementTimeout).
	Statement time.Duration
	// Lock is lock_timeout (default DefaultLockTimeout).
	Lock time.Duration
}

// Defaults of Timeouts: a request's deadline is 10 s by default
// (request_timeout), and a statement should not outlive it; a lock not
// granted in 5 s means a queue too deep to join, answered "try again".
const (
	DefaultStatementTimeout = 10 * time.Second
	DefaultLockTimeout      = 5 * time.Second
)

// Open connects to the database at url (postgres://user:password@host:port/db?...
// or postgresql://...), checks the connection and applies pending
// migrations. Parameters pgx does not know (search_path=..., say) are sent
// to the server as run-time parameters. Error messages show the URL with its
// password masked.
func Open(ctx context.Context, url string, t Timeouts) (*Store, error) {
	safe, secrets, err := checkURL(url)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx masks the password in the connection string it quotes, but the
		// error it wraps is not guaranteed to: keep only the scrubbed text.
		return nil, fmt.Errorf("postgres: open %s: %w: %s", safe, ErrInvalid, scrub(err.Error(), secrets))
	}
	// The store's reasoning (see the package comment) is for READ COMMITTED;
	// do not inherit a stricter default from the server or the role.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	if t.Statement <= 0 {
		t.Statement = DefaultStatementTimeout
	}
	if t.Lock <= 0 {
		t.Lock = DefaultLockTimeout
	}
	for name, d := range map[string]time.Duration{
		"statement_timeout":                   t.Statement,
		"lock_timeout":                        t.Lock,
		"idle_in_transaction_session_timeout": max(2*t.Statement, 30*time.Second),
	} {
		if _, set := cfg.ConnConfig.RuntimeParams[name]; !set {
			cfg.ConnConfig.RuntimeParams[name] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, openErr(safe, secrets, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, openErr(safe, secrets, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, openErr(safe, secrets, err)
	}
	return &Store{pool: pool, now: time.Now, newNumber: NewNumber}, nil
}

// Close closes the pool, waiting for connections in use to be returned.
// Committed bookings are already durable; Close only releases connections.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// checkURL accepts only postgres:// and postgresql:// URLs and returns the
// URL with its passwords masked, for messages, and the passwords themselves,
// to scrub from any text quoted from elsewhere.
func checkURL(raw string) (safe string, secrets []string, err error) {
	if raw == "" {
		return "", nil, fmt.Errorf("postgres: open: %w: empty database URL", ErrInvalid)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the
		// reason.
		var ue *url.Error
		reason := "malformed URL"
		if errors.As(err, &ue) {
			reason = ue.Err.Error()
		}
		return "", nil, fmt.Errorf("postgres: open: %w: bad database URL: %s", ErrInvalid, reason)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		// Not a URL we understand, so no telling where a password would be:
		// quote nothing of it but the scheme.
		return "", nil, fmt.Errorf("postgres: open: %w: want a postgres:// or postgresql:// URL, got scheme %q", ErrInvalid, u.Scheme)
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		secrets = append(secrets, pw)
	}
	q := u.Query()
	masked := false
	for k, vs := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			for i, v := range vs {
				if v != "" {
					secrets = append(secrets, v)
				}
				vs[i] = "xxxxx"
			}
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return scrub(u.Redacted(), secrets), secrets, nil
}

// scrub masks every occurrence of the secrets (raw and URL-escaped) in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), url.UserPassword("", sec).String()[1:]} {
			if form != "" {
				s = strings.ReplaceAll(s, form, "xxxxx")
			}
		}
	}
	return s
}

// openError is an error from Open whose message has been scrubbed of the
// password. It unwraps to the cause, so that errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, **pgconn.PgError) work.
type openError struct {
	msg   string
	cause error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.cause }

func openErr(safe string, secrets []string, err error) error {
	return &openError{msg: scrub(fmt.Sprintf("postgres: open %s: %v", safe, err), secrets), cause: err}
}

// migrationLock is the transaction-scoped advisory lock that serialises
// migrations of one schema (the first of the search_path) across every
// process opening the database at once.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtextextended('sluice/booking/postgres migrate ' || coalesce(current_schema(), ''), 0))`

// noMigrationTimeouts lifts the connections' timeouts for a migration's
// transaction (it may wait for another node's migration, and rewrite a big
// table); Open's context bounds it.
const noMigrationTimeouts = `SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0`

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies the embedded migrations/NNN_name.sql files that are not yet
// recorded in schema_migrations, in order, each in its own transaction under
// migrationLock: a process that finds another migrating waits for it and
// then finds the migration recorded.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := storecheck.Migrations(migrationFS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, noMigrationTimeouts); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return err
		}
		var newest *int32
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil || newest == nil {
			return err
		}
		return storecheck.CheckSchemaVersion(int(*newest), ms)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, pool, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, pool *pgxpool.Pool, m storecheck.Migration) error {
	body, err := migrationFS.ReadFile("migrations/" + m.Name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, noMigrationTimeouts); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// No arguments: pgx sends the file with the simple protocol, which
		// runs several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
}

// query is the storecheck.Query of a read on the pool, outside any
// transaction.
func (s *Store) query(ctx context.Context, sql string, args ...any) storecheck.Query {
	return func() (storecheck.Rows, func(), error) {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, nil, err
		}
		return rows, rows.Close, nil
	}
}

// errRetry asks inTx to run the transaction again.
var errRetry = errors.New("retry")

// inTx runs fn in a READ COMMITTED transaction and commits it if fn returns
// nil. If PostgreSQL aborts the transaction with a deadlock or serialization
// failure (or fn returns errRetry), it runs fn again in a new transaction,
// maxAttempts times in all; fn must therefore start from scratch each time.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || !retryable(err) || attempt >= maxAttempts || ctx.Err() != nil {
			return err
		}
		// A short random pause so that the transactions that collided do
		// not collide again in step.
		pause := time.Duration(attempt) * (time.Millisecond + rand.N(4*time.Millisecond))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return err
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			// Fails harmlessly when the connection broke (pgx then closes
			// it and the pool drops it).
			tx.Rollback(rctx)
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		return err
	}
	committed = true
	return nil
}

// commitContext is the context of a COMMIT: not cancelled with ctx, but
// ending at its deadline (commitTimeout from now if it has none).
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeSerializationFailure, codeDeadlockDetected:
			return true
		}
	}
	return false
}

// uniqueViolation reports whether err is a unique violation of constraint.
func uniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == constraint
}

// fail turns an error from a store operation into the error returned to the
// caller (storecheck.Wrap).
func fail(ctx context.Context, op string, err error) error {
	return storecheck.Wrap(ctx, "postgres", op, err, unavailable)
}

// failed is fail for an operation that returns a booking
// (storecheck.Failed).
func failed(ctx context.Context, op string) func(booking.Booking, error) (booking.Booking, error) {
	return storecheck.Failed(ctx, "postgres", op, unavailable)
}

// unavailable reports whether err says the database cannot serve now
// rather than that the request is wrong: no connection (refused, reset,
// closed, timed out), the server shutting down or out of resources, a
// statement cancelled by statement_timeout, a lock not granted within
// lock_timeout, and deadlocks or serialization failures that went on
// through every retry.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources
			strings.HasPrefix(pe.Code, "57"), // operator intervention: query_canceled (statement_timeout), admin_shutdown, cannot_connect_now
			pe.Code == "55P03",               // lock_not_available (lock_timeout)
			pe.Code == codeDeadlockDetected, pe.Code == codeSerializationFailure:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// storable reports whether PostgreSQL can hold s in a text column: valid
// UTF-8 without NUL bytes.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// checkText refuses text PostgreSQL cannot store.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if !storable(fields[i+1]) {
			return fmt.Errorf("%w: %s is not valid UTF-8 text without NUL bytes", ErrInvalid, fields[i])
		}
	}
	return nil
}
