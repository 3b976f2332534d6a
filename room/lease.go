package room

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"time"
)

// Leases: on a line shared by several nodes (Redis), a node does not ask
// the line for every join number. It takes a block of numbers at a time
// (Shared.Lease) and hands them out on its own, so that a join costs a
// fraction of a call to the line; on each tick it tells the line how far
// it got (AdmitParams.Report). The line keeps one entry per block, never
// anything per person:
//
//   - The numbers of a block count as handed out (PreSeq, PostSeq) from the
//     moment it is leased, so nobody else gets them, and its reservation
//     mark is raised with them (a node with records keeps the mark on disk
//     before it hands out a number, lost.go).
//   - Admission admits the places of reported numbers like any other.
//     When it reaches a number of a block that its node has not reported
//     handed out, it waits there (FIFO: nobody behind the number goes in
//     ahead of its holder) until the node has had its chance to hand it
//     out: a whole tick interval between two of its reports (it reports
//     on every tick; admission runs more often than that), or LeaseGrace
//     without a report (the node is dead or cut off). A report that hands
//     the number out lets admission go on. The second report after
//     admission reached the number that still has not handed it out (the
//     node had a tick's time since the first and handed out nothing), or
//     the grace running out, cuts the block there: its unreported numbers
//     become uncertain (uncertain.go), passed over without a session. A
//     holder who turns up (the node handed the number out after that
//     report, before it learned of the cut) claims the place within the
//     claim timeout and goes in first: the node hands out a number only
//     while admission has not passed it in its view (Room.passed), once
//     passed a block stays passed, and so every number handed out after
//     the report is in the uncertain range. So a node that hands out at
//     least one number a tick never has one passed over, an idle one
//     holds up the line for two ticks, and a dead one for LeaseGrace.
//   - A cut block's entry stays (leaseCut) until its node's final report:
//     a report the node makes once it has seen the block passed, after
//     which it hands out nothing more of it (Room.passed never goes back).
//     The numbers from the final report's Used on were then never handed
//     out, and their passed-over places are dropped at once, so the
//     passed-over list holds only places someone may hold; the numbers
//     handed out after the cut count as joins. A cut block whose node
//     never sends that report (it died) is forgotten after the claim
//     timeout, when its passed-over places expire anyway.
//   - The pre-queue's blocks are cut when it is frozen: their unreported
//     numbers are uncertain, and their places come from the lottery.
//
// A node takes blocks that grow while it hands them out quickly (twice
// the last, up to LeaseBlock) and shrink back to one number when it is
// idle, so a quiet node leaves no gaps in the line and a busy one makes a
// call to the line per LeaseBlock joins.
//
// Fairness: numbers are places, and a node hands out its block in order.
// Someone who joins on node A after someone else joined on node B gets a
// later place unless B's number came from a block B leased after A's
// current block; B holds one block at a time, so a person is behind at
// most LeaseBlock-1 people per other node who joined after them (and the
// pre-queue is a lottery anyway). room/sharedtest's several-node harness
// checks this bound.

// Only nodes of a shared line lease blocks; a single node's line (saved to
// its state directory) does not keep them in its snapshot, and its node
// reserves and joins as before.

// LeaseBlock is the largest block of join numbers a node leases at a time.
const LeaseBlock = 256

