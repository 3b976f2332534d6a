package room

import "time"

// A node of a shared line answers status checks from its own view of the
// line (view.go), not from the line: every tick brings the view up to
// date, and a status check asks the line only when the view is older than
// ViewFresh. So a status check costs the line nothing on average.
//
// A view a tick old may show a place a little further back than another
// node's fresher view showed the same person a moment ago. Positions must
// never rise, so the client says what it was last shown (seen: the
// waiting page sends it with each poll, and the server keeps it in the
// cookie sluice_seen_<room>, app/): a node whose view would show more
// than that first brings its view up to date (one call to the line), which
// is at least as new as the view the other node answered from, and so
// shows no more. Should the line itself have gone back (restored from an
// older copy), the answer is held at what was seen.

// ViewFresh is how old a node's view of a shared line may be when it
// answers a status check from it.
const ViewFresh = time.Second

// StatusSeen is Status for a holder who was last shown position seen (0:
// unknown); the position it answers is never above seen.
func (r *Room) StatusSeen(t Ticket, seen uint64) (st Status, err error) {
	at := instant{clock: r.clock}
	if !r.ownsLine && time.Duration(at.now().UnixNano()-r.seenAt.Load()) >= ViewFresh {
		if err := r.refresh(); err != nil {
			return Status{}, err
		}
	} else if err := r.lostErr(); err != nil {
		return Status{}, err
	}
	st, err = r.status(t, r.settings.Load(), &at)
	if err != nil || seen == 0 || st.Position <= seen || r.ownsLine {
		return st, err
	}
	if err := r.refresh(); err != nil {
		return Status{}, err
	}
	if st, err = r.status(t, r.settings.Load(), &instant{clock: r.clock}); err != nil {
		return st, err
	}
	if st.Position > seen {
		st.Position, st.Ahead = seen, seen-1
	}
	return st, nil
}

// refresh brings the node's view up to date where other nodes may have
// changed the line since it was applied, so that an admitted place is seen
// at once and an operator's change starts from the line's controls.
func (r *Room) refresh() error {
	if r.ownsLine {
		return nil
	}
	if err := r.lostErr(); err != nil {
		return err
	}
	before := r.marks()
	v, err := r.shared.View(bg, r.name)
	if err != nil {
		return r.fail(err)
	}
	return r.accept(&v, before)
}

// SharesLine reports whether the room's line is shared with other nodes,
// whose answers a holder may have seen (see StatusSeen).
func (r *Room) SharesLine() bool { return !r.ownsLine }
