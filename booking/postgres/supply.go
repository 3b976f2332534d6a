package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/booking"
)

// The vaccine supply, striped: see "Vaccine supply" in the package comment
// and migrations/002_supply_shards.sql.

// supplyShards is the number of rows (shards) a vaccine's dose count is
// spread over. SetSupply creates the shards a vaccine lacks and spreads the
// room over every shard it finds, so a different number takes effect at the
// next SetSupply of each vaccine.
const supplyShards = 16

// The savepoint before Book's tries at the supply shards (see takeSupply).
const (
	sqlSavepointSupply = `SAVEPOINT supply`
	sqlRollbackSupply  = `ROLLBACK TO SAVEPOINT supply`
)

// supplyHold is what a booking holds against its vaccine's supply: the doses
// (0 if the vaccine was not limited when it was booked) and the shard they
// were taken from (nil if none, or if booked before the supply was striped:
// such doses are in shard 0).
type supplyHold struct {
	doses int
	shard *int32
}

// peekSupply reports whether the vaccine's supply is limited, or
// ErrSupplyExhausted if no shard has room for another person. It reads
// without locking; takeSupply decides.
func peekSupply(ctx context.Context, tx pgx.Tx, vaccineID string) (limited bool, err error) {
	var allocated int64
	var room bool
	switch err := tx.QueryRow(ctx, sqlSupplyPeek, vaccineID, int64(booking.DosesPerBooking)).Scan(&allocated, &room); {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case allocated == 0:
		return false, nil
	case !room:
		return false, fmt.Errorf("vaccine %q: %w", vaccineID, booking.ErrSupplyExhausted)
	}
	return true, nil
}

// takeSupply takes a booking's doses from one of the vaccine's shards, and
// returns what it took: nothing if the vaccine turned out to have no limit.
//
// It tries, each step only if the one before took nothing:
//
//  1. the first shard with room that no other transaction holds, from a
//     random start (sqlShardTakeSkip): concurrent bookings of the vaccine
//     take different shards, and none waits;
//  2. the first shard that had room, waiting for the transactions holding
//     them, in shard order (sqlShardTakeWait): every shard with room was
//     held by another booking;
//  3. every shard locked, in shard order, and the choice made on their
//     newest versions: none had room when step 2 looked, or those that had
//     were filled by the transactions it waited for, and a transaction it
//     did not wait for (a cancel) may have given doses back since. Only
//     here is the booking refused with ErrSupplyExhausted, as the single
//     counter refused it: when no shard has room once the transactions
//     holding them have ended.
//
// Steps 1 and 2 can leave a shard locked that they found full after all
// (see sqlShardTakeWait); holding one while waiting for another out of
// shard order could deadlock, so the steps run after a savepoint, and a step
// that takes nothing rolls back to it, which gives those locks back. A
// booking that takes a shard in step 1 or 2 waits for no other supply lock
// afterwards. Step 3 keeps every shard of the vaccine locked until commit;
// it only runs when the supply is (nearly) used up, or its allocation was
// just lowered.
func takeSupply(ctx context.Context, tx pgx.Tx, vaccineID string) (supplyHold, error) {
	start := int32(rand.IntN(supplyShards))
	shard, ok, err := takeShard(ctx, tx, sqlSavepointSupply,
		sqlShardTakeSkip, vaccineID, start, int64(booking.DosesPerBooking), int32(supplyShards))
	if err == nil && !ok {
		shard, ok, err = takeShard(ctx, tx, sqlRollbackSupply,
			sqlShardTakeWait, vaccineID, int64(booking.DosesPerBooking))
	}
	switch {
	case err != nil:
		return supplyHold{}, err
	case ok:
		return supplyHold{doses: booking.DosesPerBooking, shard: &shard}, nil
	}
	return takeSupplyLocked(ctx, tx, vaccineID)
}

