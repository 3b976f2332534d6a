package postgres_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/postgres"
	"github.com/sluicehq/sluice/booking/storetest"
	"github.com/sluicehq/sluice/internal/pgtest"
)

// The tests of the striped vaccine supply (see "Vaccine supply" in the
// package comment).

const shardCount = 16 // postgres.supplyShards

// supplyReq is a booking of vaccine v by person at the k-th of many distinct
// slot pairs (so that bookings do not queue on each other's slots).
func supplyReq(v, person string, k int) booking.BookRequest {
	day := booking.Date{Year: 2021, Month: time.September, Day: 1}.AddDays(k / (8 * 50))
	d1 := booking.Slot{ClinicID: int64(100 + k/8%50), Date: day, Block: booking.TimeBlock(k % 8)}
	d2 := d1
	d2.Date = d1.Date.AddDays(42)
	return booking.BookRequest{
		Booking: booking.Booking{
			CampaignID: "c", CohortID: "18-49", VaccineID: v,
			PersonKey: storetest.PersonKey(person), Name: person, Phone: "01012345678",
			Dose1: booking.Appointment{Slot: d1},
		},
		Dose2Candidates: []booking.Slot{d2},
		SlotCapacity:    func(booking.Slot) int { return 1000 },
		Confirmation:    booking.Message{Body: "booked " + person},
	}
}

// supplyState is a vaccine's supply as stored.
type supplyState struct {
	allocated, debt int64   // vaccine_supply
	shardAlloc      []int64 // vaccine_supply_shards by shard
	shardUsed       []int64
	used, room      int64 // sums over the shards
}

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// checkSupply reads the supply of vaccine v in one snapshot and checks the
// invariants of the striping:
//   - the vaccine has its 16 shards, each with 0 <= used <= allocated, both
//     even;
//   - each shard's used doses are those of the active bookings recorded on
//     it (bookings without a recorded shard count on shard 0);
//   - with a limit, the room of the shards less the debt is the room of a
//     single counter, 2*floor((allocated - used)/2), and there is no room
//     while there is debt.
func checkSupply(t *testing.T, conn *pgx.Conn, v string) supplyState {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var st supplyState
	if err := tx.QueryRow(ctx, `SELECT allocated, debt FROM vaccine_supply WHERE vaccine_id = $1`, v).
		Scan(&st.allocated, &st.debt); err != nil {
		t.Fatalf("vaccine_supply of %s: %v", v, err)
	}
	rows, err := tx.Query(ctx, `SELECT shard, allocated, used FROM vaccine_supply_shards WHERE vaccine_id = $1 ORDER BY shard`, v)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sh int32
		var a, u int64
		if err := rows.Scan(&sh, &a, &u); err != nil {
			t.Fatal(err)
		}
		if int(sh) != len(st.shardAlloc) {
			t.Fatalf("%s: shard %d where %d was expected", v, sh, len(st.shardAlloc))
		}
		st.shardAlloc = append(st.shardAlloc, a)
		st.shardUsed = append(st.shardUsed, u)
		st.used += u
		st.room += a - u
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(st.shardAlloc) != shardCount {
		t.Fatalf("%s has %d shards, want %d", v, len(st.shardAlloc), shardCount)
	}
	held := make([]int64, shardCount)
	rows, err = tx.Query(ctx, `SELECT coalesce(supply_shard, 0), sum(supply_doses)::bigint FROM bookings
		WHERE vaccine_id = $1 AND status = 'booked' AND supply_doses > 0 GROUP BY 1`, v)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sh int32
		var n int64
		if err := rows.Scan(&sh, &n); err != nil {
			t.Fatal(err)
		}
		if sh < 0 || sh >= shardCount {
			t.Fatalf("%s: bookings recorded on shard %d", v, sh)
		}
		held[sh] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range shardCount {
		a, u := st.shardAlloc[i], st.shardUsed[i]
		if u < 0 || u > a || a%2 != 0 || u%2 != 0 {
			t.Errorf("%s shard %d: allocated %d, used %d", v, i, a, u)
		}
		if u != held[i] {
			t.Errorf("%s shard %d: used %d, but its active bookings hold %d", v, i, u, held[i])
		}
	}
	if st.debt < 0 || st.debt%2 != 0 {
		t.Errorf("%s: debt %d", v, st.debt)
	}
	if st.allocated > 0 {
		if want := 2 * floorDiv(st.allocated-st.used, 2); st.room-st.debt != want {
			t.Errorf("%s: allocated %d, used %d: room %d less debt %d is %d, want %d (a single counter's room)",
				v, st.allocated, st.used, st.room, st.debt, st.room-st.debt, want)
		}
		if st.room > 0 && st.debt > 0 {
			t.Errorf("%s: room %d and debt %d at once", v, st.room, st.debt)
		}
	}
	return st
}

