package room

import (
	"time"
)

// A late claim keeps the word a status answer gave. A waiting person is
// asked back after a poll interval computed from the line as the node
// saw it then (status.go): the poll budget's spacing, capped at their
// expected turn at the rate measured then. When the rate rises before they
// ask again (a pacer in auto raising it 10-25x within minutes), their place
// comes sooner than that: it is admitted, and its session ends uncollected
// a claim timeout later, before they come back as told. Asking everybody
// back as if the rate were already max_rate would keep them their place but
// break the poll budget several times over; so the room honours what it
// said instead.
//
// The line marks each place admitted in line order until its session is
// collected (line.uncollected: one bit per place, never per waiting
// person). The node keeps what its status answers were computed from
// (promiseMarks: one mark a second, at most an hour and a bit of them)
// and so knows, without anything per person, the latest time any of its
// answers could have asked the holder of place p back (promisedUntil).
// When someone whose session ended uncollected asks for their status
// before that time plus the claim timeout, the node vouches for them
// (AdmitParams.LateUntil) and the line lets them claim the place late:
// they become a claimant, like the holder of a place passed over as
// uncertain (uncertain.go), admitted before anyone else as soon as capacity
// and the rate allow, told they are next meanwhile. The mark goes with the
// claim and with a collected session, so a place is claimed late at most
// once and never after a session of it was collected.
//
// Other nodes of a shared line answer from their own views of the same
// line: up to ViewFresh older, their measured rates a little apart (they
// measure the same admissions from ticks at other instants). The bound
// allows for that (lateSlack). A node started after an answer was given
// does not know of it (its marks begin at its start), nor does a line
// restored from a saved copy keep its marks: such late claims are refused,
// as they were before. The bound takes the room's poll settings as they
// are when the claim comes: an operator who lowered poll_budget or raised
// min_poll since widens it, the other way narrows it.

// lateWindow is how far behind the line's front a place may still be
// claimed late; the line forgets older marks.
const lateWindow = 1 << 24

// maxMarkedPlace bounds the places the line marks (Redis bitmaps end at
// 2^32 bits); a place beyond it is never claimed late.
const maxMarkedPlace = 1 << 32

// placeBits is a set of places, a bit each, kept in 64-bit words; a word
// lateWindow places behind a newly marked one is dropped.
type placeBits map[uint64]uint64

func (b *placeBits) set(p uint64) {
	if p >= maxMarkedPlace {
		return
	}
	if *b == nil {
		*b = placeBits{}
	}
	w := p >> 6
	if _, ok := (*b)[w]; !ok && w > lateWindow>>6 {
		delete(*b, w-lateWindow>>6-1)
	}
	(*b)[w] |= 1 << (p & 63)
}

func (b placeBits) has(p uint64) bool {
	return p < maxMarkedPlace && b[p>>6]&(1<<(p&63)) != 0
}

func (b placeBits) clear(p uint64) {
	if w, ok := b[p>>6]; ok {
		b[p>>6] = w &^ (1 << (p & 63))
	}
}

// lateClaimable reports whether pos, admitted in line order with its
// session ended uncollected, may be claimed late now (see Shared.Claim).
func (l *line) lateClaimable(pos uint64, now time.Time, a AdmitParams) bool {
	return now.Before(a.LateUntil) && pos <= l.v.Serving && pos+lateWindow > l.v.Serving && l.uncollected.has(pos)
}

// promiseMark is what the node's status answers were computed from, from
// time from until the next mark (or now): the most generous of the views
// applied within one second (the lowest serving and ETA rate, the most
// people joined).
type promiseMark struct {
	from       time.Time
	serving    uint64 // the lowest the node's view showed
	etaServing uint64
	rate       float64 // the lower of the ETA rate and the pace
	joined     uint64  // the most joined (pre-queue and open phase)
	paused     bool
	closed     bool
}

const (
	// maxPromiseMarks bounds the marks: one a second for as long as an
	// answer can ask someone back (MaxPollAfter) and then some.
	maxPromiseMarks = 4000
	// markStep merges the views applied within it into one mark.
	markStep = time.Second
)

// promiseMarks are a node's marks, oldest first. Guarded by Room.mu.
type promiseMarks []promiseMark

// note records that answers from now on are computed from e, the node's
// view showing serving of joined, the room paused or closed or not.
func (ms *promiseMarks) note(now time.Time, e etaBase, serving, joined uint64, paused, closed bool) {
	rate := min(e.rate, e.pace) // the slower, the later an answer's turn
	m := promiseMark{from: now, serving: serving, etaServing: e.serving, rate: rate, joined: joined, paused: paused, closed: closed}
	if n := len(*ms); n > 0 {
		last := &(*ms)[n-1]
		// Answers until now used the previous view, with up to this many
		// people joined.
		last.joined = max(last.joined, joined)
		if now.Sub(last.from) < markStep {
			last.serving = min(last.serving, serving)
			last.etaServing = min(last.etaServing, e.serving)
			last.rate = min(last.rate, rate)
			last.paused = last.paused || paused
			last.closed = last.closed || closed
			return
		}
	}
	if len(*ms) >= maxPromiseMarks {
		*ms = append((*ms)[:0], (*ms)[1:]...)
	}
	*ms = append(*ms, m)
}

// promisedUntil is until when the holder of place p may claim it late:
// the latest time any status answer computed from the marks could have
// asked them back, with lateSlack, plus the claim timeout; zero if no
// answer of this node showed p waiting.
func (ms promiseMarks) promisedUntil(p uint64, s *Settings, now time.Time) time.Time {
	var latest time.Time
	for i, m := range ms {
		if m.serving >= p {
			continue // p was admitted: no answer from here on showed it waiting
		}
		end := now
		if i+1 < len(ms) {
			end = ms[i+1].from
		}
		if t := end.Add(lateSlack(m.pollAfter(p, s))); t.After(latest) {
			latest = t
		}
	}
	if latest.IsZero() {
		return latest
	}
	return latest.Add(s.ClaimTimeout)
}

// pollAfter is the longest poll interval status (status.go) could have
// given place p from the mark's view: the poll budget's spacing at p's
// distance in a line of the most people joined, capped at p's expected
// turn unless the room was paused or closed.
func (m *promiseMark) pollAfter(p uint64, s *Settings) time.Duration {
	d := pollInterval(s, p-m.serving, max(m.joined, p)-m.serving)
	switch {
	case m.closed:
		return max(d, pausedMinPoll, closedPollAfter)
	case m.paused:
		return max(d, pausedMinPoll)
	}
	return cappedAtTurn(s, d, turnAt(p, m.etaServing, m.rate))
}

// lateSlack widens a poll interval this node computed to what another
// node of the same line could have said: its view up to ViewFresh older,
// its measured rate up to a quarter lower.
func lateSlack(d time.Duration) time.Duration {
	return d + d/4 + ViewFresh
}

// lateUntil is promisedUntil on the node's marks.
func (r *Room) lateUntil(p uint64, s *Settings, now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.promised.promisedUntil(p, s, now)
}
