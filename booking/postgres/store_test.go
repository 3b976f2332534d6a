package postgres_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/postgres"
	"github.com/sluicehq/sluice/booking/storetest"
	"github.com/sluicehq/sluice/internal/pgtest"
)

// The tests need a PostgreSQL server (internal/pgtest): each works in a
// schema of its own.

// freshSchema is an empty schema for the test (see pgtest.Schema).
func freshSchema(tb testing.TB) string { return pgtest.Schema(tb, "sluicetest") }

// open opens a store; it is closed when the test ends (before its schema is
// dropped, cleanups running last-in first-out).
func open(t *testing.T, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dbURL, postgres.Timeouts{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	pgtest.ServerURL(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) booking.Store {
		s, err := postgres.Open(context.Background(), freshSchema(t), postgres.Timeouts{})
		if err != nil {
			t.Fatal(err)
		}
		return s // the suite closes it
	})
}

func wantMigrations(t *testing.T, dbURL string) {
	t.Helper()
	conn := pgtest.Connect(t, dbURL)
	rows, err := conn.Query(context.Background(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var v int32
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(v, " ", name))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 001_init.sql", "2 002_supply_shards.sql", "3 003_sessions.sql", "4 004_programme.sql", "5 005_leftovers.sql", "6 006_shares.sql"}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}

func TestMigrateTwice(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	t.Run("sequential", func(t *testing.T) {
		u := freshSchema(t)
		s1 := open(t, u)
		b, err := s1.Book(ctx, storetest.Request("a"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s1.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s1.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		s2 := open(t, u)
		got, err := s2.Get(ctx, b.Number)
		if err != nil || got.Number != b.Number {
			t.Fatalf("Get after reopen: %+v, %v", got, err)
		}
		wantMigrations(t, u)
	})
	t.Run("concurrent", func(t *testing.T) {
		// Four nodes start at once on an empty schema.
		u := freshSchema(t)
		const nodes = 4
		stores := make([]*postgres.Store, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range nodes {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = postgres.Open(ctx, u, postgres.Timeouts{})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		wantMigrations(t, u)
		// Every node books; every node sees every booking.
		var numbers []string
		for i, s := range stores {
			b, err := s.Book(ctx, storetest.Request(fmt.Sprint("node", i)))
			if err != nil {
				t.Fatalf("Book on node %d: %v", i, err)
			}
			numbers = append(numbers, b.Number)
		}
		for i, s := range stores {
			for _, n := range numbers {
				if _, err := s.Get(ctx, n); err != nil {
					t.Errorf("node %d: Get(%s): %v", i, n, err)
				}
			}
			counts, err := s.CountBookings(ctx)
			if err != nil || counts.ByCohort[booking.CohortKey{Campaign: "c", Cohort: "18-49"}] != nodes {
				t.Errorf("node %d: CountBookings = %v, %v; want %d", i, counts, err, nodes)
			}
		}
	})
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	u := freshSchema(t)
	open(t, u)
	pgtest.Exec(t, u, `INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')`)
	if s, err := postgres.Open(context.Background(), u, postgres.Timeouts{}); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	}
}

// The schema itself refuses what the Go checks refuse: no RRN can be stored
// as a person key even by SQL that bypasses the Store.
func TestRRNRefused(t *testing.T) {
	u := freshSchema(t)
	open(t, u)
	conn := pgtest.Connect(t, u)
	ctx := context.Background()
	isCheckViolation := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23514"
	}
	insertBooking := `INSERT INTO bookings (number, campaign_id, cohort_id, vaccine_id, person_key, name, phone,
		birth_date, booked_by, dose1_clinic, dose1_date, dose1_block, dose2_clinic, dose2_date, dose2_block,
		status, created_at, updated_at)
		VALUES ($1, 'c', 'k', 'v', $2, 'n', '010', NULL, $3, 1, '2021-08-26', 0, 1, '2021-10-07', 0, 'booked', 0, 0)`
	insertSession := `INSERT INTO booking_sessions (person_key, id, sealed, locked_until, expires) VALUES ($1, $2, 'x', 1, 1)`
	hash := storetest.PersonKey("x")
	for _, k := range []string{"8503091234567", "850309-1234567"} {
		_, err := conn.Exec(ctx, insertSession, k, "s-"+k)
		if !isCheckViolation(err) {
			t.Errorf("booking_sessions with person_key %q: err = %v, want a check violation", k, err)
		}
		if _, err := conn.Exec(ctx, insertBooking, "SLC-RRN1-"+k[len(k)-4:], k, hash); !isCheckViolation(err) {
			t.Errorf("bookings with person_key %q: err = %v, want a check violation", k, err)
		}
		if _, err := conn.Exec(ctx, insertBooking, "SLC-RRN2-"+k[len(k)-4:], hash, k); !isCheckViolation(err) {
			t.Errorf("bookings with booked_by %q: err = %v, want a check violation", k, err)
		}
	}
	if _, err := conn.Exec(ctx, insertSession, hash, "s-hash"); err != nil {
		t.Errorf("booking_sessions refused a keyed hash: %v", err)
	}
	if _, err := conn.Exec(ctx, insertBooking, "SLC-HASH-0001", hash, hash); err != nil {
		t.Errorf("bookings refused a keyed hash: %v", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	const secret = "s3cr3t-pw"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, u := range []string{
		"",
		"mysql://sluice:" + secret + "@127.0.0.1/test",
		"host=127.0.0.1 user=sluice password=" + secret,
		"postgres://sluice:" + secret + "@127.0.0.1:notaport/test",
		"postgres://sluice:" + secret + "@127.0.0.1/test?sslmode=bogus",
		"postgres://sluice@127.0.0.1/test?sslmode=bogus&password=" + secret,
		"postgres://sluice:" + secret + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", // nothing listens
	} {
		s, err := postgres.Open(ctx, u, postgres.Timeouts{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		} else {
			t.Logf("%v", err)
		}
	}
}

// Text PostgreSQL cannot store is refused as invalid input, and cannot be
// found.
func TestUnstorableText(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	for name, mutate := range map[string]func(r *booking.BookRequest){
		"NUL in name":         func(r *booking.BookRequest) { r.Booking.Name = "a\x00b" },
		"bad UTF-8 in body":   func(r *booking.BookRequest) { r.Confirmation.Body = "\xff" },
		"bad UTF-8 in key":    func(r *booking.BookRequest) { r.IdempotencyKey = "k\xfe" },
		"NUL in person key":   func(r *booking.BookRequest) { r.Booking.PersonKey = "abc\x00" },
		"bad UTF-8 in number": func(r *booking.BookRequest) { r.Booking.Number = "SLC-\xff" },
	} {
		r := storetest.Request("u")
		mutate(&r)
		if _, err := s.Book(ctx, r); !errors.Is(err, postgres.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.Get(ctx, "SLC-\xff"); !errors.Is(err, booking.ErrNotFound) {
		t.Errorf("Get of an unstorable number: %v, want ErrNotFound", err)
	}
	if a, u, err := s.Supply(ctx, "\x00"); a != 0 || u != 0 || err != nil {
		t.Errorf("Supply of an unstorable vaccine id: %d, %d, %v", a, u, err)
	}
}

// Two nodes book, change and cancel the same few slots at once. Every
// operation must end in success or a booking error, and the slot counts, the
// outbox and the supply must match the bookings.
func TestTwoNodesChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	u := freshSchema(t)
	nodes := []*postgres.Store{open(t, u), open(t, u)}
	ctx := context.Background()
	day1 := booking.Date{Year: 2021, Month: time.September, Day: 1}
	day2 := day1.AddDays(21)
	var first, second []booking.Slot
	for b := range 4 {
		first = append(first, booking.Slot{ClinicID: 30, Date: day1, Block: booking.TimeBlock(b)})
		second = append(second, booking.Slot{ClinicID: 30 + int64(b%2), Date: day2, Block: booking.TimeBlock(b)})
	}
	const capacity = 4
	caps := func(booking.Slot) int { return capacity }
	if err := nodes[0].SetSupply(ctx, "pfizer", 1000); err != nil {
		t.Fatal(err)
	}
	pick := func(r *mrand.Rand) (booking.Slot, []booking.Slot) {
		var cands []booking.Slot
		for _, i := range r.Perm(len(second)) {
			cands = append(cands, second[i])
		}
		return first[r.IntN(len(first))], cands
	}
	const workers, rounds = 16, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	var writes int // successful operations, each writes one outbox message
	for w := range workers {
		wg.Go(func() {
			r := mrand.New(mrand.NewPCG(uint64(w), 1))
			s := nodes[w%len(nodes)]
			ok := func(err error) bool {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					writes++
					return true
				case errors.Is(err, booking.ErrSlotFull), errors.Is(err, booking.ErrNoSecondDose):
				default:
					unexpected = append(unexpected, err)
				}
				return false
			}
			var mine []string
			for i := range rounds {
				req := storetest.Request(fmt.Sprintf("churn-%d-%d", w, i))
				req.Booking.Dose1.Slot, req.Dose2Candidates = pick(r)
				req.SlotCapacity = caps
				if b, err := s.Book(ctx, req); ok(err) {
					mine = append(mine, b.Number)
				}
				if len(mine) == 0 {
					continue
				}
				n := mine[r.IntN(len(mine))]
				switch r.IntN(3) {
				case 0:
					d1, cands := pick(r)
					_, err := s.Change(ctx, booking.ChangeRequest{Number: n, NewDose1: d1, Dose2Candidates: cands,
						SlotCapacity: caps, Notice: booking.Message{Body: "changed"}})
					if !errors.Is(err, booking.ErrCancelled) {
						ok(err)
					}
				case 1:
					_, err := nodes[(w+1)%len(nodes)].Cancel(ctx, booking.CancelRequest{Number: n, Notice: booking.Message{Body: "cancelled"}})
					if !errors.Is(err, booking.ErrCancelled) {
						ok(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(unexpected), unexpected[0])
	}
	conn := pgtest.Connect(t, u)
	var mismatched int
	err := conn.QueryRow(ctx, `
		WITH held AS (
			SELECT dose1_clinic AS clinic_id, dose1_date AS date, dose1_block AS block FROM bookings WHERE status = 'booked'
			UNION ALL
			SELECT dose2_clinic, dose2_date, dose2_block FROM bookings WHERE status = 'booked'),
		n AS (SELECT clinic_id, date, block, count(*) AS n FROM held GROUP BY 1, 2, 3)
		SELECT count(*) FROM slots s FULL JOIN n USING (clinic_id, date, block)
		WHERE coalesce(s.booked, 0) <> coalesce(n.n, 0) OR coalesce(s.booked, 0) > $1`, capacity).Scan(&mismatched)
	if err != nil {
		t.Fatal(err)
	}
	if mismatched != 0 {
		t.Errorf("%d slots whose count differs from their bookings or exceeds the capacity", mismatched)
	}
	var outbox, active int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM bookings WHERE status = 'booked')`).Scan(&outbox, &active); err != nil {
		t.Fatal(err)
	}
	if outbox != writes {
		t.Errorf("%d outbox messages, want one per successful operation (%d)", outbox, writes)
	}
	if a, used, err := nodes[1].Supply(ctx, "pfizer"); err != nil || a != 1000 || used != 2*active {
		t.Errorf("supply = %d allocated, %d used (%v); want 1000, %d", a, used, err, 2*active)
	}
	t.Logf("%d successful operations, %d active bookings", writes, active)
}

// Two bookings that take each other's slots in opposite orders deadlock;
// PostgreSQL aborts one, and the store runs it again.
func TestDeadlockRetried(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	day := booking.Date{Year: 2021, Month: time.September, Day: 1}
	a := booking.Slot{ClinicID: 40, Date: day, Block: 0}
	b := booking.Slot{ClinicID: 40, Date: day, Block: 1}
	// Both slots exist before the race, so that the two transactions wait
	// on row locks.
	for _, sl := range []booking.Slot{a, b} {
		r := storetest.Request(fmt.Sprint("seed", sl.Block))
		r.Booking.Dose1.Slot, r.Dose2Candidates = sl, []booking.Slot{{ClinicID: 41, Date: day.AddDays(21), Block: 0}}
		if _, err := s.Book(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Each booking, holding its first slot, waits (in the capacity function,
	// which runs inside the transaction) until the other holds its own.
	var holding sync.WaitGroup
	holding.Add(2)
	reqs := make([]booking.BookRequest, 2)
	for i, pair := range [][2]booking.Slot{{a, b}, {b, a}} {
		var once sync.Once
		r := storetest.Request(fmt.Sprint("cross", i))
		r.Booking.Dose1.Slot, r.Dose2Candidates = pair[0], []booking.Slot{pair[1]}
		r.SlotCapacity = func(sl booking.Slot) int {
			if sl == pair[1] {
				once.Do(func() {
					holding.Done()
					holding.Wait()
				})
			}
			return 10
		}
		reqs[i] = r
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() { _, errs[i] = s.Book(ctx, reqs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("crossed booking %d: %v", i, err)
		}
	}
	cs, err := s.SlotCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if (c.Slot == a || c.Slot == b) && c.Booked != 3 {
			t.Errorf("slot %v holds %d, want 3", c.Slot, c.Booked)
		}
	}
}