func wantStoreSupply(t *testing.T, s booking.Store, v string, allocated, used int) {
	t.Helper()
	a, u, err := s.Supply(context.Background(), v)
	if err != nil || a != allocated || u != used {
		t.Fatalf("Supply(%s) = %d, %d, %v; want %d, %d", v, a, u, err, allocated, used)
	}
}

// deadlocks returns the number of deadlocks the server has detected in the
// test database so far (for the log: the store's lock order should make
// them rare).
func deadlocks(t *testing.T, conn *pgx.Conn) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(),
		`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openSupplied opens a store on a schema of its own with doses of pfizer,
// and a connection to look at its rows.
func openSupplied(t *testing.T, doses int) (*postgres.Store, *pgx.Conn) {
	t.Helper()
	u := freshSchema(t)
	s, conn := open(t, u), pgtest.Connect(t, u)
	if err := s.SetSupply(context.Background(), "pfizer", doses); err != nil {
		t.Fatal(err)
	}
	return s, conn
}

// 32 goroutines make 200 bookings of a vaccine with doses for 50: exactly 50
// succeed, every other is refused as supply exhausted, and no shard gives
// more than it has.
func TestSupplyConcurrentExhaustion(t *testing.T) {
	s, conn := openSupplied(t, 100)
	ctx := context.Background()
	st := checkSupply(t, conn, "pfizer")
	if st.room != 100 || st.debt != 0 {
		t.Fatalf("after SetSupply(100): room %d, debt %d", st.room, st.debt)
	}
	for i, a := range st.shardAlloc {
		if a != 6 && a != 8 { // 50 bookings over 16 shards: 3 or 4 each
			t.Errorf("shard %d allocated %d, want 6 or 8", i, a)
		}
	}
	dl := deadlocks(t, conn)
	const workers, total = 32, 200
	var next, booked, exhausted atomic.Int64
	var mu sync.Mutex
	var unexpected []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for {
				k := int(next.Add(1)) - 1
				if k >= total {
					return
				}
				_, err := s.Book(ctx, supplyReq("pfizer", fmt.Sprint("crowd", k), k))
				switch {
				case err == nil:
					booked.Add(1)
				case errors.Is(err, booking.ErrSupplyExhausted):
					exhausted.Add(1)
				default:
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(unexpected), unexpected[0])
	}
	if booked.Load() != 50 || exhausted.Load() != total-50 {
		t.Errorf("%d booked, %d refused as exhausted; want 50, %d", booked.Load(), exhausted.Load(), total-50)
	}
	wantStoreSupply(t, s, "pfizer", 100, 100)
	st = checkSupply(t, conn, "pfizer")
	if st.used != 100 || st.room != 0 {
		t.Errorf("shards: used %d, room %d; want 100, 0", st.used, st.room)
	}
	var active int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE status = 'booked' AND supply_shard IS NOT NULL AND supply_doses = 2`).
		Scan(&active); err != nil || active != 50 {
		t.Errorf("%d bookings with a recorded shard (%v), want 50", active, err)
	}
	t.Logf("deadlocks detected during the run: %d", deadlocks(t, conn)-dl)
}

// shardOf returns the shard a booking's doses were taken from.
func shardOf(t *testing.T, conn *pgx.Conn, number string) int {
	t.Helper()
	var sh *int32
	if err := conn.QueryRow(context.Background(), `SELECT supply_shard FROM bookings WHERE number = $1`, number).Scan(&sh); err != nil {
		t.Fatal(err)
	}
	if sh == nil {
		t.Fatalf("booking %s has no supply shard", number)
	}
	return int(*sh)
}

