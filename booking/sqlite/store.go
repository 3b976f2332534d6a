package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// Book is booking.Store's Book, in one write transaction: the single
// writer connection makes it serial, so no check can race another.
func (s *Store) Book(ctx context.Context, req booking.BookRequest) (booking.Booking, error) {
	return failed(ctx, "book")(s.book(ctx, req))
}

func (s *Store) book(ctx context.Context, req booking.BookRequest) (booking.Booking, error) {
	if err := storecheck.ValidateBookRequest(&req); err != nil {
		return booking.Booking{}, err
	}
	b := storecheck.NewBooking(&req, s.now())
	var hash []byte
	if req.IdempotencyKey != "" {
		hash = booking.BookHash(&b, req.Dose2Candidates)
	}

	t, err := s.begin(ctx)
	if err != nil {
		return booking.Booking{}, err
	}
	defer t.rollback()
	st := &s.ws

	if req.IdempotencyKey != "" {
		if prev, found, err := replayed(t.row, st.idemGet, st.bookingGet, req.IdempotencyKey, hash); found || err != nil {
			return prev, err // the transaction rolls back: nothing written
		}
	}

	refuse := func(err error) error {
		return storecheck.Refusal(err, func() (bool, error) {
			return storecheck.Found(t.row(st.personActive, b.PersonKey).Scan, sql.ErrNoRows)
		})
	}
	supplyDoses, err := takeSupply(t, st, b.VaccineID)
	if err != nil {
		return booking.Booking{}, refuse(err)
	}
	if err := storecheck.HoldBooking(places{s, t}, &req, &b, refuse); err != nil {
		return booking.Booking{}, err
	}

	err = storecheck.InsertNumbered(&b, s.newNumber, func() (taken bool, err error) {
		_, err = t.exec(st.bookingInsert,
			b.Number, b.CampaignID, b.CohortID, b.VaccineID, b.PersonKey, b.Name, b.Phone,
			storecheck.DateText(b.BirthDate), b.BookedBy,
			b.Dose1.ClinicID, b.Dose1.Date.String(), int64(b.Dose1.Block),
			b.Dose2.ClinicID, b.Dose2.Date.String(), int64(b.Dose2.Block),
			string(b.Status), supplyDoses, b.CreatedAt.UnixNano(), b.UpdatedAt.UnixNano(), b.ShareKey)
		switch sqliteCode(err) {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // bookings_one_active_per_person, the only UNIQUE index
			return false, booking.ErrAlreadyBooked
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY: // the number is taken
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return booking.Booking{}, err
	}

	if err := storecheck.Record(records{t, st}, &b, req.Confirmation, "confirmation", b.CreatedAt, req.IdempotencyKey, hash); err != nil {
		return booking.Booking{}, err
	}
	if err := t.commit(); err != nil {
		return booking.Booking{}, err
	}
	return b, nil
}

// takeSupply counts two doses against the vaccine's allocation if it has one
// and returns the number of doses taken (0 if the vaccine is not limited).
func takeSupply(t *wtx, st *writeStmts, vaccineID string) (int, error) {
	n, err := t.exec(st.supplyTake, vaccineID, booking.DosesPerBooking)
	if err != nil {
		return 0, err
	}
	if n == 1 {
		return booking.DosesPerBooking, nil
	}
	var allocated int64
	switch err := t.row(st.supplyGet, vaccineID).Scan(&allocated); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	case allocated > 0:
		return 0, fmt.Errorf("vaccine %q: %w", vaccineID, booking.ErrSupplyExhausted)
	}
	return 0, nil
}

// places is storecheck.Places in write transaction t. The writer
// connection is serial, so no booking can commit between a check and a
// write.
type places struct {
	s *Store
	t *wtx
}

// TryTake holds one place at slot if it has fewer than c bookings.
func (p places) TryTake(slot booking.Slot, c int) (bool, error) {
	if c <= 0 {
		return false, nil
	}
	n, err := p.t.exec(p.s.ws.slotTake, slot.ClinicID, slot.Date.String(), int64(slot.Block), c)
	return n == 1, err
}

// TakeDose2 holds the first candidate with free capacity.
func (p places) TakeDose2(candidates []booking.Slot, capacity func(booking.Slot) int) (booking.Slot, error) {
	for _, c := range candidates {
		ok, err := p.TryTake(c, capacity(c))
		if err != nil {
			return booking.Slot{}, err
		}
		if ok {
			return c, nil
		}
	}
	return booking.Slot{}, booking.ErrNoSecondDose
}

// releaseDoses gives back the places of both doses of b.
func releaseDoses(t *wtx, st *writeStmts, b booking.Booking) error {
	for _, slot := range [2]booking.Slot{b.Dose1.Slot, b.Dose2.Slot} {
		if _, err := t.exec(st.slotRelease, slot.ClinicID, slot.Date.String(), int64(slot.Block)); err != nil {
			return err
		}
	}
	return nil
}

// activeBooking reads booking number in the write transaction for a change
// or a cancel: ErrCancelled if it is cancelled.
func activeBooking(t *wtx, st *writeStmts, number string) (b booking.Booking, supplyDoses int, err error) {
	b, supplyDoses, err = scanBooking(t.row(st.bookingGet, number))
	if err == nil && b.Status == booking.StatusCancelled {
		err = booking.ErrCancelled
	}
	return b, supplyDoses, err
}

// records is storecheck.Records in write transaction t.
type records struct {
	t  *wtx
	st *writeStmts
}

// InsertMessage writes m to the outbox.
func (r records) InsertMessage(m booking.Message) error {
	_, err := r.t.exec(r.st.outboxInsert, m.BookingNumber, m.Kind, m.To, m.Body, m.CreatedAt.UnixNano())
	return err
}

// Get returns the booking with the given number.
func (s *Store) Get(ctx context.Context, number string) (booking.Booking, error) {
	if err := storecheck.CheckNumber(number); err != nil {
		return booking.Booking{}, fail(ctx, "get", err)
	}
	return s.readBooking(ctx, "get", s.rs.bookingGet, number)
}

// ActiveBooking returns the person's booking that is not cancelled, in any
// campaign.
func (s *Store) ActiveBooking(ctx context.Context, personKey string) (booking.Booking, error) {
	if err := storecheck.CheckPersonKey("person key", personKey); err != nil {
		return booking.Booking{}, fail(ctx, "active booking", err)
	}
	return s.readBooking(ctx, "active booking", s.rs.bookingActive, personKey)
}

// readBooking reads the booking read statement stmt finds by key
// (ErrNotFound if none), for operation op.
func (s *Store) readBooking(ctx context.Context, op string, stmt *sql.Stmt, key string) (booking.Booking, error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return booking.Booking{}, fail(ctx, op, err)
	}
	defer unlock()
	b, _, err := scanBooking(stmt.QueryRowContext(ctx, key))
	return b, fail(ctx, op, err)
}

