package room

import (
	"cmp"
	"slices"
	"time"
)

// Uncertain places are places that may or may not belong to a ticket in
// someone's hands: the join numbers between what a single node had saved
// as handed out and its reservation mark when it crashed, or the numbers
// of a block reserved by a node that stopped. No place may ever be given
// to two people, so their numbers are never handed out again; but most of
// them are usually empty, and a line that admitted them like any other
// place (each holding capacity until its claim timeout) would stall behind
// them for minutes.
//
// So admission passes over an uncertain place without a session: it holds
// no capacity and takes no admission token, and the people behind it move
// up at once (Skipped counts these places; the measured admission rate,
// which counts sessions, does not). Its holder, if there is one, may claim
// it for the room's claim timeout after it was passed over: the claim puts
// them at the head of the line (a claimant), and they are admitted before
// anyone else as soon as capacity and the rate allow; while they wait,
// their status says they are next.
//
// All of this is a few ranges in the line, never per waiting person:
//
//	uncertainSeqs  join numbers whose places are not known yet (before the
//	               pre-queue is drawn, a pre-queue number has no place, and
//	               neither has an open-phase number: places after the
//	               pre-queue start at N+1)
//	uncertain      places not reached yet
//	passedOver     places passed over, claimable until their deadline
//	claimants      holders of passed-over places who asked for their turn
//
// room/redis keeps the same four lists in the room's state hash and runs
// the same steps in Lua; the places of pre-queue numbers come from the
// lottery, which the node draws and passes along (AdmitParams.Draw).

// PlaceRange is a half-open range [From, To) of places in line (from 1).
type PlaceRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// PassedOver is a range of uncertain places admission passed over; their
// holders may claim them until Until.
type PassedOver struct {
	From  uint64    `json:"from"`
	To    uint64    `json:"to"`
	Until time.Time `json:"until"`
}

// Claimant is the holder of a passed-over place who asked for their turn
// (a status check) when no capacity or admission token was free; they keep
// their claim by asking again before Until.
type Claimant struct {
	Place uint64    `json:"place"`
	Until time.Time `json:"until"`
}

// addUncertain records the join numbers r as uncertain: as places once the
// pre-queue is drawn, as numbers until then. Places already reached are
// left alone (they were admitted).
func (l *line) addUncertain(r SeqRange, a AdmitParams) {
	if r.From >= r.To {
		return
	}
	l.uncertainSeqs = mergeSeqs(l.uncertainSeqs, r)
	l.settle(a)
	l.changed()
}

// settle turns the uncertain join numbers into places once the pre-queue
// is drawn: open-phase number s is place N+s+1; a pre-queue number's place
// comes from the lottery, drawn with a.Draw. Without a lottery (a node
// that lacks the key) pre-queue numbers are dropped: their places are then
// admitted like any other.
func (l *line) settle(a AdmitParams) {
	if !l.v.Frozen || len(l.uncertainSeqs) == 0 {
		return
	}
	var lot *Lottery
	for _, r := range l.uncertainSeqs {
		if r.Phase == PhaseOpen {
			l.uncertain = mergePlaces(l.uncertain, PlaceRange{l.v.N + r.From + 1, l.v.N + r.To + 1})
			continue
		}
		if lot == nil && a.Draw != nil {
			lot, _ = a.Draw(l.v.LotteryKey, l.v.N)
		}
		if lot == nil {
			continue
		}
		for s := r.From; s < min(r.To, l.v.N); s++ {
			p := lot.Permute(s) + 1
			l.uncertain = mergePlaces(l.uncertain, PlaceRange{p, p + 1})
		}
	}
	l.uncertainSeqs = nil
	// Places reached already were admitted; only what is ahead counts.
	for len(l.uncertain) > 0 && l.uncertain[0].To <= l.v.Serving+1 {
		l.uncertain = l.uncertain[1:]
	}
	if len(l.uncertain) > 0 && l.uncertain[0].From <= l.v.Serving {
		l.uncertain[0].From = l.v.Serving + 1
	}
}

// uncertainRun returns the end of the run of uncertain places that starts
// at place p (exclusive), or 0 when p is not uncertain. Places are reached
// in order, so ranges behind p are dropped on the way.
func (l *line) uncertainRun(p uint64) uint64 {
	for len(l.uncertain) > 0 && l.uncertain[0].To <= p {
		l.uncertain = l.uncertain[1:]
	}
	if len(l.uncertain) == 0 || l.uncertain[0].From > p {
		return 0
	}
	return l.uncertain[0].To
}

// passOver moves serving past the uncertain places [from, to) without a
// session; their holders may claim them until until.
func (l *line) passOver(from, to uint64, until time.Time) {
	l.v.Serving = to - 1
	l.v.Skipped += to - from
	if n := len(l.passedOver); n > 0 && l.passedOver[n-1].To == from && l.passedOver[n-1].Until.Equal(until) {
		l.passedOver[n-1].To = to
	} else {
		l.passedOver = append(l.passedOver, PassedOver{from, to, until})
	}
	l.changed()
}