// takeShard runs first and then take (a statement RETURNING the shard it
// took), in one round trip.
func takeShard(ctx context.Context, tx pgx.Tx, first, take string, args ...any) (shard int32, ok bool, err error) {
	batch := &pgx.Batch{}
	batch.Queue(first)
	batch.Queue(take, args...)
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return 0, false, err
	}
	switch err := br.QueryRow().Scan(&shard); {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, br.Close()
	case err != nil:
		return 0, false, err
	}
	return shard, true, br.Close()
}

// takeSupplyLocked is step 3 of takeSupply.
func takeSupplyLocked(ctx context.Context, tx pgx.Tx, vaccineID string) (supplyHold, error) {
	batch := &pgx.Batch{}
	batch.Queue(sqlRollbackSupply)
	batch.Queue(sqlShardsLock, vaccineID)
	// In a statement of its own, after the locks: no SetSupply can commit
	// while the shards are locked, so this reads the allocation that goes
	// with them.
	batch.Queue(sqlSupplyAllocated, vaccineID)
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return supplyHold{}, err
	}
	shards, err := readShards(br)
	if err != nil {
		return supplyHold{}, err
	}
	var allocated int64
	switch err := br.QueryRow().Scan(&allocated); {
	case errors.Is(err, pgx.ErrNoRows):
		allocated = 0
	case err != nil:
		return supplyHold{}, err
	}
	if err := br.Close(); err != nil {
		return supplyHold{}, err
	}
	if allocated == 0 {
		return supplyHold{}, nil // the limit was lifted since peekSupply
	}
	for _, sh := range shards {
		if sh.used+booking.DosesPerBooking > sh.allocated {
			continue
		}
		tag, err := tx.Exec(ctx, sqlShardTake, vaccineID, sh.shard, int64(booking.DosesPerBooking))
		if err != nil {
			return supplyHold{}, err
		}
		if tag.RowsAffected() != 1 {
			return supplyHold{}, fmt.Errorf("vaccine %q: supply shard %d changed under a row lock", vaccineID, sh.shard)
		}
		return supplyHold{doses: booking.DosesPerBooking, shard: &sh.shard}, nil
	}
	return supplyHold{}, fmt.Errorf("vaccine %q: %w", vaccineID, booking.ErrSupplyExhausted)
}

// supplyShard is a row of vaccine_supply_shards, as read under its lock.
type supplyShard struct {
	shard           int32
	allocated, used int64
}

// readShards reads the rows of sqlShardsLock.
func readShards(br pgx.BatchResults) ([]supplyShard, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []supplyShard
	for rows.Next() {
		var sh supplyShard
		if err := rows.Scan(&sh.shard, &sh.allocated, &sh.used); err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// giveSupply gives a cancelled booking's doses back to the shard they were
// taken from (shard 0 for a booking made before the supply was striped).
//
// If the vaccine's allocation was lowered below the doses used, the vaccine
// has a debt and every shard is full: the doses given back then pay off the
// debt (lowering the shard's allocation with its use) instead of making
// room, until the doses used fall below the allocation, as with a single
// counter.
func giveSupply(ctx context.Context, tx pgx.Tx, vaccineID string, h supplyHold) error {
	doses := int64(h.doses)
	var shard int32
	if h.shard != nil {
		shard = *h.shard
	}
	err := tx.QueryRow(ctx, sqlShardGive, vaccineID, shard, doses).Scan(&shard)
	if errors.Is(err, pgx.ErrNoRows) {
		// The shard does not hold the doses: the tables were changed by
		// hand. Give them back to a shard that holds as many.
		err = tx.QueryRow(ctx, sqlShardGiveAny, vaccineID, doses).Scan(&shard)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // no shard holds them: nothing to give back
		}
	}
	if err != nil {
		return err
	}
	// The shard is locked now, so no SetSupply (which locks every shard)
	// can commit before this transaction: a debt of 0 read from here on
	// stays 0. Only cancels pay off debt, under the lock of the supply row.
	var debt int64
	switch err := tx.QueryRow(ctx, sqlSupplyDebt, vaccineID).Scan(&debt); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	case debt == 0:
		return nil
	}
	if err := tx.QueryRow(ctx, sqlSupplyDebtLock, vaccineID).Scan(&debt); err != nil {
		return err
	}
	pay := min(debt, doses)
	if pay == 0 {
		return nil // paid off by a concurrent cancel
	}
	tag, err := tx.Exec(ctx, sqlSupplyDebtPay, vaccineID, pay)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("vaccine %q: supply debt changed under a row lock", vaccineID)
	}
	if tag, err = tx.Exec(ctx, sqlShardShrink, vaccineID, shard, pay); err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("vaccine %q: supply shard %d changed under a row lock", vaccineID, shard)
	}
	return nil
}

