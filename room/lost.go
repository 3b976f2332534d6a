package room

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// A node that shares its line (Redis) must not answer from its view of a
// line that is gone: its view says how far the line went, and answering
// from it while the line starts over would hand out places twice and tell
// people whose places it believes passed that their turn is over. So every
// view a node takes from the line is checked against what the node saw
// before it asked (lineMarks) and the line's epoch:
//
//   - the line is missing (ErrNoSharedState), or it shows less than the
//     node saw (ErrLineBehind: restored from an older copy): the node is
//     "lost" until its next tick restores the line from what it saw
//     (Shared.Restore, restore.go), which every node that finds the line
//     changed does within a tick;
//   - the line has another epoch (ErrLineReset: created again from
//     nothing, by a node that had no record of the old one): the node is
//     lost until the line is restored by a node that knows it, or until
//     an operator restarts it on purpose (docs/CONFIG.md).
//
// A lost node answers 503 (ErrPersist, with Retry-After) to joins, status
// checks and leaves, lets nobody through the gate, and says so on
// /readyz (Manager.Problems). With a records store (the node's state
// directory) it also keeps what it saw on disk, so that a node restarted
// while Redis was empty restores the line instead of starting a new one.

// lineMarks are counters of a line that never go down.
type lineMarks struct {
	joins, serving, leaves, controlsSet uint64
	frozen                              bool
}

// marks is what the node has seen of the line's counters (zero for a
// single node, whose line cannot go missing: nothing is checked).
func (r *Room) marks() lineMarks {
	if r.ownsLine {
		return lineMarks{}
	}
	return lineMarks{r.joins.Load(), r.serving.Load(), r.leaves.Load(), r.controlsSet.Load(), r.frozen.Load()}
}

// accept applies a view the node got from a step it began having seen
// before: on a shared line, only if it is the line the node serves and not
// behind what the node saw.
func (r *Room) accept(v *View, before lineMarks) error {
	if !r.ownsLine {
		if ep := *r.epoch.Load(); v.Epoch != ep {
			if r.joins.Load() != 0 {
				return r.lose(fmt.Errorf("%w (this node served epoch %s, the line now has %s)", ErrLineReset, ep, v.Epoch))
			}
			// Nothing was handed out here yet: adopt the line that is.
			epoch := v.Epoch // a copy: v stays on its caller's stack
			r.epoch.Store(&epoch)
		}
		if v.Joins < before.joins || v.Serving < before.serving || v.Leaves < before.leaves ||
			v.ControlsSet < before.controlsSet || (before.frozen && !v.Frozen) {
			return r.lose(ErrLineBehind)
		}
		if err := r.apply(v); err != nil {
			return err
		}
		r.seenAt.Store(r.clock.Now().UnixNano())
		return nil
	}
	return r.apply(v)
}

// fail is what a failed step on the line returns: ErrPersist (503 to
// people, fail closed at the gate) wrapping the cause; a missing line
// makes the node lost.
func (r *Room) fail(err error) error {
	if errors.Is(err, ErrNoSharedState) || errors.Is(err, ErrLineReset) {
		return r.lose(err)
	}
	return sharedErr(err)
}

// lose marks the node lost (see above) for the reason err and returns
// the error to answer.
func (r *Room) lose(err error) error {
	err = fmt.Errorf("room %q: %w", r.name, err)
	r.lost.Store(&err)
	return sharedErr(err)
}

// Problem is why the node cannot serve the room now (its line is lost),
// or nil.
func (r *Room) Problem() error {
	if p := r.lost.Load(); p != nil {
		return *p
	}
	return nil
}

// lostErr is the answer while the node cannot serve the room: ErrPersist
// wrapping Problem, or nil.
func (r *Room) lostErr() error {
	if p := r.lost.Load(); p != nil {
		return sharedErr(*p)
	}
	return nil
}

// recoverLine restores a lost line from what the node saw, or reports why
// it cannot.
func (r *Room) recoverLine(s *Settings, now time.Time) error {
	seen := r.knowledge()
	v, err := r.shared.Restore(bg, r.name, seen, sessionsFrom(seen.Serving, s), now, r.admitParams(s))
	if err != nil {
		return r.fail(err)
	}
	if err := r.apply(&v); err != nil {
		return err
	}
	// The restored line knows nothing of this node's block.
	if err := r.dropLease(now, r.admitParams(s)); err != nil {
		return err
	}
	r.lost.Store(nil)
	return r.record(now, true)
}

