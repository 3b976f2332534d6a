package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Book is booking.Store's Book, in one transaction at READ COMMITTED,
// retried on deadlock or serialization failure (see the package comment
// for the order in which it takes its locks).
func (s *Store) Book(ctx context.Context, req booking.BookRequest) (booking.Booking, error) {
	return failed(ctx, "book")(s.book(ctx, req))
}

func (s *Store) book(ctx context.Context, req booking.BookRequest) (booking.Booking, error) {
	if err := validateBook(&req); err != nil {
		return booking.Booking{}, err
	}
	b := storecheck.NewBooking(&req, s.now())
	if err := checkText("idempotency key", req.IdempotencyKey, "booking number", b.Number,
		"campaign id", b.CampaignID, "cohort id", b.CohortID, "vaccine id", b.VaccineID,
		"name", b.Name, "phone", b.Phone); err != nil {
		return booking.Booking{}, err
	}
	if err := checkMessageText(req.Confirmation); err != nil {
		return booking.Booking{}, err
	}
	var hash []byte
	if req.IdempotencyKey != "" {
		hash = booking.BookHash(&b, req.Dose2Candidates)
	}
	var out booking.Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = s.bookTx(ctx, tx, &req, b, hash)
		return err
	})
	if err != nil {
		return booking.Booking{}, err
	}
	return out, nil
}

// bookTx is one attempt at Book; b is the normalised booking, hash the
// request hash if the request has an idempotency key.
func (s *Store) bookTx(ctx context.Context, tx pgx.Tx, req *booking.BookRequest, b booking.Booking, hash []byte) (booking.Booking, error) {
	if prev, found, err := lockKey(ctx, tx, req.IdempotencyKey, hash); found || err != nil {
		return prev, err // nothing written
	}

	refuse := func(err error) error {
		return storecheck.Refusal(err, func() (bool, error) {
			return storecheck.Found(tx.QueryRow(ctx, sqlPersonActive, b.PersonKey).Scan, pgx.ErrNoRows)
		})
	}
	// The supply is checked first, as in the SQLite store (a booking refused
	// for both reasons hears "supply exhausted"), but taken last: the supply
	// shards of a vaccine are shared by every booking of it, and the lock on
	// the one taken is held until commit, so it is taken as late as possible.
	limited, err := peekSupply(ctx, tx, b.VaccineID)
	if err != nil {
		return booking.Booking{}, refuse(err)
	}
	if err := storecheck.HoldBooking(places{ctx, tx}, req, &b, refuse); err != nil {
		return booking.Booking{}, err
	}
	var hold supplyHold
	if limited {
		if hold, err = takeSupply(ctx, tx, b.VaccineID); err != nil {
			return booking.Booking{}, refuse(err)
		}
	}

	err = storecheck.InsertNumbered(&b, s.newNumber, func() (taken bool, err error) {
		tag, err := tx.Exec(ctx, sqlBookingInsert,
			b.Number, b.CampaignID, b.CohortID, b.VaccineID, b.PersonKey, b.Name, b.Phone,
			nullDate(b.BirthDate), b.BookedBy,
			b.Dose1.ClinicID, pgDate(b.Dose1.Date), int32(b.Dose1.Block),
			b.Dose2.ClinicID, pgDate(b.Dose2.Date), int32(b.Dose2.Block),
			string(b.Status), int32(hold.doses), hold.shard, b.CreatedAt.UnixNano(), b.UpdatedAt.UnixNano(), b.ShareKey)
		if uniqueViolation(err, constraintOneActivePerPerson) {
			return false, booking.ErrAlreadyBooked
		}
		// ON CONFLICT (number) DO NOTHING: no row if the number is taken.
		return err == nil && tag.RowsAffected() == 0, err
	})
	if err != nil {
		return booking.Booking{}, err
	}

	if err := storecheck.Record(records{ctx, tx}, &b, req.Confirmation, "confirmation", b.CreatedAt, req.IdempotencyKey, hash); err != nil {
		return booking.Booking{}, err
	}
	return b, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return fail(ctx, "ping", s.pool.Ping(ctx))
}

// places is storecheck.Places in transaction tx. A place taken locks the
// slot's row until commit: the bookings of a slot are serialised, and a
// count in the transaction (READ COMMITTED: a new snapshot) sees every one
// committed before.
type places struct {
	ctx context.Context
	tx  pgx.Tx
}