// SetSupply sets the dose allocation of a vaccine, keeping the count of doses
// used. An allocation of 0 removes the limit.
//
// It locks every shard of the vaccine (waiting for the bookings and cancels
// holding them) and spreads the room the new allocation leaves over the
// shards (see spreadSupply); the doses used stay in the shards that hold
// them.
func (s *Store) SetSupply(ctx context.Context, vaccineID string, doses int) error {
	if vaccineID == "" || doses < 0 {
		return fail(ctx, "set supply", fmt.Errorf("%w: vaccine %q, doses %d", ErrInvalid, vaccineID, doses))
	}
	if err := checkText("vaccine id", vaccineID); err != nil {
		return fail(ctx, "set supply", err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		batch.Queue(sqlSupplyCreate, vaccineID)
		batch.Queue(sqlShardsCreate, vaccineID, int32(supplyShards))
		batch.Queue(sqlShardsLock, vaccineID)
		br := tx.SendBatch(ctx, batch)
		defer br.Close()
		for range 2 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		rows, err := readShards(br)
		if err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
		shards := make([]int32, len(rows))
		used := make([]int64, len(rows))
		for i, sh := range rows {
			shards[i], used[i] = sh.shard, sh.used
		}
		allocated, debt := spreadSupply(int64(doses), used)
		batch = &pgx.Batch{}
		batch.Queue(sqlShardsSet, vaccineID, shards, allocated)
		batch.Queue(sqlSupplySet, vaccineID, int64(doses), debt)
		return tx.SendBatch(ctx, batch).Close()
	})
	return fail(ctx, "set supply", err)
}

// spreadSupply returns the allocations of shards that have used the given
// doses, and the vaccine's debt, for an allocation of total doses:
//
//   - total 0 (no limit): no room, no debt;
//   - total at least the doses used: the room a single counter would have,
//     as many whole bookings as fit (booking.DosesPerBooking doses each), spread
//     evenly over the shards (the first shards get one booking more if
//     they do not divide evenly); no debt;
//   - total below the doses used: no room, and a debt of the doses that
//     must be given back before a booking fits again, rounded up to whole
//     bookings.
//
// Every shard's allocation is its use plus whole bookings.
func spreadSupply(total int64, used []int64) (allocated []int64, debt int64) {
	allocated = slices.Clone(used)
	var sum int64
	for _, u := range used {
		sum += u
	}
	n := int64(len(used))
	switch {
	case total == 0 || n == 0:
	case total >= sum:
		bookings := (total - sum) / booking.DosesPerBooking
		for i := range allocated {
			extra := bookings / n
			if int64(i) < bookings%n {
				extra++
			}
			allocated[i] += booking.DosesPerBooking * extra
		}
	default:
		debt = booking.DosesPerBooking * ((sum - total + booking.DosesPerBooking - 1) / booking.DosesPerBooking)
	}
	return allocated, debt
}

// Supply returns the allocated and used doses of a vaccine (0, 0 if it has
// no allocation): the allocation as set, and the doses used in all its
// shards.
func (s *Store) Supply(ctx context.Context, vaccineID string) (allocated, used int, err error) {
	if !storable(vaccineID) {
		return 0, 0, nil
	}
	var a, u int64
	err = s.pool.QueryRow(ctx, sqlSupply, vaccineID).Scan(&a, &u)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fail(ctx, "supply", err)
	}
	return int(a), int(u), nil
}