// Change is booking.Store's Change, in one write transaction.
func (s *Store) Change(ctx context.Context, req booking.ChangeRequest) (booking.Booking, error) {
	return failed(ctx, "change")(s.change(ctx, req))
}

func (s *Store) change(ctx context.Context, req booking.ChangeRequest) (booking.Booking, error) {
	if err := storecheck.CheckNumber(req.Number); err != nil {
		return booking.Booking{}, err
	}
	if err := storecheck.ValidateSlots(req.NewDose1, req.Dose2Candidates, req.SlotCapacity); err != nil {
		return booking.Booking{}, err
	}
	now := storecheck.At(req.Now, s.now)
	return s.changeBooking(ctx, req.Number, req.IdempotencyKey, booking.ChangeHash(&req), now, req.Notice, "change",
		func(t *wtx, st *writeStmts, b *booking.Booking, _ int) error {
			if err := releaseDoses(t, st, *b); err != nil {
				return err
			}
			if err := storecheck.HoldChange(places{s, t}, &req, b, now); err != nil {
				return err
			}
			return updateBooking(t, st.bookingMove, b.Number,
				b.Dose1.ClinicID, b.Dose1.Date.String(), int64(b.Dose1.Block),
				b.Dose2.ClinicID, b.Dose2.Date.String(), int64(b.Dose2.Block),
				now.UnixNano(), b.ShareKey, b.Number)
		})
}