// A cancel gives the doses back to the shard they came from, and a new
// booking can then use them.
func TestSupplyCancelSameShard(t *testing.T) {
	s, conn := openSupplied(t, 2*shardCount*2) // two bookings per shard
	ctx := context.Background()
	var numbers []string
	for k := range 2 * shardCount {
		b, err := s.Book(ctx, supplyReq("pfizer", fmt.Sprint("p", k), k))
		if err != nil {
			t.Fatalf("booking %d: %v", k, err)
		}
		numbers = append(numbers, b.Number)
	}
	_, err := s.Book(ctx, supplyReq("pfizer", "late", 999))
	wantErr(t, "Book beyond the allocation", err, booking.ErrSupplyExhausted)
	before := checkSupply(t, conn, "pfizer")
	for i, u := range before.shardUsed {
		if u != 4 {
			t.Errorf("shard %d used %d, want 4", i, u)
		}
	}

	victim := numbers[7]
	sh := shardOf(t, conn, victim)
	if _, err := s.Cancel(ctx, booking.CancelRequest{Number: victim, Notice: booking.Message{Body: "cancelled"}}); err != nil {
		t.Fatal(err)
	}
	after := checkSupply(t, conn, "pfizer")
	for i := range shardCount {
		want := before.shardUsed[i]
		if i == sh {
			want -= 2
		}
		if after.shardUsed[i] != want || after.shardAlloc[i] != before.shardAlloc[i] {
			t.Errorf("shard %d after the cancel: allocated %d, used %d; want %d, %d",
				i, after.shardAlloc[i], after.shardUsed[i], before.shardAlloc[i], want)
		}
	}
	wantStoreSupply(t, s, "pfizer", 64, 62)

	b, err := s.Book(ctx, supplyReq("pfizer", "late", 999))
	if err != nil {
		t.Fatalf("Book after the cancel: %v", err)
	}
	if got := shardOf(t, conn, b.Number); got != sh {
		t.Errorf("the new booking took shard %d, want %d (the only one with room)", got, sh)
	}
	wantStoreSupply(t, s, "pfizer", 64, 64)
	checkSupply(t, conn, "pfizer")
	_, err = s.Book(ctx, supplyReq("pfizer", "later", 998))
	wantErr(t, "Book beyond the allocation again", err, booking.ErrSupplyExhausted)
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// supplyModel is a single supply counter, as the SQLite store keeps it.
type supplyModel struct{ allocated, used int }

func (m *supplyModel) book() (doses int, ok bool) {
	if m.allocated == 0 {
		return 0, true
	}
	if m.used+2 > m.allocated {
		return 0, false
	}
	m.used += 2
	return 2, true
}

// SetSupply raised, lowered (below the doses used too), lifted and set
// again, between bookings and cancels: after every step the store agrees
// with a single counter (which bookings succeed, Supply) and the shards keep
// their invariants.
func TestSupplySetMidway(t *testing.T) {
	u := freshSchema(t)
	s := open(t, u)
	conn := pgtest.Connect(t, u)
	ctx := context.Background()
	var m supplyModel
	type held struct {
		number string
		doses  int
	}
	var active []held
	seq := 0
	step := func(what string) {
		t.Helper()
		wantStoreSupply(t, s, "pfizer", m.allocated, m.used)
		if st := checkSupply(t, conn, "pfizer"); t.Failed() {
			t.Fatalf("after %s: %+v", what, st)
		}
	}
	book := func() {
		t.Helper()
		seq++
		doses, ok := m.book()
		b, err := s.Book(ctx, supplyReq("pfizer", fmt.Sprint("m", seq), seq))
		switch {
		case ok && err == nil:
			active = append(active, held{b.Number, doses})
		case !ok && errors.Is(err, booking.ErrSupplyExhausted):
		default:
			t.Fatalf("booking %d with a single counter at %+v: err = %v, want success %v", seq, m, err, ok)
		}
		step(fmt.Sprint("booking ", seq))
	}
	cancel := func(i int) {
		t.Helper()
		h := active[i]
		active = append(active[:i], active[i+1:]...)
		if _, err := s.Cancel(ctx, booking.CancelRequest{Number: h.number, Notice: booking.Message{Body: "cancelled"}}); err != nil {
			t.Fatal(err)
		}
		m.used = max(m.used-h.doses, 0)
		step("cancel of " + h.number)
	}
	set := func(n int) {
		t.Helper()
		if err := s.SetSupply(ctx, "pfizer", n); err != nil {
			t.Fatal(err)
		}
		m.allocated = n
		step(fmt.Sprint("SetSupply ", n))
	}
	if err := s.SetSupply(ctx, "pfizer", 0); err != nil { // the shards exist from here on
		t.Fatal(err)
	}
	step("SetSupply 0")

	// Scripted (the model checks every outcome): a limit lowered below the
	// doses used is paid off by cancels before a booking fits again.
	set(10)
	for range 6 {
		book() // 5 fit
	}
	set(5) // 10 used: a debt of 6 doses
	book()
	for range 3 {
		cancel(0) // 8, 6, 4 used: a debt of 4, 2, 0
		book()    // refused: no room for 2 more within 5
	}
	if st := checkSupply(t, conn, "pfizer"); st.debt != 0 || st.used != 4 || st.room != 0 {
		t.Fatalf("after paying off the debt: %+v", st)
	}
	cancel(0) // 2 used
	book()    // fits: 4 used
	book()    // refused
	set(7)    // odd: room for one more
	book()
	book()  // refused
	set(41) // room for 17 bookings
	for range 3 {
		book()
	}

	// Random: bookings, cancels and allocations (odd, 0, below the use).
	r := mrand.New(mrand.NewPCG(1, 2))
	for range 300 {
		switch x := r.IntN(20); {
		case x < 11:
			book()
		case x < 18:
			if len(active) > 0 {
				cancel(r.IntN(len(active)))
			}
		default:
			switch r.IntN(4) {
			case 0:
				set(0)
			case 1:
				set(max(m.used-r.IntN(12), 0))
			default:
				set(m.used + r.IntN(40))
			}
		}
	}
}

// Bookings and cancels of one vaccine run while its allocation is changed
// again and again. Whatever the interleaving, the shards keep their
// invariants, and once it is over exactly as many bookings fit as a single
// counter allows, and cancelling everything gives every dose back.
func TestSupplySetConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	s, conn := openSupplied(t, 60)
	ctx := context.Background()
	dl := deadlocks(t, conn)
	allocations := []int{40, 10, 100, 0, 61, 7, 30, 2, 90, 50}
	var maxAllocated atomic.Int64
	maxAllocated.Store(100)
	var next atomic.Int64
	var mu sync.Mutex
	var unexpected []error
	var numbers []string
	report := func(err error) {
		mu.Lock()
		unexpected = append(unexpected, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for _, n := range allocations {
			time.Sleep(15 * time.Millisecond)
			if err := s.SetSupply(ctx, "pfizer", n); err != nil {
				report(fmt.Errorf("SetSupply(%d): %w", n, err))
			}
		}
	})
	for w := range 16 {
		wg.Go(func() {
			r := mrand.New(mrand.NewPCG(uint64(w), 3))
			var mine []string
			for {
				select {
				case <-done:
					mu.Lock()
					numbers = append(numbers, mine...)
					mu.Unlock()
					return
				default:
				}
				if len(mine) > 0 && r.IntN(3) == 0 {
					i := r.IntN(len(mine))
					if _, err := s.Cancel(ctx, booking.CancelRequest{Number: mine[i], Notice: booking.Message{Body: "cancelled"}}); err != nil {
						report(fmt.Errorf("Cancel: %w", err))
					}
					mine = append(mine[:i], mine[i+1:]...)
					continue
				}
				k := int(next.Add(1))
				b, err := s.Book(ctx, supplyReq("pfizer", fmt.Sprint("c", k), k))
				switch {
				case err == nil:
					mine = append(mine, b.Number)
				case errors.Is(err, booking.ErrSupplyExhausted):
				default:
					report(fmt.Errorf("Book: %w", err))
				}
			}
		})
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(unexpected), unexpected[0])
	}
	final := allocations[len(allocations)-1]
	st := checkSupply(t, conn, "pfizer")
	if st.used > maxAllocated.Load() {
		t.Errorf("%d doses used, more than any allocation (%d)", st.used, maxAllocated.Load())
	}
	a, used, err := s.Supply(ctx, "pfizer")
	// (Bookings made while the limit was lifted hold no doses; checkSupply
	// has compared the shards with the doses the bookings hold.)
	if err != nil || a != final || int64(used) != st.used {
		t.Fatalf("Supply = %d, %d, %v; want %d, %d", a, used, err, final, st.used)
	}
	t.Logf("%d bookings made, %d active; %d doses used of %d; deadlocks detected during the run: %d",
		next.Load(), len(numbers), used, final, deadlocks(t, conn)-dl)

	// Fill what is left: exactly a single counter's room.
	want := max(0, (final-used)/2)
	for i := range want + 1 {
		k := int(next.Add(1))
		b, err := s.Book(ctx, supplyReq("pfizer", fmt.Sprint("c", k), k))
		if i < want && err != nil {
			t.Fatalf("booking %d of the %d that fit: %v", i+1, want, err)
		}
		if i == want {
			wantErr(t, "Book beyond the allocation", err, booking.ErrSupplyExhausted)
			break
		}
		numbers = append(numbers, b.Number)
	}
	checkSupply(t, conn, "pfizer")
	// Cancel everything: every dose comes back and the debt is paid off.
	for _, n := range numbers {
		if _, err := s.Cancel(ctx, booking.CancelRequest{Number: n, Notice: booking.Message{Body: "cancelled"}}); err != nil {
			t.Fatal(err)
		}
	}
	wantStoreSupply(t, s, "pfizer", final, 0)
	if st := checkSupply(t, conn, "pfizer"); st.debt != 0 || st.room != int64(final&^1) {
		t.Errorf("after cancelling everything: %+v", st)
	}
}