// Lease is a block of join numbers [From, To) of a phase leased by a
// node; Used is how far the node reported handing them out.
type Lease struct {
	Node  uint64 `json:"node"`
	Phase Phase  `json:"phase"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	Used  uint64 `json:"used"`
	// Seen is when the node last reported on the block or leased it; for
	// a cut block, when it was cut.
	Seen  time.Time  `json:"seen"`
	State LeaseState `json:"state"`
}

// LeaseState is where admission is with a block's unreported numbers.
type LeaseState uint8

const (
	// LeaseLive: admission has not reached them since the last report.
	LeaseLive LeaseState = iota
	// LeaseReached: admission waits at number Used for the node's
	// reports.
	LeaseReached
	// LeaseReportedOnce: the node reported once since then and had not
	// handed number Used out; admission waits for one more report.
	LeaseReportedOnce
	// LeaseDue: it reported a second time and still had not: the block
	// is cut when admission is there.
	LeaseDue
	// LeaseCut: the block was cut at Used; kept for the node's final
	// report.
	LeaseCut
)

// LeaseGrace is how long admission waits at a block's unreported number
// for a node that does not report: five of the default 50 ms ticks
// (app.Options.TickInterval), so that a live node whose tick is late
// (a slow call to Redis, a pause, clocks of nodes a little apart) reports
// before it, while a dead node holds up the line for a quarter of a
// second. A live node that reports is not waited for that long: its
// second report after admission reached its number settles it.
const LeaseGrace = 250 * time.Millisecond

// LeaseReport is a node's word on its block: the numbers before Used
// are handed out. Final: the node will hand out no more of the block
// (it saw the block passed, Room.passed).
type LeaseReport struct {
	Node  uint64
	Phase Phase
	From  uint64
	Used  uint64
	Final bool
}

// report records how far a node handed out its block.
func (l *line) report(r *LeaseReport, now time.Time) {
	if r == nil {
		return
	}
	for i := range l.leases {
		b := &l.leases[i]
		if b.Node != r.Node || b.Phase != r.Phase || b.From != r.From {
			continue
		}
		if used := min(r.Used, b.To); used > b.Used {
			l.v.Joins += used - b.Used
			b.Used = used
			if b.State != LeaseCut {
				b.State = LeaseLive
			}
		} else if b.State == LeaseReached || b.State == LeaseReportedOnce {
			b.State++
		}
		switch {
		case b.State != LeaseCut:
			b.Seen = maxTime(b.Seen, now)
		case r.Final:
			// Numbers from Used on were never handed out: nobody holds
			// their places.
			l.dropPassedOver(PlaceRange{l.v.N + b.Used + 1, l.v.N + b.To + 1})
			l.leases = slices.Delete(l.leases, i, i+1)
		}
		l.changed()
		return
	}
}

// maxTime is the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// lease is Shared.Lease on the line.
func (l *line) lease(node, n uint64, now time.Time, a AdmitParams) (SeqRange, error) {
	if now.Before(l.held) {
		return SeqRange{}, ErrRestoring
	}
	l.report(a.Report, now)
	n = max(n, 1)
	phase := PhaseOpen
	if !l.v.Frozen && now.Before(a.OpensAt) {
		phase = PhasePrequeue
	} else {
		l.freeze(now, a)
	}
	// The node's block ends (a cut one whose final report did not come
	// is forgotten: its node is on another block).
	for i := 0; i < len(l.leases); {
		switch {
		case l.leases[i].Node != node:
			i++
		case l.leases[i].State == LeaseCut:
			l.leases = slices.Delete(l.leases, i, i+1)
		default:
			l.cutLease(i, a)
		}
	}
	seq, mark := &l.v.PostSeq, &l.v.ResvPost
	if phase == PhasePrequeue {
		seq, mark = &l.v.PreSeq, &l.v.ResvPre
	}
	b := Lease{Node: node, Phase: phase, From: *seq, To: *seq + n, Used: *seq + 1, Seen: now}
	*seq = b.To
	*mark = max(*mark, b.To)
	l.leases = append(l.leases, b)
	l.v.Joins++
	l.changed()
	// A line on disk has the block's mark saved before its first number is
	// handed out; if that fails, nothing of it is handed out and the block
	// is cut when admission reaches it.
	if err := l.saveNow(now); err != nil {
		return SeqRange{}, err
	}
	if phase == PhaseOpen {
		l.admit(now, a)
	}
	return SeqRange{Phase: phase, From: b.From, To: b.To}, nil
}

// cutLease ends block i: its numbers not reported handed out are
// uncertain.
func (l *line) cutLease(i int, a AdmitParams) {
	b := l.leases[i]
	l.leases = append(l.leases[:i:i], l.leases[i+1:]...)
	l.changed()
	l.addUncertain(SeqRange{Phase: b.Phase, From: b.Used, To: b.To}, a)
}

// cutPrequeueLeases ends the pre-queue's blocks (when it is frozen).
func (l *line) cutPrequeueLeases(a AdmitParams) {
	for i := 0; i < len(l.leases); {
		if l.leases[i].Phase == PhasePrequeue {
			l.cutLease(i, a)
			continue
		}
		i++
	}
}

// leaseAt returns the block holding place p's open-phase number if the
// number is not reported handed out (and the block not cut), or -1.
func (l *line) leaseAt(p uint64) int {
	if len(l.leases) == 0 || p <= l.v.N {
		return -1
	}
	s := p - l.v.N - 1
	for i, b := range l.leases {
		if b.Phase == PhaseOpen && b.State != LeaseCut && b.Used <= s && s < b.To {
			return i
		}
	}
	return -1
}

// waitLease reports whether admission, at block i's first unreported
// number, waits for its node; if not, the block is cut there (its
// numbers from Used on uncertain) and kept for the node's final report.
func (l *line) waitLease(i int, now time.Time, a AdmitParams) bool {
	b := &l.leases[i]
	if b.State != LeaseDue && now.Sub(b.Seen) < LeaseGrace {
		if b.State == LeaseLive {
			b.State = LeaseReached
			l.changed()
		}
		return true
	}
	b.State, b.Seen = LeaseCut, now
	l.addUncertain(SeqRange{Phase: b.Phase, From: b.Used, To: b.To}, a)
	return false
}

// sweepLeases forgets cut blocks whose final report has not come within
// the claim timeout (their node died): their passed-over places have
// expired by then.
func (l *line) sweepLeases(now time.Time, a AdmitParams) {
	n := len(l.leases)
	l.leases = slices.DeleteFunc(l.leases, func(b Lease) bool {
		return b.State == LeaseCut && !now.Before(b.Seen.Add(a.ClaimTimeout))
	})
	if len(l.leases) != n {
		l.changed()
	}
}

// nodeLease is the block a node hands join numbers out of (Room.lease).
type nodeLease struct {
	mu    sync.Mutex
	id    uint64 // the node's id in the line's blocks
	valid bool
	b     Lease // Used: the next number to hand out
	size  uint64
	at    time.Time // when b was leased
}

// newNodeID is a random id below 2^53 (exact in Lua's numbers).
func newNodeID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])>>11 | 1
}

// leaseGrow: a block used up within this long of being leased is followed
// by one twice its size.
const leaseGrow = time.Second

// takeLeased hands out the next join number of the node's block, leasing
// a new block when it is used up, cut by the line, or of the wrong phase.
func (r *Room) takeLeased(s *Settings, now time.Time) (Phase, uint64, error) {
	nl := &r.lease
	nl.mu.Lock()
	defer nl.mu.Unlock()
	phase := PhaseOpen
	if !r.frozen.Load() && now.Before(s.OpensAt) {
		phase = PhasePrequeue
	}
	if nl.valid && nl.b.Phase == phase && nl.b.Used < nl.b.To && !r.passed(&nl.b) {
		seq := nl.b.Used
		nl.b.Used++
		return phase, seq, nil
	}
	size := uint64(1)
	if nl.valid && nl.b.Used >= nl.b.To && now.Sub(nl.at) < leaseGrow {
		size = min(2*nl.size, LeaseBlock)
	}
	a := r.admitParams(s)
	a.Report = r.reportLease()
	before := r.marks()
	sr, v, err := r.shared.Lease(bg, r.name, nl.id, size, now, a)
	if err != nil {
		if errors.Is(err, ErrRestoring) {
			return 0, 0, sharedErr(err)
		}
		return 0, 0, r.fail(err)
	}
	nl.valid, nl.b, nl.size, nl.at = false, Lease{}, size, now
	if err := r.accept(&v, before); err != nil {
		return 0, 0, err
	}
	// A node that keeps records has the block's mark on disk before any of
	// its numbers is in anyone's hands.
	if r.mustRecord(&v) {
		if err := r.record(now, false); err != nil {
			return 0, 0, err
		}
	}
	nl.valid = true
	nl.b = Lease{Node: nl.id, Phase: sr.Phase, From: sr.From, To: sr.To, Used: sr.From + 1}
	return sr.Phase, sr.From, nil
}

// passed reports whether admission has reached b's next number (the line
// cut the block there): the node leases another rather than hand out a
// place already passed over.
func (r *Room) passed(b *Lease) bool {
	if b.Phase == PhasePrequeue {
		return r.frozen.Load()
	}
	return r.n.Load()+b.Used+1 <= r.serving.Load()
}

// reportLease is the node's report on its block, or nil. r.lease.mu is
// held. It is final once the block is passed: the node hands out no more
// of it (takeLeased checks passed under the same lock, and a block once
// passed stays passed: the node's serving only rises).
func (r *Room) reportLease() *LeaseReport {
	nl := &r.lease
	if !nl.valid {
		return nil
	}
	return &LeaseReport{Node: nl.id, Phase: nl.b.Phase, From: nl.b.From, Used: nl.b.Used, Final: r.passed(&nl.b)}
}

// reportAtHead reports the node's block at once when open-phase number
// seq, just handed out of it, is the next place admission waits at in the
// node's view (the room admits everyone as they come): one call to the
// line, so that its holder is admitted in the answer to their join
// instead of at their next poll (poll_after, a second or more). Further
// back in the line the tick's report is soon enough. An error is left
// to the tick, which reports the same.
func (r *Room) reportAtHead(s *Settings, seq uint64, now time.Time) {
	if r.n.Load()+seq != r.serving.Load() {
		return
	}
	before := r.marks()
	a := r.admitParams(s)
	a.Report = r.leaseReport()
	v, err := r.shared.Tick(bg, r.name, now, a)
	if err != nil {
		return
	}
	if r.accept(&v, before) == nil {
		r.wake()
	}
}

// leaseReport is the report a tick carries.
func (r *Room) leaseReport() *LeaseReport {
	r.lease.mu.Lock()
	defer r.lease.mu.Unlock()
	return r.reportLease()
}

// dropLease gives up the node's block after its line was restored (the
// restored line knows nothing of it): its numbers not handed out are
// uncertain.
func (r *Room) dropLease(now time.Time, a AdmitParams) error {
	nl := &r.lease
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if !nl.valid {
		return nil
	}
	nl.valid = false
	if nl.b.Used >= nl.b.To {
		return nil
	}
	v, err := r.shared.Uncertain(context.Background(), r.name, SeqRange{Phase: nl.b.Phase, From: nl.b.Used, To: nl.b.To}, now, a)
	if err != nil {
		return r.fail(err)
	}
	return r.apply(&v)
}