// Cancel is booking.Store's Cancel, in one write transaction.
func (s *Store) Cancel(ctx context.Context, req booking.CancelRequest) (booking.Booking, error) {
	return failed(ctx, "cancel")(s.cancel(ctx, req))
}

func (s *Store) cancel(ctx context.Context, req booking.CancelRequest) (booking.Booking, error) {
	number := req.Number
	if err := storecheck.CheckNumber(number); err != nil {
		return booking.Booking{}, err
	}
	now := storecheck.At(req.Now, s.now)
	return s.changeBooking(ctx, number, req.IdempotencyKey, booking.CancelHash(number), now, req.Notice, "cancel",
		func(t *wtx, st *writeStmts, b *booking.Booking, supplyDoses int) error {
			if err := updateBooking(t, st.bookingCancel, number, now.UnixNano(), number); err != nil {
				return err
			}
			if err := releaseDoses(t, st, *b); err != nil {
				return err
			}
			if supplyDoses > 0 {
				if _, err := t.exec(st.supplyGive, b.VaccineID, supplyDoses); err != nil {
					return err
				}
			}
			b.Status = booking.StatusCancelled
			b.UpdatedAt = now
			return nil
		})
}

// changeBooking is the write transaction of a Change or Cancel of booking
// number. A request whose idempotency key the store holds is answered
// from it. Otherwise apply changes the booking (ErrCancelled if it is
// cancelled), given the doses it holds of its vaccine's supply, and the
// notice, as a message of kind, and the key are written with the change.
func (s *Store) changeBooking(ctx context.Context, number, key string, hash []byte, now time.Time, notice booking.Message, kind string,
	apply func(t *wtx, st *writeStmts, b *booking.Booking, supplyDoses int) error) (booking.Booking, error) {
	t, err := s.begin(ctx)
	if err != nil {
		return booking.Booking{}, err
	}
	defer t.rollback()
	st := &s.ws
	if key != "" {
		if prev, found, err := replayed(t.row, st.idemGet, st.bookingGet, key, hash); found || err != nil {
			return prev, err
		}
	}
	b, supplyDoses, err := activeBooking(t, st, number)
	if err != nil {
		return booking.Booking{}, err
	}
	if err := apply(t, st, &b, supplyDoses); err != nil {
		return booking.Booking{}, err
	}
	if err := storecheck.Record(records{t, st}, &b, notice, kind, now, key, hash); err != nil {
		return booking.Booking{}, err
	}
	if err := t.commit(); err != nil {
		return booking.Booking{}, err
	}
	return b, nil
}

// updateBooking runs stmt, an UPDATE of active booking number, which the
// write transaction has read.
func updateBooking(t *wtx, stmt *sql.Stmt, number string, args ...any) error {
	n, err := t.exec(stmt, args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("booking %s changed under a write lock", number)
	}
	return nil
}

// replayed answers a request whose idempotency key the store holds
// (found), from the booking as it is; query runs idemGet and bookingGet,
// the read or the write transaction's statements.
func replayed(query func(*sql.Stmt, ...any) *sql.Row, idemGet, bookingGet *sql.Stmt, key string, hash []byte) (booking.Booking, bool, error) {
	var number string
	var stored []byte
	switch err := query(idemGet, key).Scan(&number, &stored); {
	case errors.Is(err, sql.ErrNoRows):
		return booking.Booking{}, false, nil
	case err != nil:
		return booking.Booking{}, false, err
	}
	b, err := storecheck.Replayed(stored, hash, func() (booking.Booking, error) {
		b, _, err := scanBooking(query(bookingGet, number))
		return b, err
	})
	return b, err == nil, err
}

// PutKey records the idempotency key of a request.
func (r records) PutKey(key, number string, hash []byte, at time.Time) error {
	_, err := r.t.exec(r.st.idemPut, key, number, hash, at.UnixNano())
	return err
}

// Replay is booking.Store's Replay: a read, no transaction.
func (s *Store) Replay(ctx context.Context, key string, hash []byte) (booking.Booking, bool, error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return booking.Booking{}, false, fail(ctx, "replay", err)
	}
	defer unlock()
	query := func(st *sql.Stmt, args ...any) *sql.Row { return st.QueryRowContext(ctx, args...) }
	b, found, err := replayed(query, s.rs.idemGet, s.rs.bookingGet, key, hash)
	return b, found, fail(ctx, "replay", err)
}

