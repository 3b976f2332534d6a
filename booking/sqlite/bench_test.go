package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/internal/testenv"
)

// The booking commit benchmark compares Store.Book with a bare SQLite
// transaction of the same shape, on the same kind of database file (the
// store's own schema, same pragmas, same single writer connection, prepared
// statements):
//
//	bare:  BEGIN IMMEDIATE; conditional capacity UPSERT on slots; INSERT bookings; COMMIT
//	store: Store.Book, a distinct person each time, one dose-2 candidate, a vaccine with supply
//
// Run:
//
//	go test -run '^$' -bench BookingCommit ./booking/sqlite/
//	SLUICE_BENCH=1 go test -run TestBookingCommitRatio -v ./booking/sqlite/

const benchCapacity = 1 << 30

var (
	benchDose1 = booking.Slot{ClinicID: 1, Date: booking.Date{Year: 2021, Month: time.August, Day: 26}, Block: 3}
	benchDose2 = booking.Slot{ClinicID: 1, Date: booking.Date{Year: 2021, Month: time.October, Day: 7}, Block: 3}
)

func BenchmarkBookingCommit(b *testing.B) {
	b.Run("bare", func(b *testing.B) { runBench(b, newBare(b, b.TempDir())) })
	b.Run("store", func(b *testing.B) { runBench(b, newStoreOp(b, b.TempDir(), false)) })
}