// TryTake holds one place at slot if it has fewer than c bookings.
func (p places) TryTake(slot booking.Slot, c int) (bool, error) {
	if c <= 0 {
		return false, nil
	}
	ctx, tx := p.ctx, p.tx
	date, block := pgDate(slot.Date), int32(slot.Block)
	for attempt := 0; ; attempt++ {
		tag, err := tx.Exec(ctx, sqlSlotTake, slot.ClinicID, date, block, int64(c))
		if err != nil || tag.RowsAffected() == 1 {
			return err == nil, err
		}
		if attempt > 0 {
			return false, nil // full
		}
		// No room, or no row yet: the first booking of the slot creates it.
		if tag, err = tx.Exec(ctx, sqlSlotFirst, slot.ClinicID, date, block); err != nil || tag.RowsAffected() == 1 {
			return err == nil, err
		}
		// The row exists: full, or created by another transaction since the
		// UPDATE looked (the INSERT waited for it to commit). Look again.
	}
}

// TakeDose2 holds the first candidate with free capacity.
//
// With several candidates, their counts are read first, in one query and
// without locks, and only candidates that had room then are tried: this
// saves a round trip per full candidate while the dose-1 slot is locked. A
// place freed in a full candidate after the read is not seen; the candidate
// taken had room at the time.
//
// A try can still fail, when the UPDATE waited for another transaction that
// took the last place; PostgreSQL then keeps the row locked until commit.
// Holding it while waiting for the next candidate could deadlock with a
// booking that prefers the candidates in the opposite order (bookings at
// neighbouring blocks do), so the tries run after a savepoint, and a failed
// try rolls back to it, which gives the lock back.
func (p places) TakeDose2(candidates []booking.Slot, capacity func(booking.Slot) int) (booking.Slot, error) {
	ctx, tx := p.ctx, p.tx
	var booked map[booking.Slot]int64
	several := len(candidates) > 1
	if several {
		var err error
		if booked, err = savepointAndPeek(ctx, tx, candidates); err != nil {
			return booking.Slot{}, err
		}
	}
	for _, c := range candidates {
		limit := capacity(c)
		if limit <= 0 || booked[c] >= int64(limit) {
			continue
		}
		ok, err := p.TryTake(c, limit)
		if err != nil {
			return booking.Slot{}, err
		}
		if ok {
			return c, nil
		}
		if several {
			if _, err := tx.Exec(ctx, sqlRollbackDose2); err != nil {
				return booking.Slot{}, err
			}
		}
	}
	return booking.Slot{}, booking.ErrNoSecondDose
}

// savepointAndPeek sets the dose-2 savepoint and returns the bookings held
// at those of the candidates that have a row, in one round trip.
func savepointAndPeek(ctx context.Context, tx pgx.Tx, candidates []booking.Slot) (map[booking.Slot]int64, error) {
	clinics, dates, blocks := slotArrays(candidates)
	batch := &pgx.Batch{}
	batch.Queue(sqlSavepointDose2)
	batch.Queue(sqlSlotPeek, clinics, dates, blocks)
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[booking.Slot]int64, len(candidates))
	for rows.Next() {
		var n int64
		sl, err := storecheck.ScanSlot(rows, &n)
		if err != nil {
			return nil, err
		}
		out[sl] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, br.Close()
}

// slotArrays is slots as the three arrays sqlSlotPeek and sqlSlotLock take.
func slotArrays(slots []booking.Slot) (clinics []int64, dates []pgtype.Date, blocks []int32) {
	clinics = make([]int64, len(slots))
	dates = make([]pgtype.Date, len(slots))
	blocks = make([]int32, len(slots))
	for i, s := range slots {
		clinics[i], dates[i], blocks[i] = s.ClinicID, pgDate(s.Date), int32(s.Block)
	}
	return clinics, dates, blocks
}

// lockSlots locks the existing rows of slots in chronological order.
func lockSlots(ctx context.Context, tx pgx.Tx, slots []booking.Slot) error {
	clinics, dates, blocks := slotArrays(slots)
	_, err := tx.Exec(ctx, sqlSlotLock, clinics, dates, blocks)
	return err
}

// releaseDoses gives back the places of both doses of b.
func releaseDoses(ctx context.Context, tx pgx.Tx, b booking.Booking) error {
	for _, slot := range [2]booking.Slot{b.Dose1.Slot, b.Dose2.Slot} {
		if _, err := tx.Exec(ctx, sqlSlotRelease, slot.ClinicID, pgDate(slot.Date), int32(slot.Block)); err != nil {
			return err
		}
	}
	return nil
}

// lockActiveBooking locks booking number for a change or a cancel:
// ErrCancelled if it is cancelled.
func lockActiveBooking(ctx context.Context, tx pgx.Tx, number string) (b booking.Booking, hold supplyHold, err error) {
	b, hold, err = scanBooking(tx.QueryRow(ctx, sqlBookingLock, number))
	if err == nil && b.Status == booking.StatusCancelled {
		err = booking.ErrCancelled
	}
	return b, hold, err
}

