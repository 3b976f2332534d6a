package postgres

import (
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/internal/storecheck"
)

// The input checks, booking numbers and request hashes are package
// storecheck's, shared with the SQLite store, so that both stores accept and
// refuse the same calls; PostgreSQL adds only that text must be storable.

// NewNumber returns a random booking number "SLC-XXXX-XXXX" (40 bits).
func NewNumber() string { return booking.NewBookingNumber() }

func validateBook(req *booking.BookRequest) error {
	if err := storecheck.ValidateBookRequest(req); err != nil {
		return err
	}
	return checkText("person key", req.Booking.PersonKey, "booked-by key", req.Booking.BookedBy)
}

func checkPersonKey(what, k string) error {
	if err := storecheck.CheckPersonKey(what, k); err != nil {
		return err
	}
	return checkText(what, k)
}
