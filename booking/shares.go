package booking

import (
	"sync"
	"time"
)

// Fair shares of appointment days. With one booking window per birth-day
// digit, the people of the first nights would take the earliest weeks and
// the later ones would find them gone. A campaign's shares divide each
// appointment slot's capacity between its share windows (Shares.Windows),
// each booking of such a window counting against its window's share of the
// first dose's slot, until ReleaseAt; from then on the slot's whole
// capacity is open to any window (the catch-up and "anyone" windows).
// Bookings of windows without a share (and of other campaigns) are not
// limited by the shares, only by the slot's capacity.
//
// The stores enforce a share in the booking transaction (BookRequest.Share)
// and in the change transaction (ChangeRequest.Share: a booking moved
// counts against its window's share of the new slot, as a booking made at
// the time of the change would, and leaves the old slot's): one refused
// for its share is refused like a full slot (ErrSlotFull), and search
// shows a slot full for your share as full (ShareView, ChangeShareView).

// Share splits.
const (
	SplitEqual      = "equal"       // every share window an equal part
	SplitCohortSize = "cohort_size" // in proportion to the people each window admits
)

// Shares is a campaign's division of appointment days between windows.
type Shares struct {
	Split     string   // SplitEqual or SplitCohortSize
	Windows   []string // ids of windows of the campaign's cohorts
	ReleaseAt time.Time
}

// ShareLimit is the share a booking counts against: at most Capacity
// active bookings of Key at the first dose's slot.
type ShareLimit struct {
	Key      string
	Capacity int
}

// ShareCount is the number of active bookings of a share at a slot.
type ShareCount struct {
	Slot
	Key    string
	Booked int
}

func (c *Campaign) checkShares(p *campaignProblems) {
	sh := c.Shares
	if sh == nil {
		return
	}
	if sh.Split != SplitEqual && sh.Split != SplitCohortSize {
		p.add("shares: split %q: want %q or %q", sh.Split, SplitEqual, SplitCohortSize)
	}
	if len(sh.Windows) < 2 {
		p.add("shares: windows: list at least two windows to share days between")
	}
	seen := map[string]bool{}
	for _, id := range sh.Windows {
		if seen[id] {
			p.add("shares: window %q listed twice", id)
		}
		seen[id] = true
		if _, w := c.window(id); w == nil {
			p.add("shares: window %q is not a window of the campaign", id)
		}
	}
	if sh.ReleaseAt.IsZero() {
		p.add("shares: release_at is required (when unused shares open to every window)")
	}
}

// window returns the first window with this id, and its cohort.
func (c *Campaign) window(id string) (*Cohort, *Window) {
	for i := range c.Cohorts {
		for j := range c.Cohorts[i].Windows {
			if c.Cohorts[i].Windows[j].ID == id {
				return &c.Cohorts[i], &c.Cohorts[i].Windows[j]
			}
		}
	}
	return nil, nil
}

// shareWeight is the weight of a share window: 1 for equal shares; for
// cohort_size, the number of days of a (non-leap) year that the window's
// birth-day digit admits (365 without a digit), times the years of its
// birth range.
func (c *Campaign) shareWeight(id string) int {
	if c.Shares.Split == SplitEqual {
		return 1
	}
	co, w := c.window(id)
	days := 365
	if w.BirthDayDigit != nil {
		days = 0
		for m := time.January; m <= time.December; m++ {
			n := time.Date(2001, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
			for d := 1; d <= n; d++ {
				if d%10 == *w.BirthDayDigit {
					days++
				}
			}
		}
	}
	from, to := co.BornFrom, co.BornTo
	if w.BornFrom != nil {
		from = *w.BornFrom
	}
	if w.BornTo != nil {
		to = *w.BornTo
	}
	return days * max(to.Year-from.Year+1, 1)
}

// ShareCapacities divides a slot's capacity between the share windows, in
// their order: each its weight's part rounded down, then the places left
// over one each to the windows in turn from window rot (mod their number):
// a slot too small to give every window a place gives the extra ones to
// other windows at other slots (the caller varies rot by slot), so that
// over a day each window has its part. The parts sum to capacity.
func (c *Campaign) ShareCapacities(capacity, rot int) []int {
	sh := c.Shares
	if sh == nil || capacity <= 0 {
		return make([]int, len(shWindows(sh)))
	}
	n := len(sh.Windows)
	weights := make([]int, n)
	total := 0
	for i, id := range sh.Windows {
		weights[i] = c.shareWeight(id)
		total += weights[i]
	}
	out := make([]int, n)
	given := 0
	for i, w := range weights {
		out[i] = capacity * w / total
		given += out[i]
	}
	rot = ((rot % n) + n) % n
	for k := 0; given < capacity; k++ {
		out[(rot+k)%n]++
		given++
	}
	return out
}

// slotRotation varies the windows that get a slot's extra places, by
// clinic, day and block.
func slotRotation(s Slot) int {
	return int(s.ClinicID%97) + s.Date.Year*372 + int(s.Date.Month)*31 + s.Date.Day + int(s.Block)
}

func shWindows(sh *Shares) []string {
	if sh == nil {
		return nil
	}
	return sh.Windows
}

// ShareKey names a window's share in the stores.
func ShareKey(campaignID, windowID string) string { return campaignID + "/" + windowID }

// ShareFor is the share a booking made at instant at in window w of
// campaign c counts against at slot, of the given capacity: ok false if
// none (no shares, a window without a share, or released).
func (c *Campaign) ShareFor(w *Window, slot Slot, capacity int, at time.Time) (ShareLimit, bool) {
	sh := c.Shares
	if sh == nil || w == nil || !at.Before(sh.ReleaseAt) {
		return ShareLimit{}, false
	}
	for i, id := range sh.Windows {
		if id == w.ID {
			return ShareLimit{Key: ShareKey(c.ID, id), Capacity: c.ShareCapacities(capacity, slotRotation(slot))[i]}, true
		}
	}
	return ShareLimit{}, false
}

// shareWindow is the share window whose ShareKey is key, nil if none (no
// shares, or a key of another campaign or of a window no longer listed).
func (c *Campaign) shareWindow(key string) *Window {
	if c == nil || key == "" {
		return nil
	}
	for _, id := range shWindows(c.Shares) {
		if ShareKey(c.ID, id) == key {
			_, w := c.window(id)
			return w
		}
	}
	return nil
}

// shareSlot names a share at a slot in the service's counts.
type shareSlot struct {
	Slot
	key string
}

// shareCounts is the service's picture of the shares' bookings, for
// search and the fail-fast check: loaded from Store.ShareCounts with the
// slot counts, and moved by this node's bookings, changes and
// cancellations as the slot counts are (other nodes' at the next load).
// It may be off until then; the store decides.
type shareCounts struct {
	mu sync.Mutex
	m  map[shareSlot]int
}

func (c *shareCounts) load(counts []ShareCount) {
	m := make(map[shareSlot]int, len(counts))
	for _, sc := range counts {
		m[shareSlot{sc.Slot, sc.Key}] = sc.Booked
	}
	c.mu.Lock()
	c.m = m
	c.mu.Unlock()
}

func (c *shareCounts) get(key string, s Slot) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[shareSlot{s, key}]
}

