// Package storecheck is what every booking.Store checks and computes the
// same way, so that the stores (booking/sqlite, booking/postgres) accept
// and refuse the same calls, hash idempotent requests alike and report
// errors alike. It is internal: callers of a store see only its errors.
package storecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// ErrInvalid is returned by stores for a call no store may accept: an
// empty id, a date that does not exist, a block outside the day, a person
// key shaped like an RRN, and so on. The service never makes such calls,
// so it is not one of the booking errors a person can meet.
var ErrInvalid = errors.New("invalid input")

// DateText is a date as the stores keep it: YYYY-MM-DD, "" for the zero
// date (no birth date given).
func DateText(d booking.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// OutboxMessage is the message a store writes for booking b, changed as
// it reports: what the caller left out filled in, and the second dose the
// store chose written into its text (booking.FillDose2).
func OutboxMessage(m booking.Message, b *booking.Booking, kind string, at time.Time) booking.Message {
	m.BookingNumber = b.Number
	if m.Kind == "" {
		m.Kind = kind
	}
	if m.To == "" {
		m.To = b.Phone
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = at
	}
	return booking.FillDose2(m, *b)
}

// Records is where a store writes, in the transaction of a booking or a
// change, what goes with the booking row.
type Records interface {
	// InsertMessage writes m to the outbox.
	InsertMessage(m booking.Message) error
	// PutKey keeps a request's idempotency key with the request hash
	// and the booking number it answers with.
	PutKey(key, number string, hash []byte, at time.Time) error
}

// Record writes, in the transaction that books or changes booking b at
// at, its message m as a message of kind (OutboxMessage), and the
// request's idempotency key with its hash (key "": none). Both commit with
// the booking row or not at all: the message goes out only for a change
// that was made, and a request sent again is answered from its key.
func Record(r Records, b *booking.Booking, m booking.Message, kind string, at time.Time, key string, hash []byte) error {
	if err := r.InsertMessage(OutboxMessage(m, b, kind, at)); err != nil {
		return err
	}
	if key == "" {
		return nil
	}
	return r.PutKey(key, b.Number, hash, at)
}

// ValidateBookRequest refuses (ErrInvalid) a Book request no store may
// accept.
func ValidateBookRequest(req *booking.BookRequest) error {
	b := &req.Booking
	switch {
	case b.CampaignID == "":
		return fmt.Errorf("%w: empty campaign id", ErrInvalid)
	case b.VaccineID == "":
		return fmt.Errorf("%w: empty vaccine id", ErrInvalid)
	}
	if err := CheckPersonKey("person key", b.PersonKey); err != nil {
		return err
	}
	if b.BookedBy != "" {
		if err := CheckPersonKey("booked-by key", b.BookedBy); err != nil {
			return err
		}
	}
	if !b.BirthDate.IsZero() {
		if err := checkDate("birth date", b.BirthDate); err != nil {
			return err
		}
	}
	return ValidateSlots(b.Dose1.Slot, req.Dose2Candidates, req.SlotCapacity)
}

// ValidateSlots refuses (ErrInvalid) a first-dose slot or second-dose
// candidates that are not real slots, or no capacity function.
func ValidateSlots(dose1 booking.Slot, candidates []booking.Slot, capacity func(booking.Slot) int) error {
	if capacity == nil {
		return fmt.Errorf("%w: no slot capacity function", ErrInvalid)
	}
	if err := checkSlot("dose 1", dose1); err != nil {
		return err
	}
	for i, c := range candidates {
		if err := checkSlot(fmt.Sprintf("dose 2 candidate %d", i+1), c); err != nil {
			return err
		}
	}
	return nil
}

func checkSlot(what string, s booking.Slot) error {
	if s == (booking.Slot{}) {
		return fmt.Errorf("%w: %s: no slot given", ErrInvalid, what)
	}
	if s.ClinicID <= 0 {
		return fmt.Errorf("%w: %s: clinic id %d", ErrInvalid, what, s.ClinicID)
	}
	if err := checkDate(what+" date", s.Date); err != nil {
		return err
	}
	if s.Block < 0 || s.Block >= booking.BlocksPerDay {
		return fmt.Errorf("%w: %s: time block %d outside 0..%d", ErrInvalid, what, s.Block, booking.BlocksPerDay-1)
	}
	return nil
}

func checkDate(what string, d booking.Date) error {
	if _, ok := booking.NewDate(d.Year, d.Month, d.Day); !ok || d.Year < 1 || d.Year > 9999 {
		return fmt.Errorf("%w: %s %04d-%02d-%02d is not a calendar date", ErrInvalid, what, d.Year, int(d.Month), d.Day)
	}
	return nil
}

// CheckPersonKey rejects an empty key and anything shaped like a resident
// registration number (13 digits, or YYMMDD-NNNNNNN): the store only ever
// holds keyed hashes. The schema has the same CHECK.
func CheckPersonKey(what, k string) error {
	if k == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	}
	if LooksLikeRRN(k) {
		return fmt.Errorf("%w: %s looks like a resident registration number; pass its keyed hash", ErrInvalid, what)
	}
	return nil
}

