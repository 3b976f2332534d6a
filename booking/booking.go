// Package booking is the vaccination-campaign domain: campaigns and cohorts,
// eligibility, resident registration numbers, regions and clinics, slots and
// bookings. It is plain Go with no I/O; storage lives behind Store,
// implemented by booking/sqlite (one node) and booking/postgres (several
// nodes), both held to one contract (booking/storetest).
package booking

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// Seoul is the campaign time zone. Korea has had no daylight saving time since
// 1988, so a fixed +09:00 zone is exact for every date we handle and does not
// depend on the host's tzdata.
var Seoul = time.FixedZone("KST", 9*60*60)

// Date is a calendar date without a time of day (a birth date, an appointment
// date). It is compared as a value, never as a string.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// TimeBlock is the index of an appointment block within a clinic day.
// Block b starts at FirstBlockHour+b o'clock Seoul time and lasts one hour.
type TimeBlock int

const (
	FirstBlockHour = 9 // 09:00
	BlocksPerDay   = 8 // 09:00-17:00
)

// Hours are the hours block b covers, as every text writes them (the
// messages, the pages, the API's statistics): "09:00" and "10:00".
func (b TimeBlock) Hours() (start, end string) {
	h := FirstBlockHour + int(b)
	return fmt.Sprintf("%02d:00", h), fmt.Sprintf("%02d:00", h+1)
}

// Slot identifies one bookable unit of capacity: a clinic, a date, a block.
type Slot struct {
	ClinicID int64
	Date     Date
	Block    TimeBlock
}

// String names the slot in error messages: "clinic 12 2021-07-26 block 3".
func (s Slot) String() string {
	return fmt.Sprintf("clinic %d %s block %d", s.ClinicID, s.Date, s.Block)
}

// Appointment is one dose at one slot.
type Appointment struct {
	Slot
	Dose int // 1 or 2
}

// Status of a booking.
type Status string

const (
	StatusBooked    Status = "booked"
	StatusCancelled Status = "cancelled"
)

// Booking is a committed first-dose booking with its automatic second dose.
type Booking struct {
	Number     string // booking number shown to the person, e.g. "SLC-7K2M-9QXD"
	CampaignID string
	CohortID   string
	VaccineID  string
	PersonKey  string // keyed hash (HMAC-SHA256, hex) of the RRN; never the RRN
	Name       string
	Phone      string // digits only, e.g. "01012345678"
	BirthDate  Date
	BookedBy   string // PersonKey of the person who made the booking (differs for proxy bookings)
	Dose1      Appointment
	Dose2      Appointment
	Status     Status
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// ShareKey is the window share (ShareKey) the booking counts against
	// at its first dose's slot; "" for none (a window without a share, a
	// campaign without shares, or booked or changed from release_at).
	ShareKey string
}