func runBench(b *testing.B, op func(i int) error) {
	for i := 0; b.Loop(); i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPersonKey(i int) string { return fmt.Sprintf("%064x", i) }

// newBare returns one bare booking transaction per call, on a database file
// with the store's schema and the store's writer pragmas.
// The bare booking transaction's two statements, and the values they take
// for commit i.
const (
	bareSlotUpsert = `INSERT INTO slots (clinic_id, date, block, booked) VALUES (?1, ?2, ?3, 1)
		ON CONFLICT (clinic_id, date, block) DO UPDATE SET booked = booked + 1 WHERE booked < ?4`
	bareBookingInsert = `INSERT INTO bookings (` + bookingColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func bareSlotArgs() []any {
	d1 := benchDose1
	return []any{d1.ClinicID, d1.Date.String(), int64(d1.Block), benchCapacity}
}

func bareBookingArgs(i int) []any {
	d1, d2 := benchDose1, benchDose2
	now := time.Now().UnixNano()
	pk := benchPersonKey(i)
	return []any{NewNumber(), "c", "18-49", "pfizer", pk, "Name", "01012345678", "1985-03-09", pk,
		d1.ClinicID, d1.Date.String(), int64(d1.Block), d2.ClinicID, d2.Date.String(), int64(d2.Block),
		"booked", 2, now, now, ""}
}

// openBare opens a database file named name in dir with the store's schema,
// through one connection with the store's writer pragmas.
func openBare(tb testing.TB, dir, name string) *sql.DB {
	path := filepath.Join(dir, name)
	s, err := Open(path) // same schema
	if err != nil {
		tb.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", writerDSN(path))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

func newBare(tb testing.TB, dir string) func(i int) error {
	db := openBare(tb, dir, "bare.db")
	upsert, err := db.Prepare(bareSlotUpsert)
	if err != nil {
		tb.Fatal(err)
	}
	insert, err := db.Prepare(bareBookingInsert)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	return func(i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		res, err := tx.StmtContext(ctx, upsert).ExecContext(ctx, bareSlotArgs()...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return booking.ErrSlotFull
		}
		if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, bareBookingArgs(i)...); err != nil {
			return err
		}
		return tx.Commit()
	}
}

// newBareConn is newBare written the way the store talks to SQLite: a held
// connection with BEGIN IMMEDIATE and COMMIT prepared once instead of
// database/sql's Tx. It is the stricter floor, logged by the ratio test.
func newBareConn(tb testing.TB, dir string) func(i int) error {
	db := openBare(tb, dir, "bareconn.db")
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	prep := func(q string) *sql.Stmt {
		st, err := c.PrepareContext(ctx, q)
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}
	begin, commit, rollback := prep("BEGIN IMMEDIATE"), prep("COMMIT"), prep("ROLLBACK")
	upsert, insert := prep(bareSlotUpsert), prep(bareBookingInsert)
	return func(i int) (err error) {
		if _, err := begin.ExecContext(ctx); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				rollback.ExecContext(ctx)
			}
		}()
		res, err := upsert.ExecContext(ctx, bareSlotArgs()...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return booking.ErrSlotFull
		}
		if _, err := insert.ExecContext(ctx, bareBookingArgs(i)...); err != nil {
			return err
		}
		_, err = commit.ExecContext(ctx)
		return err
	}
}

// newStoreOp returns one Store.Book per call: a distinct person each time,
// one dose-2 candidate, a vaccine with a supply limit.
func newStoreOp(tb testing.TB, dir string, idempotent bool) func(i int) error {
	s, err := Open(filepath.Join(dir, "store.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.SetSupply(ctx, "pfizer", 2*benchCapacity); err != nil {
		tb.Fatal(err)
	}
	capacity := func(booking.Slot) int { return benchCapacity }
	cands := []booking.Slot{benchDose2}
	return func(i int) error {
		pk := benchPersonKey(i)
		req := booking.BookRequest{
			Booking: booking.Booking{
				CampaignID: "c", CohortID: "18-49", VaccineID: "pfizer", PersonKey: pk,
				Name: "Name", Phone: "01012345678", BirthDate: booking.Date{Year: 1985, Month: time.March, Day: 9},
				Dose1: booking.Appointment{Slot: benchDose1},
			},
			Dose2Candidates: cands,
			SlotCapacity:    capacity,
			Confirmation:    booking.Message{Body: "Your booking is confirmed"},
		}
		if idempotent {
			req.IdempotencyKey = pk
		}
		_, err := s.Book(ctx, req)
		return err
	}
}

// TestBookingCommitRatio measures store/bare throughput under
// synchronous=FULL (the default) and NORMAL and logs "ratio store/bare".
//
// On a shared machine the load from other processes changes from second to
// second, so timing one benchmark after the other compares different
// machines. Here the kinds of commit are interleaved one by one: commit i of
// every kind runs back to back, in an order rotated each time so that no kind
// always goes first, and each kind's time is summed. The ratio is bare time /
// store time (throughput of the store relative to bare). The spread is the
// range of the same ratio over blocks of 100 commits. A testing.Benchmark
// pair, one after the other, is logged too.
//
// SLUICE_BENCH_N sets the number of commits of each kind (default 3000).
func TestBookingCommitRatio(t *testing.T) {
	testenv.Bench(t)
	n := testenv.PositiveInt("SLUICE_BENCH_N", 3000)
	defer func(old string) { synchronous = old }(synchronous)
	const block = 100
	for _, mode := range []string{"FULL", "NORMAL"} {
		synchronous = mode
		names := []string{"bare", "store", "store+idempotency key", "bare-conn"}
		ops := []func(int) error{
			newBare(t, t.TempDir()), newStoreOp(t, t.TempDir(), false),
			newStoreOp(t, t.TempDir(), true), newBareConn(t, t.TempDir()),
		}
		total := make([]time.Duration, len(ops))
		blockTotal := make([]time.Duration, len(ops))
		var blockRatios []float64
		for i := range n {
			for j := range ops {
				k := (i + j) % len(ops)
				start := time.Now()
				if err := ops[k](i); err != nil {
					t.Fatalf("%s: %v", names[k], err)
				}
				d := time.Since(start)
				total[k] += d
				blockTotal[k] += d
			}
			if (i+1)%block == 0 {
				blockRatios = append(blockRatios, float64(blockTotal[0])/float64(blockTotal[1]))
				clear(blockTotal)
			}
		}
		for k, name := range names {
			per := total[k] / time.Duration(n)
			t.Logf("synchronous=%s: %-22s %10v/op %6.0f commits/s", mode, name, per, float64(time.Second)/float64(per))
		}
		ratio := float64(total[0]) / float64(total[1])
		spread := ""
		if len(blockRatios) > 0 {
			spread = fmt.Sprintf(" (blocks of %d: median %.2f, min %.2f, max %.2f)", block,
				median(blockRatios), slices.Min(blockRatios), slices.Max(blockRatios))
		}
		t.Logf("synchronous=%s: ratio store/bare = %.2f%s", mode, ratio, spread)
		t.Logf("synchronous=%s: ratio store+idempotency key/bare = %.2f, store/bare-conn = %.2f",
			mode, float64(total[0])/float64(total[2]), float64(total[3])/float64(total[1]))
		if mode == "FULL" && ratio < 0.7 {
			t.Errorf("synchronous=FULL: store/bare throughput %.2f, target >= 0.7", ratio)
		}
	}
	synchronous = "FULL"
	bare := testing.Benchmark(func(b *testing.B) { runBench(b, newBare(b, b.TempDir())) })
	store := testing.Benchmark(func(b *testing.B) { runBench(b, newStoreOp(b, b.TempDir(), false)) })
	t.Logf("synchronous=FULL, testing.Benchmark one after the other (noisier): bare %v/op, store %v/op, ratio %.2f",
		time.Duration(bare.NsPerOp()), time.Duration(store.NsPerOp()), float64(bare.NsPerOp())/float64(store.NsPerOp()))
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
