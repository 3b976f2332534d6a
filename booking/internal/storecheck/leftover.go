package storecheck

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// CheckLeftover refuses (ErrInvalid) a leftover offer no store may post:
// no clinic, vaccine, doses or day.
func CheckLeftover(l booking.Leftover) error {
	if l.ClinicID <= 0 || l.VaccineID == "" || l.Doses <= 0 || l.Date.IsZero() {
		return fmt.Errorf("%w: leftover %+v", ErrInvalid, l)
	}
	return nil
}

// CheckClinicToken refuses (ErrInvalid) a clinic token whose hash is not
// 64 characters (a hex SHA-256, as the schema checks) or that names no
// clinic.
func CheckClinicToken(t booking.ClinicToken) error {
	if len(t.Hash) != 64 || t.ClinicID <= 0 {
		return fmt.Errorf("%w: clinic token", ErrInvalid)
	}
	return nil
}

// NanosOrNull is an instant as the stores keep one that may be missing:
// Unix nanoseconds, or nil (NULL) for the zero time.
func NanosOrNull(at time.Time) *int64 {
	if at.IsZero() {
		return nil
	}
	n := at.UnixNano()
	return &n
}

// ScanClinicToken reads clinic token hash's row of (clinic id, created at
// and revoked at or NULL in Unix nanoseconds); scan is the row's Scan,
// noRows the driver's error for no row (booking.ErrClinicToken).
func ScanClinicToken(scan func(dest ...any) error, noRows error, hash string) (booking.ClinicToken, error) {
	t := booking.ClinicToken{Hash: hash}
	var created int64
	var revoked *int64
	err := scan(&t.ClinicID, &created, &revoked)
	if errors.Is(err, noRows) {
		return booking.ClinicToken{}, booking.ErrClinicToken
	}
	if err != nil {
		return booking.ClinicToken{}, err
	}
	t.CreatedAt = time.Unix(0, created).In(booking.Seoul)
	if revoked != nil {
		t.RevokedAt = time.Unix(0, *revoked).In(booking.Seoul)
	}
	return t, nil
}