// Message is a notification in the transactional outbox.
type Message struct {
	ID            int64
	BookingNumber string
	Kind          string // "confirmation", "change", "cancel", "verification"
	To            string // phone digits
	Body          string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// BookRequest is everything the store needs to commit a booking atomically.
type BookRequest struct {
	IdempotencyKey string // optional; same key returns the same result
	Booking        Booking
	// Dose2Candidates are the acceptable second-dose slots in order of
	// preference (default interval first, then nearest dates inside the
	// vaccine's window). The store takes the first with free capacity inside
	// the same transaction; if none is free the whole booking fails with
	// ErrNoSecondDose and nothing is held.
	Dose2Candidates []Slot
	// SlotCapacity gives the capacity of a slot (from clinic data).
	SlotCapacity func(Slot) int
	// LeftoverID, if not 0, books one of these leftover doses for the first
	// dose (ErrLeftoverGone if none is left or their time is over at
	// Booking.CreatedAt) instead of a place of the slot's capacity: the
	// first dose's slot is counted, beyond its capacity.
	LeftoverID int64
	// Share, if set, counts the booking against a window's share of the
	// first dose's slot (shares.go): ErrSlotFull when the share holds
	// Capacity active bookings already. The booking's ShareKey is its Key
	// ("" without), whatever Booking.ShareKey says.
	Share *ShareLimit
	// Confirmation is written to the outbox in the same transaction. Its
	// body may hold Dose2Placeholder, which the store replaces with the
	// second dose it chose before writing it (FillDose2), so that the text
	// sent is the one true when the booking committed.
	Confirmation Message
}

// ChangeRequest moves an existing booking to new slots.
type ChangeRequest struct {
	Number          string
	NewDose1        Slot
	Dose2Candidates []Slot
	SlotCapacity    func(Slot) int
	// Share, if set, counts the moved booking against this share of the
	// new first dose's slot, as BookRequest.Share does (ErrSlotFull when
	// the share holds Capacity active bookings other than this one); the
	// booking's ShareKey becomes its Key, or "" without one, so that the
	// old slot's share has its place back.
	Share *ShareLimit
	// Notice is written to the outbox in the same transaction, its
	// Dose2Placeholder filled like a confirmation's.
	Notice Message
	Now    time.Time
	// IdempotencyKey is optional: a request sent again with the same key
	// (its answer lost) changes nothing and returns the booking.
	IdempotencyKey string
}

// CancelRequest cancels a booking.
type CancelRequest struct {
	Number string
	Notice Message // written to the outbox in the same transaction
	Now    time.Time
	// IdempotencyKey is optional, as for ChangeRequest.
	IdempotencyKey string
}

// SlotCount is the number of bookings held at a slot.
type SlotCount struct {
	Slot
	Booked int
}

// CohortKey names a cohort across a programme: cohort ids are unique only
// within their campaign.
type CohortKey struct{ Campaign, Cohort string }

// BookingCounts are the active bookings of a store.
type BookingCounts struct {
	ByCohort  map[CohortKey]int
	ByVaccine map[string]int
}

// Store is the durable truth for bookings, and for what any node serving a
// person must find about them in the middle of a journey (SessionStore).
// Capacity and uniqueness (one active booking per person across the
// programme: a person key holds at most one booking not cancelled) are
// enforced inside its transactions.
type Store interface {
	// Book commits a booking: person uniqueness, both doses' capacity,
	// vaccine supply, the booking row and the outbox message, all or nothing.
	Book(ctx context.Context, req BookRequest) (Booking, error)
	// Get returns a booking by number (ErrNotFound if none).
	Get(ctx context.Context, number string) (Booking, error)
	// ActiveBooking returns the person's booking that is not cancelled, in
	// any campaign (ErrNotFound if none): there is at most one.
	ActiveBooking(ctx context.Context, personKey string) (Booking, error)
	// Change moves both doses, releasing the old slots, in one transaction.
	Change(ctx context.Context, req ChangeRequest) (Booking, error)
	// Cancel marks the booking cancelled and frees both doses' capacity.
	Cancel(ctx context.Context, req CancelRequest) (Booking, error)
	// Replay returns the booking of an earlier request with this
	// idempotency key and request hash (RequestHash), found false if the
	// key is unused, ErrIdempotencyReuse if it was used for another
	// request. The booking is as it is now.
	Replay(ctx context.Context, key string, hash []byte) (b Booking, found bool, err error)
	// SlotCounts lists every slot with at least one booking (for warming the
	// in-memory availability index at start).
	SlotCounts(ctx context.Context) ([]SlotCount, error)
	// SetSupply sets the dose allocation for a vaccine (doses, both doses count).
	SetSupply(ctx context.Context, vaccineID string, doses int) error
	// Supply returns allocated and used doses for a vaccine.
	Supply(ctx context.Context, vaccineID string) (allocated, used int, err error)
	// PendingMessages returns unsent outbox messages, oldest first.
	PendingMessages(ctx context.Context, limit int) ([]Message, error)
	// MarkSent records delivery of a message.
	MarkSent(ctx context.Context, id int64, at time.Time) error
	// CountBookings returns the active bookings per cohort and per vaccine.
	CountBookings(ctx context.Context) (BookingCounts, error)
	// ShareCounts lists, per first-dose slot and share, the active
	// bookings made in a window with a share (for the search index).
	ShareCounts(ctx context.Context) ([]ShareCount, error)
	// PostLeftover records leftover doses a clinic offers (ID assigned).
	PostLeftover(ctx context.Context, l Leftover) (Leftover, error)
	// Leftovers lists the leftover doses posted for a day, newest first,
	// with how many are booked.
	Leftovers(ctx context.Context, day Date) ([]Leftover, error)
	// BookingsAt lists the active bookings whose first dose is at a clinic
	// on a day, by time block (a clinic's list of who is coming).
	BookingsAt(ctx context.Context, clinicID int64, day Date) ([]Booking, error)
	// PutClinicToken records a clinic credential (by its hash), or its
	// revocation (RevokedAt set).
	PutClinicToken(ctx context.Context, t ClinicToken) error
	// ClinicToken returns a credential by hash (ErrClinicToken if none).
	ClinicToken(ctx context.Context, hash string) (ClinicToken, error)
	// RevokeClinicTokens revokes every credential of a clinic and returns
	// how many were valid.
	RevokeClinicTokens(ctx context.Context, clinicID int64, at time.Time) (int, error)
	// Ping checks that the store answers (readiness), cheaply.
	Ping(ctx context.Context) error
	SessionStore
	Close() error
}

// maxBookingNumberLen bounds a booking number as typed.
const maxBookingNumberLen = 32

// normalizeNumber trims and upper-cases a booking number as typed; "" if it
// cannot be one.
func normalizeNumber(n string) string {
	n = strings.ToUpper(strings.TrimSpace(n))
	if n == "" || len(n) > maxBookingNumberLen {
		return ""
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return ""
		}
	}
	return n
}

// bookingNumberAlphabet has no 0/O or 1/I, so a number read aloud or copied
// by hand survives. 32 symbols: each random byte maps without bias.
const bookingNumberAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewBookingNumber returns a random booking number "SLC-XXXX-XXXX" (40
// bits), the format the stores generate.
func NewBookingNumber() string {
	var r [8]byte
	rand.Read(r[:])
	out := []byte("SLC-XXXX-XXXX")
	for i, p := range [8]int{4, 5, 6, 7, 9, 10, 11, 12} {
		out[p] = bookingNumberAlphabet[r[i]&31]
	}
	return string(out)
}
