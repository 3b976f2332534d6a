package postgres_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/postgres"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/testenv"
)

// The booking commit benchmark compares Store.Book with a bare PostgreSQL
// transaction of the same shape, on the same kind of database (a schema with
// the store's migrations applied, a pgxpool with the store's settings: pool
// defaults, READ COMMITTED, pgx's per-connection statement cache):
//
//	bare:  BEGIN; conditional capacity upsert on slots; INSERT bookings; COMMIT
//	store: Store.Book, a distinct person each time, one dose-2 candidate, a vaccine with supply
//
// Each kind runs in a schema of its own, so that neither queues on the
// other's rows.
//
// Run:
//
//	go test -run '^$' -bench BookingCommit ./booking/postgres/
//	SLUICE_BENCH=1 go test -run TestBookingCommitRatio -v -count=1 ./booking/postgres/

const benchCapacity = 1 << 30

// benchSlotCount is the number of dose-1 slots the concurrent bookings are
// spread over; benchSerialSlot is the one slot of the serial runs.
const (
	benchSlotCount  = 64
	benchSerialSlot = 3
)

var (
	benchDose1Date = booking.Date{Year: 2021, Month: time.August, Day: 26}
	benchDose2Date = booking.Date{Year: 2021, Month: time.October, Day: 7}
	benchBirthDate = booking.Date{Year: 1985, Month: time.March, Day: 9}
)

// benchSlots returns the k-th dose-1 slot (k in 0..benchSlotCount-1: eight
// clinics of eight blocks) and its dose-2 slot, six weeks later at the same
// clinic and block. Slot 3 is clinic 1, block 3.
func benchSlots(k int) (dose1, dose2 booking.Slot) {
	c, b := int64(1+k/booking.BlocksPerDay), booking.TimeBlock(k%booking.BlocksPerDay)
	return booking.Slot{ClinicID: c, Date: benchDose1Date, Block: b},
		booking.Slot{ClinicID: c, Date: benchDose2Date, Block: b}
}

// benchSeq numbers the people (and the bare bookings) of the whole process,
// so that every booking is of a distinct person.
var benchSeq atomic.Int64

func benchPersonKey(i int64) string { return fmt.Sprintf("%064x", i) }

// bookOp commits one booking of a new person at dose-1 slot k (see
// benchSlots).
type bookOp func(k int) error

func BenchmarkBookingCommit(b *testing.B) {
	b.Run("bare", func(b *testing.B) { runBench(b, newBare(b, freshSchema(b))) })
	b.Run("store", func(b *testing.B) { runBench(b, newStoreOp(b, freshSchema(b))) })
}