// A database at migration 1 with supply counters and bookings holding doses
// is migrated: allocations and doses used carry over exactly (odd
// allocations, allocations below the use and vaccines without a limit
// included), and the old bookings give their doses back when cancelled.
func TestMigrateSupplyShards(t *testing.T) {
	u := freshSchema(t)
	ctx := context.Background()
	conn := pgtest.Connect(t, u)
	init, err := os.ReadFile("migrations/001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	// The state a store of migration 1 leaves (see migrate in postgres.go).
	if _, err := conn.Exec(ctx, string(init)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (version, name) VALUES (1, '001_init.sql')`); err != nil {
		t.Fatal(err)
	}
	type legacy struct {
		vaccine         string
		allocated, used int
	}
	vaccines := []legacy{
		{"pfizer", 100, 40},  // room for 30 bookings
		{"moderna", 10, 14},  // allocation lowered below the use
		{"az", 0, 6},         // limit lifted after 3 bookings
		{"janssen", 7, 0},    // odd allocation
		{"novavax", 0, 0},    // no limit at all
		{"sinovac", 33, 33},  // odd use, (hand-edited) full
		{"sputnik", 200, 10}, // room for 95 bookings
	}
	numbers := map[string][]string{}
	seq := 0
	for _, v := range vaccines {
		if _, err := conn.Exec(ctx, `INSERT INTO vaccine_supply (vaccine_id, allocated, used) VALUES ($1, $2, $3)`,
			v.vaccine, v.allocated, v.used); err != nil {
			t.Fatal(err)
		}
		for range v.used / 2 {
			seq++
			number := fmt.Sprintf("SLC-OLD0-%04d", seq)
			r := supplyReq(v.vaccine, number, seq)
			d1, d2 := r.Booking.Dose1.Slot, r.Dose2Candidates[0]
			if _, err := conn.Exec(ctx, `INSERT INTO bookings (number, campaign_id, cohort_id, vaccine_id, person_key,
				name, phone, birth_date, booked_by, dose1_clinic, dose1_date, dose1_block, dose2_clinic, dose2_date,
				dose2_block, status, supply_doses, created_at, updated_at)
				VALUES ($1, 'c', '18-49', $2, $3, 'n', '01012345678', NULL, $3, $4, $5, $6, $7, $8, $9, 'booked', 2, 0, 0)`,
				number, v.vaccine, r.Booking.PersonKey,
				d1.ClinicID, d1.Date.String(), int32(d1.Block), d2.ClinicID, d2.Date.String(), int32(d2.Block)); err != nil {
				t.Fatal(err)
			}
			numbers[v.vaccine] = append(numbers[v.vaccine], number)
		}
	}

	s := open(t, u) // applies 002 and the later ones
	wantMigrations(t, u)
	for _, v := range vaccines {
		wantStoreSupply(t, s, v.vaccine, v.allocated, v.used)
		if v.vaccine == "sinovac" {
			continue // odd use: its shard 0 is odd, checked below
		}
		st := checkSupply(t, conn, v.vaccine)
		if st.shardUsed[0] != int64(v.used) {
			t.Errorf("%s: shard 0 used %d, want all %d", v.vaccine, st.shardUsed[0], v.used)
		}
	}
	var a, used int64
	if err := conn.QueryRow(ctx, `SELECT sum(allocated), sum(used) FROM vaccine_supply_shards WHERE vaccine_id = 'sinovac'`).
		Scan(&a, &used); err != nil || a != 33 || used != 33 {
		t.Errorf("sinovac shards: %d allocated, %d used (%v); want 33, 33", a, used, err)
	}
	if st := checkSupply(t, conn, "pfizer"); st.room != 60 || st.debt != 0 || st.shardAlloc[0] != 40+4 || st.shardAlloc[15] != 2 {
		t.Errorf("pfizer: %+v; want room 60 spread over the shards, shard 0 holding the 40 used", st)
	}
	if st := checkSupply(t, conn, "moderna"); st.room != 0 || st.debt != 4 {
		t.Errorf("moderna: %+v; want no room and a debt of 4", st)
	}
	if st := checkSupply(t, conn, "sputnik"); st.room != 190 {
		t.Errorf("sputnik: room %d, want 190", st.room)
	}
	var recorded int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE supply_shard IS NOT NULL`).Scan(&recorded); err != nil || recorded != 0 {
		t.Errorf("%d old bookings with a recorded shard (%v), want none", recorded, err)
	}

	fill := func(v string, want int) {
		t.Helper()
		for i := range want + 1 {
			seq++
			_, err := s.Book(ctx, supplyReq(v, fmt.Sprint("new", seq), seq))
			if i < want && err != nil {
				t.Fatalf("%s: booking %d of the %d that fit: %v", v, i+1, want, err)
			}
			if i == want {
				wantErr(t, v+": Book beyond the allocation", err, booking.ErrSupplyExhausted)
			}
		}
	}
	cancelOld := func(v string) {
		t.Helper()
		n := numbers[v][0]
		numbers[v] = numbers[v][1:]
		if _, err := s.Cancel(ctx, booking.CancelRequest{Number: n, Notice: booking.Message{Body: "cancelled"}}); err != nil {
			t.Fatalf("cancel of %s: %v", n, err)
		}
	}

	// pfizer: an old booking gives its doses back to shard 0; then 31 fit.
	cancelOld("pfizer")
	wantStoreSupply(t, s, "pfizer", 100, 38)
	if st := checkSupply(t, conn, "pfizer"); st.shardUsed[0] != 38 {
		t.Errorf("pfizer shard 0 used %d after the cancel, want 38", st.shardUsed[0])
	}
	fill("pfizer", 31)
	wantStoreSupply(t, s, "pfizer", 100, 100)
	checkSupply(t, conn, "pfizer")

	// moderna: 14 used of 10, a debt of 4. Cancels pay it off: with 12 and
	// 10 used nothing fits; with 8 used one booking does.
	cancelOld("moderna")
	fill("moderna", 0)
	cancelOld("moderna")
	fill("moderna", 0)
	cancelOld("moderna") // 8 used
	fill("moderna", 1)
	wantStoreSupply(t, s, "moderna", 10, 10)
	checkSupply(t, conn, "moderna")

	// az: no limit; an old booking still gives its doses back.
	cancelOld("az")
	wantStoreSupply(t, s, "az", 0, 4)
	fill("janssen", 3)
	wantStoreSupply(t, s, "janssen", 7, 6)
	fill("sinovac", 0)
	// Raising sinovac's allocation spreads room even though its use is odd.
	if err := s.SetSupply(ctx, "sinovac", 40); err != nil {
		t.Fatal(err)
	}
	fill("sinovac", 3)
	wantStoreSupply(t, s, "sinovac", 40, 39)
}
