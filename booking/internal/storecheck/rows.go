package storecheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Rows is a query's result as the stores read it: *sql.Rows and pgx.Rows
// both are.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Query starts one of a store's reads: its rows, and done, which closes
// them and gives back what the read holds (a connection, the reader lock).
// Each store makes its reads' Query one way (its pool, its locks), and
// Read runs any of them.
type Query func() (rows Rows, done func(), err error)

// Read runs q and reads its result with read, then closes it.
func Read[T any](q Query, read func(Rows) (T, error)) (T, error) {
	rows, done, err := q()
	if err != nil {
		var zero T
		return zero, err
	}
	defer done()
	return read(rows)
}

// ReadAll runs q and reads every row of its result with scan (Collect).
func ReadAll[T any](q Query, scan func(Rows) (T, error)) ([]T, error) {
	return Read(q, func(rows Rows) ([]T, error) { return Collect(rows, scan) })
}

// Collect reads every row of rows with scan, which reads the current one.
func Collect[T any](rows Rows, scan func(Rows) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// BookingCounts adds up rows of (campaign id, cohort id, vaccine id, active
// bookings) per cohort and per vaccine.
func BookingCounts(rows Rows) (booking.BookingCounts, error) {
	out := booking.BookingCounts{ByCohort: map[booking.CohortKey]int{}, ByVaccine: map[string]int{}}
	for rows.Next() {
		var campaign, cohort, vaccine string
		var n int64
		if err := rows.Scan(&campaign, &cohort, &vaccine, &n); err != nil {
			return booking.BookingCounts{}, err
		}
		out.ByCohort[booking.CohortKey{Campaign: campaign, Cohort: cohort}] += int(n)
		out.ByVaccine[vaccine] += int(n)
	}
	if err := rows.Err(); err != nil {
		return booking.BookingCounts{}, err
	}
	return out, nil
}

// ScanMessage reads an outbox row of (id, booking number or NULL, kind,
// recipient, body, created at in Unix nanoseconds).
func ScanMessage(rows Rows) (booking.Message, error) {
	var m booking.Message
	var number sql.NullString
	var created int64
	if err := rows.Scan(&m.ID, &number, &m.Kind, &m.To, &m.Body, &created); err != nil {
		return booking.Message{}, err
	}
	m.BookingNumber = number.String
	m.CreatedAt = FromNanos(created)
	return m, nil
}

// FromNanos is the instant the stores keep as Unix nanoseconds, in UTC.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// ScanLeftover reads a leftovers row of (id, clinic id, vaccine id, doses,
// booked, until and posted at in Unix nanoseconds) of day.
func ScanLeftover(rows Rows, day booking.Date) (booking.Leftover, error) {
	l := booking.Leftover{Date: day}
	var until, posted int64
	if err := rows.Scan(&l.ID, &l.ClinicID, &l.VaccineID, &l.Doses, &l.Booked, &until, &posted); err != nil {
		return booking.Leftover{}, err
	}
	l.Until, l.PostedAt = time.Unix(0, until).In(booking.Seoul), time.Unix(0, posted).In(booking.Seoul)
	return l, nil
}

// ScanString reads a row of one text column.
func ScanString(rows Rows) (string, error) {
	var s string
	err := rows.Scan(&s)
	return s, err
}

// GetAll gets the bookings whose numbers q reads, in their order, with get
// (a store's Get), once q's read is over: a store whose reads share a lock
// takes it again in get. An error of the read goes through fail, the
// store's wrapping for its operation; get's errors are returned as they
// are.
func GetAll(ctx context.Context, q Query, get func(context.Context, string) (booking.Booking, error), fail func(error) error) ([]booking.Booking, error) {
	numbers, err := ReadAll(q, ScanString)
	if err != nil {
		return nil, fail(err)
	}
	out := make([]booking.Booking, 0, len(numbers))
	for _, n := range numbers {
		b, err := get(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// dateColumn scans a date column into d: text YYYY-MM-DD (SQLite), a
// time (a PostgreSQL date, through database/sql's Scanner), or NULL or ""
// for the zero Date (no birth date given).
type dateColumn struct{ d *booking.Date }

func (c dateColumn) Scan(src any) (err error) {
	switch v := src.(type) {
	case nil:
		*c.d = booking.Date{}
	case string:
		if v == "" {
			*c.d = booking.Date{}
			return nil
		}
		*c.d, err = booking.ParseDate(v)
	case []byte:
		return c.Scan(string(v))
	case time.Time:
		*c.d = booking.Date{Year: v.Year(), Month: v.Month(), Day: v.Day()}
	default:
		return fmt.Errorf("date column holds %T", src)
	}
	return err
}

// ScanSlot reads a row that starts with a slot (clinic id, date, block),
// and the columns after it into rest.
func ScanSlot(rows Rows, rest ...any) (booking.Slot, error) {
	var sl booking.Slot
	var block int64
	if err := rows.Scan(append([]any{&sl.ClinicID, dateColumn{&sl.Date}, &block}, rest...)...); err != nil {
		return booking.Slot{}, err
	}
	sl.Block = booking.TimeBlock(block)
	return sl, nil
}

// ScanSlotCount reads a row of (slot, bookings held there).
func ScanSlotCount(rows Rows) (c booking.SlotCount, err error) {
	c.Slot, err = ScanSlot(rows, &c.Booked)
	return c, err
}

// ScanShareCount reads a row of (first-dose slot, share key, active
// bookings in that share there).
func ScanShareCount(rows Rows) (c booking.ShareCount, err error) {
	c.Slot, err = ScanSlot(rows, &c.Key, &c.Booked)
	return c, err
}

// ScanBooking reads a bookings row of the stores' booking columns: number,
// campaign, cohort and vaccine ids, person key, name, phone, birth date,
// booked by, each dose's clinic, date and block, status, then the store's
// supply columns (into supply), created and updated at in Unix
// nanoseconds, and share key. scan is the row's Scan, noRows the driver's
// error for no row (booking.ErrNotFound).
func ScanBooking(scan func(dest ...any) error, noRows error, supply ...any) (booking.Booking, error) {
	var b booking.Booking
	var status string
	var d1block, d2block, created, updated int64
	dest := []any{&b.Number, &b.CampaignID, &b.CohortID, &b.VaccineID, &b.PersonKey, &b.Name, &b.Phone,
		dateColumn{&b.BirthDate}, &b.BookedBy,
		&b.Dose1.ClinicID, dateColumn{&b.Dose1.Date}, &d1block, &b.Dose2.ClinicID, dateColumn{&b.Dose2.Date}, &d2block,
		&status}
	dest = append(dest, supply...)
	err := scan(append(dest, &created, &updated, &b.ShareKey)...)
	if errors.Is(err, noRows) {
		return booking.Booking{}, booking.ErrNotFound
	}
	if err != nil {
		return booking.Booking{}, err
	}
	b.Dose1.Block, b.Dose1.Dose = booking.TimeBlock(d1block), 1
	b.Dose2.Block, b.Dose2.Dose = booking.TimeBlock(d2block), 2
	b.Status = booking.Status(status)
	b.CreatedAt, b.UpdatedAt = FromNanos(created), FromNanos(updated)
	return b, nil
}