func runBench(b *testing.B, op bookOp) {
	for b.Loop() {
		if err := op(benchSerialSlot); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPgDate(d booking.Date) pgtype.Date {
	return pgtype.Date{Time: time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC), Valid: true}
}

// newBare returns one bare booking transaction per call, in the schema at
// dbURL (migrated by opening a store on it), through a pool configured as
// the store configures its own.
func newBare(tb testing.TB, dbURL string) bookOp {
	ctx := context.Background()
	s, err := postgres.Open(ctx, dbURL, postgres.Timeouts{}) // same schema
	if err != nil {
		tb.Fatal(err)
	}
	s.Close()
	pool := newBarePool(tb, dbURL)
	const upsert = `INSERT INTO slots (clinic_id, date, block, booked) VALUES ($1, $2, $3, 1)
		ON CONFLICT (clinic_id, date, block) DO UPDATE SET booked = slots.booked + 1 WHERE slots.booked < $4`
	const insert = `INSERT INTO bookings (number, campaign_id, cohort_id, vaccine_id, person_key, name, phone, birth_date, booked_by,
		dose1_clinic, dose1_date, dose1_block, dose2_clinic, dose2_date, dose2_block,
		status, supply_doses, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
	birth := benchPgDate(benchBirthDate)
	return func(k int) error {
		d1, d2 := benchSlots(k)
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) // no-op after Commit
		tag, err := tx.Exec(ctx, upsert, d1.ClinicID, benchPgDate(d1.Date), int32(d1.Block), int64(benchCapacity))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return booking.ErrSlotFull
		}
		i := benchSeq.Add(1)
		pk := benchPersonKey(i)
		// A number from the sequence, shaped like the store's: unique, so
		// the plain INSERT never collides.
		number := fmt.Sprintf("SLC-%04X-%04X", (i>>16)&0xffff, i&0xffff)
		now := time.Now().UnixNano()
		if _, err := tx.Exec(ctx, insert,
			number, "c", "18-49", "pfizer", pk, "Name", "01012345678", birth, pk,
			d1.ClinicID, benchPgDate(d1.Date), int32(d1.Block), d2.ClinicID, benchPgDate(d2.Date), int32(d2.Block),
			"booked", int32(2), now, now); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
}

// newBarePool opens a pool with the settings Open gives the store's.
func newBarePool(tb testing.TB, dbURL string) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newStoreOp returns one Store.Book per call: a distinct person each time,
// one dose-2 candidate, a vaccine with a supply limit.
func newStoreOp(tb testing.TB, dbURL string) bookOp {
	ctx := context.Background()
	s, err := postgres.Open(ctx, dbURL, postgres.Timeouts{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.SetSupply(ctx, "pfizer", 2*benchCapacity); err != nil {
		tb.Fatal(err)
	}
	capacity := func(booking.Slot) int { return benchCapacity }
	var cands [benchSlotCount][]booking.Slot
	for k := range cands {
		_, d2 := benchSlots(k)
		cands[k] = []booking.Slot{d2}
	}
	return func(k int) error {
		d1, _ := benchSlots(k)
		req := booking.BookRequest{
			Booking: booking.Booking{
				CampaignID: "c", CohortID: "18-49", VaccineID: "pfizer", PersonKey: benchPersonKey(benchSeq.Add(1)),
				Name: "Name", Phone: "01012345678", BirthDate: benchBirthDate,
				Dose1: booking.Appointment{Slot: d1},
			},
			Dose2Candidates: cands[k],
			SlotCapacity:    capacity,
			Confirmation:    booking.Message{Body: "Your booking is confirmed"},
		}
		_, err := s.Book(ctx, req)
		return err
	}
}

// measure runs op from the given number of goroutines for about d and
// returns the commits per second. With one goroutine every booking is at
// benchSerialSlot; with several, goroutine g books slots g, g+workers,
// g+2*workers, ... (mod benchSlotCount) in turn, so that no two goroutines
// book the same dose-1 (or dose-2) slot and none waits on another's slot
// row lock. It stops at the first error.
func measure(op bookOp, workers int, d time.Duration) (float64, error) {
	var (
		commits  atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for g := range workers {
		wg.Go(func() {
			for j := 0; !failed.Load() && time.Now().Before(deadline); j++ {
				k := benchSerialSlot
				if workers > 1 {
					k = (g + j*workers) % benchSlotCount
				}
				if err := op(k); err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
				commits.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(commits.Load()) / time.Since(start).Seconds(), firstErr
}

// TestBookingCommitRatio measures the throughput (commits/s) of the store
// relative to bare, serially and with 16 goroutines booking at once, and
// logs "ratio store/bare".
//
// On a shared machine the load from other processes changes from second to
// second, so timing one benchmark after the other compares different
// machines. Here the two kinds run in interleaved rounds of a fixed duration
// (bare then store, store then bare, ...), each after an untimed warm-up,
// and the medians over the rounds are compared; the median of the per-round
// ratios is logged too. Nothing is asserted about the times: the test fails
// only on errors.
//
// SLUICE_BENCH_ROUNDS sets the number of rounds (default 5),
// SLUICE_BENCH_ROUND the duration of one kind's run in a round (default 2s).
func TestBookingCommitRatio(t *testing.T) {
	testenv.Bench(t)
	rounds := testenv.PositiveInt("SLUICE_BENCH_ROUNDS", 5)
	round := testenv.PositiveDuration("SLUICE_BENCH_ROUND", 2*time.Second)
	base := pgtest.ServerURL(t)
	var version, syncCommit string
	conn := pgtest.Connect(t, base)
	ctx := context.Background()
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit')`).
		Scan(&version, &syncCommit); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s, synchronous_commit=%s; %d CPUs, GOMAXPROCS %d; %d rounds of %v per kind",
		version, syncCommit, runtime.NumCPU(), runtime.GOMAXPROCS(0), rounds, round)

	names := []string{"bare", "store"}
	summary := map[string]float64{}
	for _, mode := range []struct {
		name    string
		workers int
	}{{"serial", 1}, {"concurrent", 16}} {
		t.Run(mode.name, func(t *testing.T) {
			bareURL := freshSchema(t)
			ops := []bookOp{newBare(t, bareURL), newStoreOp(t, freshSchema(t))}
			cfg, err := pgxpool.ParseConfig(bareURL) // what both pools get
			if err != nil {
				t.Fatal(err)
			}
			maxConns := cfg.MaxConns
			for k, op := range ops {
				if _, err := measure(op, mode.workers, round/5); err != nil {
					t.Fatalf("%s warm-up: %v", names[k], err)
				}
			}
			rates := make([][]float64, len(ops))
			var ratios []float64
			for r := range rounds {
				for j := range ops {
					k := (r + j) % len(ops)
					rate, err := measure(ops[k], mode.workers, round)
					if err != nil {
						t.Fatalf("round %d, %s: %v", r+1, names[k], err)
					}
					rates[k] = append(rates[k], rate)
				}
				ratios = append(ratios, rates[1][r]/rates[0][r])
			}
			var tbl strings.Builder
			fmt.Fprintf(&tbl, "%s: %d goroutine(s), pool max %d connections (each), %d rounds of %v, commits/s\n",
				mode.name, mode.workers, maxConns, rounds, round)
			fmt.Fprintf(&tbl, "    %-8s %10s %10s %12s\n", "round", "bare", "store", "store/bare")
			for r := range rounds {
				fmt.Fprintf(&tbl, "    %-8d %10.0f %10.0f %12.2f\n", r+1, rates[0][r], rates[1][r], ratios[r])
			}
			mb, ms := median(rates[0]), median(rates[1])
			fmt.Fprintf(&tbl, "    %-8s %10.0f %10.0f %12.2f\n", "median", mb, ms, median(ratios))
			fmt.Fprintf(&tbl, "    ratio store/bare = %.2f (median store / median bare; median of the rounds' ratios %.2f)",
				ms/mb, median(ratios))
			t.Log("\n" + tbl.String())
			summary[mode.name] = ms / mb
		})
	}
	if len(summary) == 2 {
		t.Logf("ratio store/bare: serial %.2f, concurrent (16 goroutines) %.2f", summary["serial"], summary["concurrent"])
	}
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
