package storecheck

import (
	"context"
	"database/sql"
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

// GetAll gets the bookings numbered numbers, in their order, with get (a
// store's Get).
func GetAll(ctx context.Context, numbers []string, get func(context.Context, string) (booking.Booking, error)) ([]booking.Booking, error) {
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
