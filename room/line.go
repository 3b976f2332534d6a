package room

import (
	"time"
)

// line is one room's line in memory: counters, controls, the admission
// token bucket and at most capacity sessions. MemShared keeps one per room
// and runs each step under the line's lock. Its steps are the admission
// arithmetic; room/redis runs the same steps in Lua, held to these by the
// differential test there.
type line struct {
	v        View // Active is len(slots), filled in by view
	tokens   float64
	lastTick time.Time
	slots    map[uint64]slot
	// Places that may be empty, passed over without a session (see
	// uncertain.go).
	uncertainSeqs []SeqRange
	uncertain     []PlaceRange
	passedOver    []PassedOver
	claimants     []Claimant
	// uncollected marks the places admitted in line order whose session
	// was never collected (late.go).
	uncollected placeBits
	// leases are the blocks of join numbers nodes hand out (lease.go).
	leases []Lease
	// held: until then no number is handed out and the pre-queue is not
	// drawn, so that every node can add what it knows (restore.go).
	held time.Time
	// lostSessions places of capacity wait, until lostUntil, for the holders
	// of sessions a restore could not bring back (restore.go).
	lostSessions int
	lostUntil    time.Time
	// saved is set when the line is kept on disk (see persist.go).
	saved *saving
}

type slot struct {
	expires time.Time
	claimed bool
	// change is the line's change count when the slot was claimed: a claim
	// asked again is durable once the line's changes up to it are saved.
	change uint64
}