// admitClaimants gives the free capacity to the holders of passed-over
// places who asked for their turn, in place order, as admission tokens
// allow: each gets a session to collect within the claim timeout, like any
// admitted place.
func (l *line) admitClaimants(now time.Time, a AdmitParams) {
	for len(l.claimants) > 0 && len(l.slots) < l.v.Controls.Capacity && l.tokens >= 1 {
		p := l.claimants[0].Place
		l.claimants = l.claimants[1:]
		l.slots[p] = slot{expires: now.Add(a.ClaimTimeout)}
		l.tokens--
		l.v.Admissions++
		l.lostSessions = max(0, l.lostSessions-1)
		l.changed()
	}
}

// claimLate is a claim of place pos that has no session: if pos was passed
// over and its time to claim has not run out, or its session ended
// uncollected and the node vouches for a late claim (late.go), its holder
// becomes a claimant (or stays one, for another claim timeout) and an
// admission step runs. It reports whether pos may still be claimed.
func (l *line) claimLate(pos uint64, now time.Time, a AdmitParams) bool {
	i, found := slices.BinarySearchFunc(l.claimants, pos, func(c Claimant, p uint64) int { return cmp.Compare(c.Place, p) })
	if !found {
		j := slices.IndexFunc(l.passedOver, func(r PassedOver) bool { return pos >= r.From && pos < r.To })
		switch {
		case j >= 0 && now.Before(l.passedOver[j].Until):
			r := l.passedOver[j]
			// Split the range around pos: nobody else may claim it again.
			rest := []PassedOver{}
			if r.From < pos {
				rest = append(rest, PassedOver{r.From, pos, r.Until})
			}
			if pos+1 < r.To {
				rest = append(rest, PassedOver{pos + 1, r.To, r.Until})
			}
			l.passedOver = slices.Replace(l.passedOver, j, j+1, rest...)
		case l.lateClaimable(pos, now, a):
			// Once: its mark goes with this claim.
			l.uncollected.clear(pos)
		default:
			return false
		}
		l.claimants = slices.Insert(l.claimants, i, Claimant{Place: pos})
	}
	l.claimants[i].Until = now.Add(a.ClaimTimeout)
	l.changed()
	l.admit(now, a)
	return true
}

// sweepUncertain forgets passed-over places and claimants whose time to
// claim has run out.
func (l *line) sweepUncertain(now time.Time) {
	n, m := len(l.passedOver), len(l.claimants)
	l.passedOver = slices.DeleteFunc(l.passedOver, func(r PassedOver) bool { return !now.Before(r.Until) })
	l.claimants = slices.DeleteFunc(l.claimants, func(c Claimant) bool { return !now.Before(c.Until) })
	if len(l.passedOver) != n || len(l.claimants) != m {
		l.changed()
	}
}

// dropPassedOver forgets the passed-over places in r: nobody holds them.
func (l *line) dropPassedOver(r PlaceRange) {
	out := make([]PassedOver, 0, len(l.passedOver)+1)
	for _, x := range l.passedOver {
		if x.To <= r.From || r.To <= x.From {
			out = append(out, x)
			continue
		}
		if x.From < r.From {
			out = append(out, PassedOver{x.From, r.From, x.Until})
		}
		if r.To < x.To {
			out = append(out, PassedOver{r.To, x.To, x.Until})
		}
	}
	l.passedOver = out
}

// mergeSeqs adds r to the sorted, disjoint ranges rs (per phase, pre-queue
// first), joining ranges that touch.
func mergeSeqs(rs []SeqRange, r SeqRange) []SeqRange {
	if r.From >= r.To {
		return rs
	}
	out := make([]SeqRange, 0, len(rs)+1)
	for _, x := range rs {
		if x.Phase != r.Phase || x.To < r.From || r.To < x.From {
			out = append(out, x)
			continue
		}
		r.From, r.To = min(r.From, x.From), max(r.To, x.To)
	}
	i, _ := slices.BinarySearchFunc(out, r, func(x, r SeqRange) int {
		if x.Phase != r.Phase {
			return int(x.Phase) - int(r.Phase)
		}
		return cmp.Compare(x.From, r.From)
	})
	return slices.Insert(out, i, r)
}

// mergePlaces adds r to the sorted, disjoint ranges rs, joining ranges
// that touch.
func mergePlaces(rs []PlaceRange, r PlaceRange) []PlaceRange {
	if r.From >= r.To {
		return rs
	}
	out := make([]PlaceRange, 0, len(rs)+1)
	for _, x := range rs {
		if x.To < r.From || r.To < x.From {
			out = append(out, x)
			continue
		}
		r.From, r.To = min(r.From, x.From), max(r.To, x.To)
	}
	i, _ := slices.BinarySearchFunc(out, r, func(x, r PlaceRange) int { return cmp.Compare(x.From, r.From) })
	return slices.Insert(out, i, r)
}