// records is storecheck.Records in transaction tx.
type records struct {
	ctx context.Context
	tx  pgx.Tx
}

// InsertMessage writes m to the outbox.
func (r records) InsertMessage(m booking.Message) error {
	_, err := r.tx.Exec(r.ctx, sqlOutboxInsert, m.BookingNumber, m.Kind, m.To, m.Body, m.CreatedAt.UnixNano())
	return err
}

// Get returns the booking with the given number.
func (s *Store) Get(ctx context.Context, number string) (booking.Booking, error) {
	if err := storecheck.CheckNumber(number); err != nil {
		return booking.Booking{}, fail(ctx, "get", err)
	}
	if !storable(number) {
		return booking.Booking{}, booking.ErrNotFound
	}
	b, _, err := scanBooking(s.pool.QueryRow(ctx, sqlBookingGet, number))
	if err != nil {
		return booking.Booking{}, fail(ctx, "get", err)
	}
	return b, nil
}

// ActiveBooking returns the person's booking that is not cancelled, in any
// campaign.
func (s *Store) ActiveBooking(ctx context.Context, personKey string) (booking.Booking, error) {
	if err := storecheck.CheckPersonKey("person key", personKey); err != nil {
		return booking.Booking{}, fail(ctx, "active booking", err)
	}
	b, _, err := scanBooking(s.pool.QueryRow(ctx, sqlBookingActive, personKey))
	if err != nil {
		return booking.Booking{}, fail(ctx, "active booking", err)
	}
	return b, nil
}

// Change is booking.Store's Change, in one transaction that locks the
// booking row and every slot it may touch, in slot order, first.
func (s *Store) Change(ctx context.Context, req booking.ChangeRequest) (booking.Booking, error) {
	return failed(ctx, "change")(s.change(ctx, req))
}

func (s *Store) change(ctx context.Context, req booking.ChangeRequest) (booking.Booking, error) {
	if err := storecheck.ValidateSlots(req.NewDose1, req.Dose2Candidates, req.SlotCapacity); err != nil {
		return booking.Booking{}, err
	}
	if err := checkChange(req.Number, req.IdempotencyKey, req.Notice); err != nil {
		return booking.Booking{}, err
	}
	now := storecheck.At(req.Now, s.now)
	return s.changeBooking(ctx, req.Number, req.IdempotencyKey, booking.ChangeHash(&req), now, req.Notice, "change",
		func(tx pgx.Tx, b *booking.Booking, _ supplyHold) error {
			// Lock every slot the change may touch, in chronological order,
			// before changing any: Book and Cancel lock a booking's slots first
			// dose first, so a Change does not deadlock with them (or with
			// another Change) whatever its new dates.
			touched := append([]booking.Slot{b.Dose1.Slot, b.Dose2.Slot, req.NewDose1}, req.Dose2Candidates...)
			if err := lockSlots(ctx, tx, touched); err != nil {
				return err
			}
			if err := releaseDoses(ctx, tx, *b); err != nil {
				return err
			}
			// The new slot's row is locked once taken, as in Book: every
			// booking or move into it, and every move out of it or cancel
			// (releaseDoses), waits for this transaction.
			if err := storecheck.HoldChange(places{ctx, tx}, &req, b, now); err != nil {
				return err
			}
			return updateBooking(ctx, tx, sqlBookingMove, b.Number,
				b.Dose1.ClinicID, pgDate(b.Dose1.Date), int32(b.Dose1.Block),
				b.Dose2.ClinicID, pgDate(b.Dose2.Date), int32(b.Dose2.Block),
				now.UnixNano(), b.ShareKey, b.Number)
		})
}

// Cancel is booking.Store's Cancel, in one transaction that locks the
// booking row first.
func (s *Store) Cancel(ctx context.Context, req booking.CancelRequest) (booking.Booking, error) {
	return failed(ctx, "cancel")(s.cancel(ctx, req))
}

func (s *Store) cancel(ctx context.Context, req booking.CancelRequest) (booking.Booking, error) {
	number := req.Number
	if err := checkChange(number, req.IdempotencyKey, req.Notice); err != nil {
		return booking.Booking{}, err
	}
	now := storecheck.At(req.Now, s.now)
	return s.changeBooking(ctx, number, req.IdempotencyKey, booking.CancelHash(number), now, req.Notice, "cancel",
		func(tx pgx.Tx, b *booking.Booking, hold supplyHold) error {
			if err := updateBooking(ctx, tx, sqlBookingCancel, number, now.UnixNano(), number); err != nil {
				return err
			}
			if err := releaseDoses(ctx, tx, *b); err != nil {
				return err
			}
			if hold.doses > 0 {
				if err := giveSupply(ctx, tx, b.VaccineID, hold); err != nil {
					return err
				}
			}
			b.Status = booking.StatusCancelled
			b.UpdatedAt = now
			return nil
		})
}