// SeqRange is a half-open range [From, To) of join numbers of a phase.
type SeqRange struct {
	Phase Phase  `json:"phase"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
}

// bucketSize is the admission token bucket's size: a tenth of a second's
// worth of admissions, at least one.
func bucketSize(rate float64) float64 { return max(1, rate/10) }

// newLine is a fresh line with controls c, a full bucket and the epoch.
func newLine(c Controls, epoch string, now time.Time) *line {
	l := &line{slots: map[uint64]slot{}, tokens: bucketSize(c.Rate), lastTick: now}
	l.v.Controls, l.v.ControlsSet, l.v.Epoch = c, 1, epoch
	return l
}

func (l *line) view() View {
	v := l.v
	v.Active = len(l.slots)
	v.Claimants = len(l.claimants)
	return v
}

// changed counts a change that the next save must record.
func (l *line) changed() {
	if l.saved != nil {
		l.saved.changes++
	}
}

func (l *line) reserve(phase Phase, n uint64, now time.Time) error {
	issued, mark := l.v.PostSeq, &l.v.ResvPost
	if phase == PhasePrequeue {
		if l.v.Frozen {
			return nil
		}
		issued, mark = l.v.PreSeq, &l.v.ResvPre
	}
	want := issued + n
	if want <= *mark {
		return nil
	}
	was := *mark
	*mark = want
	// Saved before any number of the block is handed out.
	if err := l.saveNow(now); err != nil {
		*mark = was
		return err
	}
	return nil
}

func (l *line) join(now time.Time, a AdmitParams) (Phase, uint64, error) {
	if now.Before(l.held) {
		return 0, 0, ErrRestoring
	}
	if !l.v.Frozen && now.Before(a.OpensAt) {
		if l.v.PreSeq >= l.v.ResvPre {
			return PhasePrequeue, 0, ErrUnreserved
		}
		l.v.Joins++
		l.v.PreSeq++
		l.changed()
		return PhasePrequeue, l.v.PreSeq - 1, nil
	}
	if !l.v.Frozen {
		l.freeze(now, a)
	}
	if l.v.PostSeq >= l.v.ResvPost {
		return PhaseOpen, 0, ErrUnreserved
	}
	l.v.Joins++
	l.v.PostSeq++
	l.changed()
	l.admit(now, a)
	return PhaseOpen, l.v.PostSeq - 1, nil
}

// freeze closes the pre-queue: its size N is the numbers handed out, and
// numbers reserved but not handed out are given up. A saved line saves the
// draw before any place is revealed; if that fails, N is the reservation
// (what a restart would use) and the numbers never handed out are
// uncertain.
func (l *line) freeze(now time.Time, a AdmitParams) {
	if l.v.Frozen {
		return
	}
	if l.v.LotteryKey == "" {
		l.v.LotteryKey = a.LotteryKey
	}
	l.cutPrequeueLeases(a)
	issued, resv := l.v.PreSeq, l.v.ResvPre
	l.v.Frozen, l.v.N, l.v.ResvPre = true, issued, issued
	l.settle(a)
	if err := l.saveNow(now); err != nil {
		if resv > issued {
			l.v.N, l.v.PreSeq, l.v.ResvPre = resv, resv, resv
			l.addUncertain(SeqRange{PhasePrequeue, issued, resv}, a)
		}
		l.changed() // saved again on the next tick
	}
}

// admit is one admission step: refill the token bucket for the time since
// the last step (never for time going backwards), then admit while people
// wait, capacity is free and a token is left: first the holders of
// passed-over places who asked for their turn, then the next places in
// line, passing over uncertain places without a session.
func (l *line) admit(now time.Time, a AdmitParams) {
	dt := now.Sub(l.lastTick).Seconds()
	if now.After(l.lastTick) {
		l.lastTick = now
	}
	c := l.v.Controls
	if !l.v.Frozen || c.Paused || c.Closed || (!a.ClosesAt.IsZero() && !now.Before(a.ClosesAt)) {
		return
	}
	if dt > 0 {
		l.tokens = min(bucketSize(c.Rate), l.tokens+float64(c.Rate*dt)) // no fused multiply-add: Redis (Lua) rounds twice
	}
	l.settle(a)
	l.admitClaimants(now, a)
	if l.lostSessions > 0 && !now.Before(l.lostUntil) {
		l.lostSessions = 0
	}
	total := l.v.N + l.v.PostSeq
	for l.v.Serving < total {
		next := l.v.Serving + 1
		if to := l.uncertainRun(next); to > 0 {
			l.passOver(next, min(to, total+1), now.Add(a.ClaimTimeout))
			continue
		}
		if len(l.slots)+l.lostSessions >= c.Capacity || l.tokens < 1 {
			break
		}
		if i := l.leaseAt(next); i >= 0 {
			if l.waitLease(i, now, a) {
				break
			}
			continue // its numbers from next on are uncertain now
		}
		l.v.Serving++
		l.slots[l.v.Serving] = slot{expires: now.Add(a.ClaimTimeout)}
		l.uncollected.set(l.v.Serving)
		l.tokens--
		l.v.Admissions++
		l.changed()
	}
}

// sweep ends the sessions whose time is up.
func (l *line) sweep(now time.Time) {
	for p, sl := range l.slots {
		if !now.Before(sl.expires) {
			delete(l.slots, p)
			l.v.Expired++
			l.changed()
		}
	}
}

// freezeAt freezes the pre-queue if now has reached the opening (and the
// line is not held).
func (l *line) freezeAt(now time.Time, a AdmitParams) {
	if !now.Before(a.OpensAt) && !now.Before(l.held) {
		l.freeze(now, a)
	}
}

func (l *line) tick(now time.Time, a AdmitParams) {
	l.report(a.Report, now)
	l.freezeAt(now, a)
	l.sweep(now)
	l.sweepUncertain(now)
	l.sweepLeases(now, a)
	l.admit(now, a)
}

// claim marks the admitted place pos as collected. A passed-over place
// whose holder asks for it is admitted first if capacity allows, else its
// holder waits at the head of the line (ErrClaimWait).
func (l *line) claim(pos uint64, now time.Time, passTTL time.Duration, a AdmitParams) (time.Time, bool, error) {
	sl, ok := l.slots[pos]
	if !ok {
		if !l.claimLate(pos, now, a) {
			return time.Time{}, false, nil
		}
		if sl, ok = l.slots[pos]; !ok {
			return time.Time{}, false, ErrClaimWait
		}
	}
	if !now.Before(sl.expires) {
		delete(l.slots, pos)
		l.v.Expired++
		l.changed()
		return time.Time{}, false, nil
	}
	if !sl.claimed {
		l.changed()
		l.uncollected.clear(pos)
		sl = slot{claimed: true, expires: now.Add(passTTL), change: l.changesMade()}
		l.slots[pos] = sl
	}
	return sl.expires, true, nil
}

func (l *line) active(pos uint64, now time.Time) bool {
	sl, ok := l.slots[pos]
	return ok && sl.claimed && now.Before(sl.expires)
}

func (l *line) leave(pos uint64, now time.Time, a AdmitParams) bool {
	if _, ok := l.slots[pos]; !ok {
		return false
	}
	delete(l.slots, pos)
	l.v.Leaves++
	l.changed()
	l.admit(now, a)
	return true
}

func (l *line) setControls(c Controls) {
	l.v.Controls = c
	l.v.ControlsSet++
	l.changed()
}
