package booking

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// Idempotency. A booking, change or cancel request may carry a key
// (Idempotency-Key; the pages put one in every form they render). The
// store keeps the key, scoped to the person who sent it (scopedKey), with
// a hash of what the request asked for; a request sent again with the same
// key, because its answer was lost, changes nothing and gets the booking
// back, and the same key sent with another request is refused
// (ErrIdempotencyReuse).
//
// A hash covers what identifies the request, and nothing a retry may
// legitimately change: not timestamps, not a booking number the caller
// generated, not message texts, and not the booker's phone number (the
// same person verified again with another phone is the same person, who
// may replay their key).

// BookHash is the hash of a Book request: the booking as the store
// commits it (the person, the campaign, cohort and vaccine, the first
// dose, who books) and the second-dose candidates.
func BookHash(b *Booking, dose2Candidates []Slot) []byte {
	h := newRequestHash("sluice book v2")
	h.str(b.CampaignID)
	h.str(b.CohortID)
	h.str(b.VaccineID)
	h.str(b.PersonKey)
	h.str(b.Name)
	h.date(b.BirthDate)
	h.str(b.BookedBy)
	h.slot(b.Dose1.Slot)
	h.slots(dose2Candidates)
	return h.sum()
}

// ChangeHash is the hash of a Change request: the booking and its new
// first dose (the second-dose candidates follow from it and the clinic).
func ChangeHash(req *ChangeRequest) []byte {
	h := newRequestHash("sluice change v1")
	h.str(req.Number)
	h.slot(req.NewDose1)
	return h.sum()
}

// CancelHash is the hash of a Cancel request.
func CancelHash(number string) []byte {
	h := newRequestHash("sluice cancel v1")
	h.str(number)
	return h.sum()
}

// checkIdempotencyKey refuses a key longer than maxIdempotencyKeyLen
// (ErrInvalidRequest), for a booking as for a change or a cancellation.
// Any bytes are allowed: the store keeps only scopedKey's hash of it.
func checkIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKeyLen {
		return fmt.Errorf("%w: idempotency key longer than %d bytes", ErrInvalidRequest, maxIdempotencyKeyLen)
	}
	return nil
}

// scopedKey namespaces an idempotency key by the person who sends it, so
// one person's key can never collide with another's.
func scopedKey(personKey, key string) string {
	h := sha256.Sum256([]byte("sluice-idem-v1\x00" + personKey + "\x00" + key))
	return "bk1-" + hex.EncodeToString(h[:])
}

// requestHash writes length-prefixed fields, so that no two requests
// write the same bytes.
type requestHash struct {
	h   hash.Hash
	buf [8]byte
}

func newRequestHash(kind string) *requestHash {
	h := &requestHash{h: sha256.New()}
	h.str(kind)
	return h
}

func (h *requestHash) num(n int64) {
	binary.BigEndian.PutUint64(h.buf[:], uint64(n))
	h.h.Write(h.buf[:])
}

func (h *requestHash) str(s string) {
	h.num(int64(len(s)))
	h.h.Write([]byte(s))
}

func (h *requestHash) date(d Date) {
	h.num(int64(d.Year)<<16 | int64(d.Month)<<8 | int64(d.Day))
}

func (h *requestHash) slot(s Slot) {
	h.num(s.ClinicID)
	h.date(s.Date)
	h.num(int64(s.Block))
}

func (h *requestHash) slots(ss []Slot) {
	h.num(int64(len(ss)))
	for _, s := range ss {
		h.slot(s)
	}
}

func (h *requestHash) sum() []byte { return h.h.Sum(nil) }