// sessionsFrom is the last place admitted too long before the line was
// lost to have a session still: admitting at the room's rate, a session
// begins within the claim timeout and lasts the pass lifetime.
func sessionsFrom(serving uint64, s *Settings) uint64 {
	recent := math.Ceil(s.Rate*(s.PassTTL+s.ClaimTimeout).Seconds() + bucketSize(s.Rate))
	if recent >= float64(serving) {
		return 0
	}
	return serving - uint64(recent)
}

// knowledge is the line as this node saw it.
func (r *Room) knowledge() View {
	s := r.settings.Load()
	v := View{
		Epoch: *r.epoch.Load(), Frozen: r.frozen.Load(), N: r.n.Load(),
		PreSeq: r.preSeq.Load(), ResvPre: r.resvPre.Load(),
		PostSeq: r.postSeq.Load(), ResvPost: r.resvPost.Load(),
		Serving: r.serving.Load(), Controls: controlsOf(s), ControlsSet: r.controlsSet.Load(),
		Joins: r.joins.Load(), Admissions: r.admissions.Load(), Leaves: r.leaves.Load(),
		Expired: r.expired.Load(), Skipped: r.skipped.Load(),
	}
	if k := r.lotteryKey.Load(); k != nil {
		v.LotteryKey = *k
	}
	if v.Frozen {
		v.PreSeq, v.ResvPre = v.N, v.N
	}
	return v
}

// recordEvery spaces the records of changes that a restore can do without
// (serving, counters); reservations, the draw and the epoch are recorded
// before anything depends on them.
const recordEvery = 5 * time.Second

// record writes what the node saw of the line to its records store (the
// state directory), at once when a reservation mark, the draw, the epoch
// or the controls moved since the last record (or when forced), else at
// most every recordEvery.
func (r *Room) record(now time.Time, force bool) error {
	if r.records == nil {
		return nil
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	k, last := r.knowledge(), r.recorded
	urgent := force || k.Epoch != last.Epoch || k.Frozen != last.Frozen || k.ResvPre > last.ResvPre ||
		k.ResvPost > last.ResvPost || k.ControlsSet > last.ControlsSet
	if !urgent && (k == last || now.Sub(r.recordedAt) < recordEvery) {
		return nil
	}
	snap := snapshotOf(&k, now)
	snap.Configured = &r.configured
	if err := r.records.Save(r.name, snap); err != nil {
		return fmt.Errorf("%w: recording the line in the state directory: %w", ErrPersist, err)
	}
	r.recorded, r.recordedAt = k, now
	return nil
}

// mustRecord reports whether the view carries a reservation mark above
// the last record: the node records it before it hands out a number.
func (r *Room) mustRecord(v *View) bool {
	if r.records == nil {
		return false
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	return v.ResvPre > r.recorded.ResvPre || v.ResvPost > r.recorded.ResvPost || v.Frozen != r.recorded.Frozen
}

// snapshotOf is a view as a Snapshot (a node's record of a shared line).
func snapshotOf(v *View, now time.Time) *Snapshot {
	return &Snapshot{
		Version: 1, SavedAt: now, Epoch: v.Epoch,
		Frozen: v.Frozen, N: v.N, PreSeq: v.PreSeq, ResvPre: v.ResvPre, PostSeq: v.PostSeq, ResvPost: v.ResvPost,
		Serving: v.Serving, Controls: recordedControls(v.Controls),
		ControlsSet: v.ControlsSet, LotteryKey: v.LotteryKey,
		Joins: v.Joins, Admissions: v.Admissions, Leaves: v.Leaves, Expired: v.Expired, Skipped: v.Skipped,
	}
}

// recordedControls are the controls a node's record keeps: all but the
// pacing, which records have never carried (a line restored from them
// has the zero pacing: each node keeps its own).
func recordedControls(c Controls) Controls {
	c.Pacing = Pacing{}
	return c
}

// viewOf is a node's record as the view it saw.
func viewOf(s *Snapshot) View {
	return View{
		Epoch: s.Epoch, Frozen: s.Frozen, N: s.N, PreSeq: s.PreSeq, ResvPre: s.ResvPre, PostSeq: s.PostSeq, ResvPost: s.ResvPost,
		Serving:     s.Serving,
		Controls:    recordedControls(s.Controls),
		ControlsSet: max(s.ControlsSet, 1),
		LotteryKey:  s.LotteryKey, Joins: s.Joins, Admissions: s.Admissions, Leaves: s.Leaves, Expired: s.Expired, Skipped: s.Skipped,
	}
}
