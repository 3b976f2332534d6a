package postgres

// The store's SQL. pgx prepares each statement once per connection (its
// default statement cache), so no SQL is parsed and planned afresh on the hot
// path.

const bookingColumns = `number, campaign_id, cohort_id, vaccine_id, person_key, name, phone, birth_date, booked_by,
	dose1_clinic, dose1_date, dose1_block, dose2_clinic, dose2_date, dose2_block,
	status, supply_doses, supply_shard, created_at, updated_at, share_key`

const (
	// sqlIdemLock serialises Book calls with the same idempotency key (a class
	// and a hash of the key; two keys sharing a hash merely wait for each
	// other).
	sqlIdemLock = `SELECT pg_advisory_xact_lock($1::integer, $2::integer)`
	sqlIdemGet  = `SELECT booking_number, request_hash FROM idempotency_keys WHERE key = $1`
	sqlIdemPut  = `INSERT INTO idempotency_keys (key, booking_number, request_hash, created_at) VALUES ($1, $2, $3, $4)`

	sqlPersonActive = `SELECT number FROM bookings
		WHERE person_key = $1 AND status = 'booked' LIMIT 1`

	// The vaccine supply: vaccine_supply holds the allocation as set (0: no
	// limit) and the debt, vaccine_supply_shards the doses, striped over
	// supplyShards rows per vaccine (see the package comment and
	// migrations/002_supply_shards.sql). $1 is always the vaccine id.

	// sqlSupplyPeek reads the allocation and whether some shard has room for
	// $2 doses, without locking.
	sqlSupplyPeek = `SELECT v.allocated, EXISTS (SELECT 1 FROM vaccine_supply_shards s
			WHERE s.vaccine_id = v.vaccine_id AND s.used + $2 <= s.allocated)
		FROM vaccine_supply v WHERE v.vaccine_id = $1`
	// sqlShardTakeSkip takes $3 doses from the first shard with room, in the
	// order $2, $2+1, ... (mod $4, the number of shards), passing over the
	// shards other transactions hold locked. The subquery locks the shard it
	// picks (after checking its room on the newest version); the UPDATE
	// checks the room again. It updates nothing if every shard with room is
	// locked by others, or none has room.
	sqlShardTakeSkip = `UPDATE vaccine_supply_shards SET used = used + $3
		WHERE vaccine_id = $1 AND used + $3 <= allocated AND shard = (
			SELECT shard FROM vaccine_supply_shards
			WHERE vaccine_id = $1 AND used + $3 <= allocated
			ORDER BY (shard + $4 - $2) % $4
			LIMIT 1
			FOR NO KEY UPDATE SKIP LOCKED)
		RETURNING shard`
	// sqlShardTakeWait is sqlShardTakeSkip that waits for locked shards, in
	// shard order (the one order every waiting statement on shards follows,
	// so that waits cannot go round in a circle). A shard that had room when
	// the statement started but was filled by the transaction it waited
	// for is passed over, and stays locked: run it after a savepoint.
	sqlShardTakeWait = `UPDATE vaccine_supply_shards SET used = used + $2
		WHERE vaccine_id = $1 AND used + $2 <= allocated AND shard = (
			SELECT shard FROM vaccine_supply_shards
			WHERE vaccine_id = $1 AND used + $2 <= allocated
			ORDER BY shard
			LIMIT 1
			FOR NO KEY UPDATE)
		RETURNING shard`
	// sqlShardsLock locks every shard of the vaccine in shard order and
	// reads their newest versions (SetSupply, and the last word of Book).
	sqlShardsLock = `SELECT shard, allocated, used FROM vaccine_supply_shards
		WHERE vaccine_id = $1 ORDER BY shard FOR NO KEY UPDATE`
	// sqlShardTake takes $3 doses from shard $2, locked by the caller.
	sqlShardTake = `UPDATE vaccine_supply_shards SET used = used + $3
		WHERE vaccine_id = $1 AND shard = $2 AND used + $3 <= allocated`
	// sqlShardGive gives $3 doses back to shard $2.
	sqlShardGive = `UPDATE vaccine_supply_shards SET used = used - $3
		WHERE vaccine_id = $1 AND shard = $2 AND used >= $3
		RETURNING shard`
	// sqlShardGiveAny gives $2 doses back to the first shard (in shard order)
	// that holds as many; for doses that are not where the booking says.
	sqlShardGiveAny = `UPDATE vaccine_supply_shards SET used = used - $2
		WHERE vaccine_id = $1 AND used >= $2 AND shard = (
			SELECT shard FROM vaccine_supply_shards
			WHERE vaccine_id = $1 AND used >= $2
			ORDER BY shard
			LIMIT 1
			FOR NO KEY UPDATE)
		RETURNING shard`
	// sqlShardShrink lowers the allocation of shard $2 by $3 (paying debt).
	sqlShardShrink = `UPDATE vaccine_supply_shards SET allocated = allocated - $3
		WHERE vaccine_id = $1 AND shard = $2 AND allocated - $3 >= used`
	sqlSupplyAllocated = `SELECT allocated FROM vaccine_supply WHERE vaccine_id = $1`
	sqlSupplyDebt      = `SELECT debt FROM vaccine_supply WHERE vaccine_id = $1`
	sqlSupplyDebtLock  = `SELECT debt FROM vaccine_supply WHERE vaccine_id = $1 FOR NO KEY UPDATE`
	sqlSupplyDebtPay   = `UPDATE vaccine_supply SET debt = debt - $2 WHERE vaccine_id = $1 AND debt >= $2`
	// sqlSupplyCreate and sqlShardsCreate create the vaccine's supply row (no
	// limit) and its shards (no room) where missing, for SetSupply; neither
	// locks a row that exists.
	sqlSupplyCreate = `INSERT INTO vaccine_supply (vaccine_id, allocated, debt) VALUES ($1, 0, 0)
		ON CONFLICT (vaccine_id) DO NOTHING`
	sqlShardsCreate = `INSERT INTO vaccine_supply_shards (vaccine_id, shard, allocated, used)
		SELECT $1, s, 0, 0 FROM generate_series(0, $2::integer - 1) AS s
		ON CONFLICT (vaccine_id, shard) DO NOTHING`
	// sqlShardsSet sets the allocations of the given shards.
	sqlShardsSet = `UPDATE vaccine_supply_shards s SET allocated = a.allocated
		FROM unnest($2::integer[], $3::bigint[]) AS a(shard, allocated)
		WHERE s.vaccine_id = $1 AND s.shard = a.shard`
	sqlSupplySet = `UPDATE vaccine_supply SET allocated = $2, debt = $3 WHERE vaccine_id = $1`

	// sqlSlotTake holds one place if the slot has fewer than $4 bookings. An
	// UPDATE waits for a row locked by another transaction and then
	// evaluates its WHERE on the newest committed version, so concurrent
	// takes queue on the row and none can pass the capacity. A slot already
	// full when the statement starts is passed over without waiting or
	// locking; one that fills up while the statement waits stays locked
	// until the transaction ends (see places.TakeDose2).
	sqlSlotTake = `UPDATE slots SET booked = booked + 1
		WHERE clinic_id = $1 AND date = $2 AND block = $3 AND booked < $4`
	// sqlSlotFirst creates the row of a slot not booked before, with its
	// first booking; it does nothing if the row exists.
	sqlSlotFirst = `INSERT INTO slots (clinic_id, date, block, booked) VALUES ($1, $2, $3, 1)
		ON CONFLICT (clinic_id, date, block) DO NOTHING`
	// sqlSlotPeek reads the counts of the given slots, without locking.
	sqlSlotPeek = `SELECT clinic_id, date, block, booked FROM slots
		WHERE (clinic_id, date, block) IN (SELECT * FROM unnest($1::bigint[], $2::date[], $3::integer[]))`
	// The savepoint before the tries of dose-2 candidates (see places.TakeDose2).
	sqlSavepointDose2 = `SAVEPOINT dose2`
	sqlRollbackDose2  = `ROLLBACK TO SAVEPOINT dose2`
	// sqlSlotLock locks the existing rows of the given slots in
	// chronological order (see Change).
	sqlSlotLock = `SELECT booked FROM slots
		WHERE (clinic_id, date, block) IN (SELECT * FROM unnest($1::bigint[], $2::date[], $3::integer[]))
		ORDER BY date, block, clinic_id
		FOR NO KEY UPDATE`
	sqlSlotRelease = `UPDATE slots SET booked = booked - 1
		WHERE clinic_id = $1 AND date = $2 AND block = $3 AND booked > 0`

	// bookingInsert does nothing (0 rows) if the number is taken; a second
	// active booking of the person fails with a unique violation of
	// bookings_one_active_per_person.
	sqlBookingInsert = `INSERT INTO bookings (` + bookingColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		ON CONFLICT (number) DO NOTHING`
	sqlBookingGet    = `SELECT ` + bookingColumns + ` FROM bookings WHERE number = $1`
	sqlBookingActive = `SELECT ` + bookingColumns + ` FROM bookings WHERE person_key = $1 AND status = 'booked'`
	sqlBookingLock   = `SELECT ` + bookingColumns + ` FROM bookings WHERE number = $1 FOR NO KEY UPDATE`
	sqlBookingMove   = `UPDATE bookings SET dose1_clinic = $1, dose1_date = $2, dose1_block = $3,
		dose2_clinic = $4, dose2_date = $5, dose2_block = $6, updated_at = $7, share_key = $8
		WHERE number = $9 AND status = 'booked'`
	sqlBookingCancel = `UPDATE bookings SET status = 'cancelled', updated_at = $1
		WHERE number = $2 AND status = 'booked'`

	sqlOutboxInsert = `INSERT INTO outbox (booking_number, kind, recipient, body, created_at) VALUES ($1, $2, $3, $4, $5)`
	sqlOutboxMark   = `UPDATE outbox SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL`
	sqlOutboxIs     = `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`
	sqlPending      = `SELECT id, booking_number, kind, recipient, body, created_at FROM outbox
		WHERE sent_at IS NULL ORDER BY id LIMIT $1`

	// booking.SessionStore (migrations/003_sessions.sql).
	// A code tried against a challenge ($1, expiring $2) counts only while
	// it has been tried fewer than $3 times; one that answers it uses it
	// up (attempts = $3). Concurrent tries of one challenge queue on its
	// row.
	sqlChallengeCount = `INSERT INTO challenge_attempts (id, attempts, expires) VALUES ($1, 1, $2)
		ON CONFLICT (id) DO UPDATE SET attempts = challenge_attempts.attempts + 1
		WHERE challenge_attempts.attempts < $3
		RETURNING attempts`
	sqlChallengeUse = `INSERT INTO challenge_attempts (id, attempts, expires) VALUES ($1, $3, $2)
		ON CONFLICT (id) DO UPDATE SET attempts = $3 WHERE challenge_attempts.attempts < $3`
	// A session replaces the identity's row only once its lock has run
	// out (or it has expired): one identity, one session. Concurrent
	// opens of one identity queue on its row.
	sqlSessionOpen = `INSERT INTO booking_sessions (person_key, id, sealed, locked_until, expires)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (person_key) DO UPDATE SET id = excluded.id, sealed = excluded.sealed,
			locked_until = excluded.locked_until, expires = excluded.expires
		WHERE booking_sessions.locked_until <= $6 OR booking_sessions.expires <= $6`
	sqlSessionGet = `SELECT person_key, sealed, locked_until, expires FROM booking_sessions
		WHERE id = $1 AND expires > $2`
	sqlSessionEnd      = `DELETE FROM booking_sessions WHERE id = $1`
	sqlGrantPut        = `INSERT INTO lookup_grants (id, sealed, expires) VALUES ($1, $2, $3)`
	sqlGrantGet        = `SELECT sealed FROM lookup_grants WHERE id = $1 AND expires > $2`
	sqlPurgeChallenges = `DELETE FROM challenge_attempts WHERE id IN
		(SELECT id FROM challenge_attempts WHERE expires <= $1 LIMIT $2)`
	sqlPurgeSessions = `DELETE FROM booking_sessions WHERE person_key IN
		(SELECT person_key FROM booking_sessions WHERE expires <= $1 AND locked_until <= $1 LIMIT $2)`
	sqlPurgeGrants = `DELETE FROM lookup_grants WHERE id IN
		(SELECT id FROM lookup_grants WHERE expires <= $1 LIMIT $2)`

	sqlSlotCounts = `SELECT clinic_id, date, block, booked FROM slots WHERE booked > 0
		ORDER BY clinic_id, date, block`
	// sqlSupply reads the allocation and the doses used, in one snapshot.
	sqlSupply = `SELECT v.allocated, coalesce((SELECT sum(s.used) FROM vaccine_supply_shards s
			WHERE s.vaccine_id = v.vaccine_id), 0)::bigint
		FROM vaccine_supply v WHERE v.vaccine_id = $1`
	sqlCountBookings = `SELECT campaign_id, cohort_id, vaccine_id, count(*) FROM bookings WHERE status = 'booked'
		GROUP BY campaign_id, cohort_id, vaccine_id`
)