// Ping checks that a read answers.
func (s *Store) Ping(ctx context.Context) error {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return fail(ctx, "ping", err)
	}
	defer unlock()
	var one int
	return fail(ctx, "ping", s.rs.ping.QueryRowContext(ctx).Scan(&one))
}

// SlotCounts lists every slot holding at least one booking.
func (s *Store) SlotCounts(ctx context.Context) ([]booking.SlotCount, error) {
	out, err := storecheck.ReadAll(s.queryStmt(ctx, s.rs.slotCounts), storecheck.ScanSlotCount)
	return out, fail(ctx, "slot counts", err)
}

// SetSupply sets the dose allocation of a vaccine, keeping the count of doses
// used. An allocation of 0 removes the limit.
func (s *Store) SetSupply(ctx context.Context, vaccineID string, doses int) error {
	if vaccineID == "" || doses < 0 {
		return fail(ctx, "set supply", fmt.Errorf("%w: vaccine %q, doses %d", ErrInvalid, vaccineID, doses))
	}
	t, err := s.begin(ctx)
	if err != nil {
		return fail(ctx, "set supply", err)
	}
	defer t.rollback()
	if _, err := t.exec(s.ws.supplySet, vaccineID, doses); err != nil {
		return fail(ctx, "set supply", err)
	}
	return fail(ctx, "set supply", t.commit())
}

// Supply returns the allocated and used doses of a vaccine (0, 0 if it has
// no allocation).
func (s *Store) Supply(ctx context.Context, vaccineID string) (allocated, used int, err error) {
	unlock, err := s.lockReader(ctx)
	if err != nil {
		return 0, 0, fail(ctx, "supply", err)
	}
	defer unlock()
	err = s.rs.supply.QueryRowContext(ctx, vaccineID).Scan(&allocated, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fail(ctx, "supply", err)
	}
	return allocated, used, nil
}

// PendingMessages returns up to limit unsent outbox messages, oldest first.
func (s *Store) PendingMessages(ctx context.Context, limit int) ([]booking.Message, error) {
	if err := storecheck.CheckLimit(limit); err != nil {
		return nil, fail(ctx, "pending messages", err)
	}
	out, err := storecheck.ReadAll(s.queryStmt(ctx, s.rs.pending, limit), storecheck.ScanMessage)
	return out, fail(ctx, "pending messages", err)
}

// MarkSent records that message id was delivered at at. Marking a message
// that is already marked keeps the first time; an unknown id is ErrNotFound.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	at = storecheck.At(at, s.now)
	t, err := s.begin(ctx)
	if err != nil {
		return fail(ctx, "mark sent", err)
	}
	defer t.rollback()
	err = storecheck.MarkSent(id, func() (int64, error) {
		return t.exec(s.ws.outboxMark, at.UnixNano(), id)
	}, func() (bool, error) {
		var exists int
		err := t.row(s.ws.outboxIs, id).Scan(&exists)
		return exists != 0, err
	})
	if err != nil {
		return fail(ctx, "mark sent", err)
	}
	return fail(ctx, "mark sent", t.commit())
}

// CountBookings returns the number of active bookings per cohort and per
// vaccine.
func (s *Store) CountBookings(ctx context.Context) (booking.BookingCounts, error) {
	out, err := storecheck.Read(s.queryStmt(ctx, s.rs.countBookings), storecheck.BookingCounts)
	return out, fail(ctx, "count bookings", err)
}

// scanBooking reads one bookings row (bookingColumns) and also returns the
// doses it holds against the vaccine supply.
func scanBooking(row *sql.Row) (booking.Booking, int, error) {
	var supplyDoses int
	b, err := storecheck.ScanBooking(row.Scan, sql.ErrNoRows, &supplyDoses)
	return b, supplyDoses, err
}

// NewNumber returns a random booking number "SLC-XXXX-XXXX" (40 bits).
func NewNumber() string { return booking.NewBookingNumber() }