// LooksLikeRRN reports whether a person key has the shape of a resident
// registration number.
func LooksLikeRRN(k string) bool {
	digits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	switch len(k) {
	case 13:
		return digits(k)
	case 14:
		return k[6] == '-' && digits(k[:6]) && digits(k[7:])
	}
	return false
}

// Wrap turns an error from a store operation into the error the store
// returns: the booking errors and ErrInvalid pass through unchanged; a
// request that ran out of time, and an error unavailable says is the
// database's (unreachable, refusing, locked, shutting down), are
// booking.ErrUnavailable; a cancelled context is reported as such
// (errors.Is(err, context.Canceled) holds); anything else is wrapped with
// the store's and the operation's names.
func Wrap(ctx context.Context, store, op string, err error, unavailable func(error) bool) error {
	if err == nil {
		return nil
	}
	if IsDomainError(err) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || unavailable(err) {
		return fmt.Errorf("%s: %s: %w: %w", store, op, booking.ErrUnavailable, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %s: %w (%v)", store, op, cerr, err)
	}
	return fmt.Errorf("%s: %s: %w", store, op, err)
}

// Failed is Wrap for an operation that returns a booking, which it drops
// on error: a store's Book returns Failed(ctx, "sqlite", "book",
// unavailable)(s.book(ctx, req)).
func Failed(ctx context.Context, store, op string, unavailable func(error) bool) func(booking.Booking, error) (booking.Booking, error) {
	return func(b booking.Booking, err error) (booking.Booking, error) {
		if err != nil {
			return booking.Booking{}, Wrap(ctx, store, op, err, unavailable)
		}
		return b, nil
	}
}

// IsDomainError reports whether err is one of the errors a store
// returns as they are: a booking error (booking.ErrorCode) or ErrInvalid.
func IsDomainError(err error) bool {
	return errors.Is(err, ErrInvalid) || booking.ErrorCode(err) != ""
}

// NewBooking is the booking a Book request commits, before the store picks
// its second dose and number: booked, dose 1 as asked, booked by the
// person unless a proxy is named, timestamped now unless the request says
// when, in UTC (the stores keep instants, not zones).
func NewBooking(req *booking.BookRequest, now time.Time) booking.Booking {
	b := req.Booking
	b.Status = booking.StatusBooked
	b.Dose1 = booking.Appointment{Slot: b.Dose1.Slot, Dose: 1}
	b.ShareKey = ShareKeyOf(req.Share)
	if b.BookedBy == "" {
		b.BookedBy = b.PersonKey
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = b.CreatedAt
	}
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b
}

// ShareKeyOf is the ShareKey of a booking made or moved with share sh:
// "" without one.
func ShareKeyOf(sh *booking.ShareLimit) string {
	if sh == nil {
		return ""
	}
	return sh.Key
}

// Replayed is the answer to a request whose idempotency key the store
// already holds with the request hash stored: the booking (loaded by load)
// if the request is the same, ErrIdempotencyReuse if not.
func Replayed(stored, hash []byte, load func() (booking.Booking, error)) (booking.Booking, error) {
	if !bytes.Equal(stored, hash) {
		return booking.Booking{}, booking.ErrIdempotencyReuse
	}
	return load()
}

// Refusal is the error a Book refused with err answers. One active
// booking per person is enforced by a unique index when the booking row
// is inserted, so a refusal before that (slot full, no supply) would hide
// that the person already has a booking: hasActive looks for one, and a
// person who has one hears ErrAlreadyBooked. Only refusals look; the path
// that succeeds pays for no extra query. Errors other than the booking
// errors pass unchanged.
func Refusal(err error, hasActive func() (bool, error)) error {
	if !IsDomainError(err) {
		return err
	}
	active, qerr := hasActive()
	switch {
	case qerr != nil:
		return qerr
	case active:
		return booking.ErrAlreadyBooked
	}
	return err
}

// Found reports whether a query for one row found it: scan is the row's
// Scan, noRows the driver's error for no row.
func Found(scan func(dest ...any) error, noRows error) (bool, error) {
	var v any
	switch err := scan(&v); {
	case err == nil:
		return true, nil
	case errors.Is(err, noRows):
		return false, nil
	default:
		return false, err
	}
}

// CheckRecord refuses (ErrInvalid) a session or look-up record without an
// id, content or expiry.
func CheckRecord(what, id string, sealed []byte, expires time.Time) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s: empty id", ErrInvalid, what)
	case len(sealed) == 0:
		return fmt.Errorf("%w: %s %s: nothing sealed", ErrInvalid, what, id)
	case expires.IsZero():
		return fmt.Errorf("%w: %s %s: no expiry", ErrInvalid, what, id)
	}
	return nil
}