// changeBooking is the transaction of a Change or Cancel of booking
// number. A request whose idempotency key the store holds is answered
// from it (lockKey). Otherwise apply changes the booking, locked (and
// ErrCancelled if it is cancelled), given the doses it holds of its
// vaccine's supply, and the notice, as a message of kind, and the key are
// written with the change.
func (s *Store) changeBooking(ctx context.Context, number, key string, hash []byte, now time.Time, notice booking.Message, kind string,
	apply func(tx pgx.Tx, b *booking.Booking, hold supplyHold) error) (booking.Booking, error) {
	var out booking.Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		prev, found, err := lockKey(ctx, tx, key, hash)
		if found || err != nil {
			out = prev
			return err
		}
		b, hold, err := lockActiveBooking(ctx, tx, number)
		if err != nil {
			return err
		}
		if err := apply(tx, &b, hold); err != nil {
			return err
		}
		if err := storecheck.Record(records{ctx, tx}, &b, notice, kind, now, key, hash); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return booking.Booking{}, err
	}
	return out, nil
}

// updateBooking runs query, an UPDATE of active booking number, which the
// transaction has locked.
func updateBooking(ctx context.Context, tx pgx.Tx, query, number string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("booking %s changed under a row lock", number)
	}
	return nil
}

// SlotCounts lists every slot holding at least one booking.
func (s *Store) SlotCounts(ctx context.Context) ([]booking.SlotCount, error) {
	out, err := storecheck.ReadAll(s.query(ctx, sqlSlotCounts), storecheck.ScanSlotCount)
	return out, fail(ctx, "slot counts", err)
}

// PendingMessages returns up to limit unsent outbox messages, oldest first.
func (s *Store) PendingMessages(ctx context.Context, limit int) ([]booking.Message, error) {
	if err := storecheck.CheckLimit(limit); err != nil {
		return nil, fail(ctx, "pending messages", err)
	}
	out, err := storecheck.ReadAll(s.query(ctx, sqlPending, int64(limit)), storecheck.ScanMessage)
	return out, fail(ctx, "pending messages", err)
}

// MarkSent records that message id was delivered at at. Marking a message
// that is already marked keeps the first time; an unknown id is ErrNotFound.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	at = storecheck.At(at, s.now)
	return fail(ctx, "mark sent", storecheck.MarkSent(id, func() (int64, error) {
		tag, err := s.pool.Exec(ctx, sqlOutboxMark, at.UnixNano(), id)
		return tag.RowsAffected(), err
	}, func() (exists bool, err error) {
		err = s.pool.QueryRow(ctx, sqlOutboxIs, id).Scan(&exists)
		return exists, err
	}))
}

// CountBookings returns the number of active bookings per cohort and per
// vaccine.
func (s *Store) CountBookings(ctx context.Context) (booking.BookingCounts, error) {
	out, err := storecheck.Read(s.query(ctx, sqlCountBookings), storecheck.BookingCounts)
	return out, fail(ctx, "count bookings", err)
}

// scanBooking reads one bookings row (bookingColumns) and also returns the
// doses it holds against the vaccine supply, and where.
func scanBooking(row pgx.Row) (booking.Booking, supplyHold, error) {
	var supplyDoses int32
	var supplyShard *int32
	b, err := storecheck.ScanBooking(row.Scan, pgx.ErrNoRows, &supplyDoses, &supplyShard)
	return b, supplyHold{doses: int(supplyDoses), shard: supplyShard}, err
}

// pgDate is the PostgreSQL date of a calendar date.
func pgDate(d booking.Date) pgtype.Date {
	return pgtype.Date{Time: time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC), Valid: true}
}

// nullDate is pgDate, or NULL for the zero Date (a birth date not given).
func nullDate(d booking.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgDate(d)
}

// checkChange checks the booking number, the idempotency key and the
// message of a change or a cancel: a number PostgreSQL cannot store is no
// booking's (ErrNotFound).
func checkChange(number, key string, notice booking.Message) error {
	if err := storecheck.CheckNumber(number); err != nil {
		return err
	}
	if err := checkText("idempotency key", key); err != nil {
		return err
	}
	if err := checkMessageText(notice); err != nil {
		return err
	}
	if !storable(number) {
		return booking.ErrNotFound
	}
	return nil
}

func checkMessageText(m booking.Message) error {
	return checkText("message kind", m.Kind, "message recipient", m.To, "message body", m.Body)
}
