package room

import (
	"slices"
	"time"
)

// A line can be lost (Redis restarted without persistence, flushed,
// evicted) or go back in time (Redis restored from an older copy) while
// nodes serve it. The nodes together know what it was: each has seen the
// line as of its last step (its view), and with a state directory it has
// a record of it on disk. Restore rebuilds the line from what one node
// saw, and adds what every other node saw as each of them finds the line
// missing or behind:
//
//   - numbers are never handed out twice: each phase goes on from the
//     highest reservation mark anyone saw, and the numbers between what
//     was seen handed out and that mark are uncertain (uncertain.go);
//   - nobody's position goes up: serving is the highest anyone saw;
//   - sessions, which only the line held, are lost: the places admitted
//     recently enough to have one (after sessionsFrom) may be claimed
//     again by their holders, as passed-over places are, and as many
//     places of capacity as there were sessions wait for them for a claim
//     timeout (lostSessions) before anyone new is admitted;
//   - the controls are the newest anyone saw.
//
// A line created or raised by Restore is held for RestoreHold: no number is
// handed out and the pre-queue is not drawn, so that the other nodes, which
// find the line changed within a tick, add what they saw before anyone
// joins.

// RestoreHold is how long a restored line hands out no numbers.
const RestoreHold = 2 * time.Second

// replaceable reports whether a line of another epoch may be replaced by a
// restore: nothing was ever handed out from it (a node with no record of
// the old line created it before a node that had one restored it).
func (l *line) replaceable() bool { return l.v.Joins == 0 }

// restore merges seen, a node's view of the line as it was, into the line
// (see above). The places (sessionsFrom, seen.Serving] may have had
// sessions.
func (l *line) restore(seen *View, sessionsFrom uint64, now time.Time, a AdmitParams) {
	raised := false
	v := &l.v
	if seen.Frozen && !v.Frozen {
		v.Frozen, v.N, v.PreSeq, v.ResvPre = true, seen.N, seen.N, seen.N
		v.LotteryKey = seen.LotteryKey
		// Every pre-queue number is in the lottery that was drawn.
		l.uncertainSeqs = slices.DeleteFunc(l.uncertainSeqs, func(r SeqRange) bool { return r.Phase == PhasePrequeue })
		l.leases = slices.DeleteFunc(l.leases, func(b Lease) bool { return b.Phase == PhasePrequeue })
		raised = true
	}
	if !v.Frozen && (seen.PreSeq > v.PreSeq || seen.ResvPre > v.ResvPre) {
		mark := max(v.ResvPre, seen.ResvPre, seen.PreSeq)
		l.uncertainSeqs = mergeSeqs(l.uncertainSeqs, SeqRange{PhasePrequeue, max(v.PreSeq, seen.PreSeq), mark})
		v.PreSeq, v.ResvPre = mark, mark
		raised = true
	}
	if seen.PostSeq > v.PostSeq || seen.ResvPost > v.ResvPost {
		mark := max(v.ResvPost, seen.ResvPost, seen.PostSeq)
		l.uncertainSeqs = mergeSeqs(l.uncertainSeqs, SeqRange{PhaseOpen, max(v.PostSeq, seen.PostSeq), mark})
		v.PostSeq, v.ResvPost = mark, mark
		raised = true
	}
	if seen.Serving > v.Serving {
		if from := max(sessionsFrom, v.Serving); from < seen.Serving {
			l.passedOver = append(l.passedOver, PassedOver{from + 1, seen.Serving + 1, now.Add(a.ClaimTimeout)})
		}
		v.Serving = seen.Serving
		raised = true
	}
	if seen.ControlsSet > v.ControlsSet {
		v.Controls, v.ControlsSet = seen.Controls, seen.ControlsSet
		raised = true
	}
	v.Joins = max(v.Joins, seen.Joins)
	v.Skipped = max(v.Skipped, seen.Skipped)
	v.Leaves = max(v.Leaves, seen.Leaves)
	v.Expired = max(v.Expired, seen.Expired)
	// Sessions the line no longer has ended (they were lost).
	sessions := seen.Admissions - min(seen.Admissions, seen.Leaves+seen.Expired)
	if hold := int(min(sessions, uint64(max(v.Controls.Capacity, 0)))) - len(l.slots); hold > l.lostSessions {
		l.lostSessions, l.lostUntil = hold, now.Add(a.ClaimTimeout)
	}
	active := uint64(len(l.slots))
	v.Admissions = max(v.Admissions, seen.Admissions, v.Expired+v.Leaves+active)
	v.Expired = v.Admissions - v.Leaves - active
	l.settle(a)
	if raised && now.Add(RestoreHold).After(l.held) {
		l.held = now.Add(RestoreHold)
	}
	l.changed()
}