// add moves the count of share key at s by delta (not below 0); key ""
// (a booking without a share) changes nothing.
func (c *shareCounts) add(key string, s Slot, delta int) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[shareSlot]int{}
	}
	k := shareSlot{s, key}
	if n := c.m[k] + delta; n > 0 {
		c.m[k] = n
	} else {
		delete(c.m, k)
	}
}

// shareFor is the share a booking of the person of el at dose1 counts
// against now, if any.
func (s *Service) shareFor(el Eligibility, dose1 Slot, now time.Time) *ShareLimit {
	return s.shareAt(el.Campaign, el.Window, dose1, now)
}

// shareOfMove is the share booking b counts against once moved to dose1
// at now, if any: its window's share (Booking.ShareKey) of dose1, as for
// a booking of that window made now (none from release_at). A booking
// made without a share moves without one.
func (s *Service) shareOfMove(b Booking, dose1 Slot, now time.Time) *ShareLimit {
	c := s.programme.Campaign(b.CampaignID)
	return s.shareAt(c, c.shareWindow(b.ShareKey), dose1, now)
}

// shareAt is the share of window w of campaign c at slot at now, if any.
func (s *Service) shareAt(c *Campaign, w *Window, slot Slot, now time.Time) *ShareLimit {
	if c == nil || w == nil {
		return nil
	}
	sh, ok := c.ShareFor(w, slot, s.avail.Capacity(slot), now)
	if !ok {
		return nil
	}
	return &sh
}

// ShareView returns what lowers a search result's free places to what the
// person of el may book now (what is left of their window's share at each
// block), or nil when no share limits them.
func (s *Service) ShareView(el Eligibility, now time.Time) func(*ClinicAvailability) {
	if !el.Eligible || el.Campaign == nil || el.Campaign.Shares == nil {
		return nil
	}
	if _, ok := el.Campaign.ShareFor(el.Window, Slot{}, 1, now); !ok {
		return nil
	}
	return s.shareView(func(sl Slot) *ShareLimit { return s.shareFor(el, sl, now) }, Booking{})
}

// ChangeShareView is ShareView for moving booking b at now (the change
// pages): what is left of its window's share at each block, its own place
// counted as free; nil when the booking moves without a share.
func (s *Service) ChangeShareView(b Booking, now time.Time) func(*ClinicAvailability) {
	c := s.programme.Campaign(b.CampaignID)
	w := c.shareWindow(b.ShareKey)
	if w == nil {
		return nil
	}
	if _, ok := c.ShareFor(w, Slot{}, 1, now); !ok {
		return nil
	}
	return s.shareView(func(sl Slot) *ShareLimit { return s.shareOfMove(b, sl, now) }, b)
}

// shareView lowers each block's free places to what is left of the share
// shareAt gives it, not counting own's place (the booking being moved).
func (s *Service) shareView(shareAt func(Slot) *ShareLimit, own Booking) func(*ClinicAvailability) {
	return func(ca *ClinicAvailability) {
		ca.DayFree = 0
		for b := range BlocksPerDay {
			sl := Slot{ClinicID: ca.Clinic.ID, Date: ca.Date, Block: TimeBlock(b)}
			if sh := shareAt(sl); sh != nil {
				used := s.shares.get(sh.Key, sl)
				if sl == own.Dose1.Slot && own.ShareKey == sh.Key {
					used--
				}
				ca.Free[b] = min(ca.Free[b], max(sh.Capacity-used, 0))
			}
			ca.DayFree += ca.Free[b]
		}
	}
}