// CheckOpenSession refuses (ErrInvalid) a session no store may open.
func CheckOpenSession(req booking.OpenSessionRequest) error {
	r := req.Session
	if err := CheckRecord("session", r.ID, r.Sealed, r.Expires); err != nil {
		return err
	}
	if req.ChallengeID == "" || req.ChallengeExpires.IsZero() || req.MaxAttempts <= 0 {
		return fmt.Errorf("%w: session %s: no challenge, challenge expiry or most attempts", ErrInvalid, r.ID)
	}
	return CheckPersonKey("session person key", r.PersonKey)
}

// CheckNumber refuses (ErrInvalid) an empty booking number.
func CheckNumber(number string) error {
	if number == "" {
		return fmt.Errorf("%w: empty booking number", ErrInvalid)
	}
	return nil
}

// CheckLimit refuses (ErrInvalid) a limit on the rows one call reads or
// deletes that is not positive.
func CheckLimit(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	}
	return nil
}

// CheckChallengeID refuses (ErrInvalid) an empty challenge id.
func CheckChallengeID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty challenge id", ErrInvalid)
	}
	return nil
}

// At is the instant a change is recorded at: at, or clock() if at is zero,
// in UTC.
func At(at time.Time, clock func() time.Time) time.Time {
	if at.IsZero() {
		at = clock()
	}
	return at.UTC()
}

// Migration is one embedded migration file, migrations/NNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file name
}

// Migrations lists the migrations/NNN_name.sql files of fsys in order of
// version, refusing a file named otherwise and two files of one version.
func Migrations(fsys fs.FS) (ms []Migration, err error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("bad migration file name %q (want NNN_name.sql)", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		ms = append(ms, Migration{v, name})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// CheckSchemaVersion refuses a database whose newest applied migration is
// newer than the newest of ms: this program would not know its schema.
func CheckSchemaVersion(newest int, ms []Migration) error {
	if len(ms) > 0 && newest > ms[len(ms)-1].Version {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d)", newest, ms[len(ms)-1].Version)
	}
	return nil
}

// OpenSession is OpenSession's two writes, in the caller's transaction,
// each returning the rows it changed: useChallenge uses the challenge up
// (none: booking.ErrChallengeExpired), then open opens the session (none:
// the identity's session is held, booking.ErrSessionHeld).
func OpenSession(useChallenge, open func() (int64, error)) error {
	n, err := useChallenge()
	if err != nil {
		return err
	}
	if n == 0 {
		return booking.ErrChallengeExpired
	}
	if n, err = open(); err != nil {
		return err
	}
	if n == 0 {
		return booking.ErrSessionHeld
	}
	return nil
}

// ScanSession reads session id's row of (person key, sealed, locked until
// and expires in Unix nanoseconds); scan is the row's Scan, noRows the
// driver's error for no row (booking.ErrSessionExpired).
func ScanSession(scan func(dest ...any) error, noRows error, id string) (booking.SessionRecord, error) {
	r := booking.SessionRecord{ID: id}
	var locked, expires int64
	err := scan(&r.PersonKey, &r.Sealed, &locked, &expires)
	if errors.Is(err, noRows) {
		return booking.SessionRecord{}, booking.ErrSessionExpired
	}
	if err != nil {
		return booking.SessionRecord{}, err
	}
	r.LockedUntil, r.Expires = FromNanos(locked), FromNanos(expires)
	return r, nil
}

// ScanAttempts reads the count of wrong codes a challenge's upsert
// returned; scan is the row's Scan, noRows the driver's error for no row:
// the upsert changed none, the challenge has had its most attempts
// (booking.ErrChallengeExpired).
func ScanAttempts(scan func(dest ...any) error, noRows error) (int, error) {
	var n int64
	err := scan(&n)
	switch {
	case errors.Is(err, noRows):
		return 0, booking.ErrChallengeExpired
	case err != nil:
		return 0, err
	}
	return int(n), nil
}

// ScanGrant reads a look-up grant's sealed record; scan is the row's Scan,
// noRows the driver's error for no row (booking.ErrLookupExpired).
func ScanGrant(scan func(dest ...any) error, noRows error) ([]byte, error) {
	var sealed []byte
	err := scan(&sealed)
	switch {
	case errors.Is(err, noRows):
		return nil, booking.ErrLookupExpired
	case err != nil:
		return nil, err
	}
	return sealed, nil
}

// MarkSent is MarkSent once mark has run: a message it changed no row of
// was marked already, and the first time stands, or does not exist
// (booking.ErrNotFound), which exists tells. Messages are never deleted, so
// the answer cannot change between the two.
func MarkSent(id int64, mark func() (int64, error), exists func() (bool, error)) error {
	n, err := mark()
	if err != nil || n > 0 {
		return err
	}
	ok, err := exists()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("message %d: %w", id, booking.ErrNotFound)
	}
	return nil
}
