package room

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// MaxStatusWait is the longest a status request may be held open for the
// ticket's turn (StatusWait).
const MaxStatusWait = 10 * time.Second

// handover wakes the held status requests of people whose turn has come
// (long poll): as soon as the node sees the line move past their place,
// not at their next poll. Only the people whose place the line reached
// are woken, so that a line moving one place at a time does not wake
// everybody held on every step.
type handover struct {
	mu      sync.Mutex
	waiting waiters // by place, nearest first
}

type waiter struct {
	pos   uint64
	ch    chan struct{}
	index int
}

// waiters is a min-heap of waiters by place.
type waiters []*waiter

func (h waiters) Len() int           { return len(h) }
func (h waiters) Less(i, j int) bool { return h[i].pos < h[j].pos }
func (h waiters) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiters) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waiters) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// wake releases the held requests whose place the node's view has
// reached. The room calls it whenever the line may have moved (after a
// tick, a leave, a claim).
func (r *Room) wake() {
	serving := r.serving.Load()
	hv := &r.handover
	hv.mu.Lock()
	for hv.waiting.Len() > 0 && hv.waiting[0].pos <= serving {
		close(heap.Pop(&hv.waiting).(*waiter).ch)
	}
	hv.mu.Unlock()
}

// StatusWait is StatusSeen, held open up to wait (at most MaxStatusWait) for
// a ticket whose turn is expected within that time: it answers as soon as
// the node sees the line reach the ticket's place, so that the person
// learns of their turn at once instead of at their next poll. Anyone
// farther back, or not waiting, is answered at once as by Status. ctx
// ending answers at once too.
func (r *Room) StatusWait(ctx context.Context, t Ticket, wait time.Duration, seen uint64) (st Status, err error) {
	st, err = r.StatusSeen(t, seen)
	wait = min(wait, MaxStatusWait)
	if err != nil || wait <= 0 || !st.WithinReach(wait) {
		return st, err
	}
	w := &waiter{pos: r.position(t), ch: make(chan struct{})}
	hv := &r.handover
	hv.mu.Lock()
	heap.Push(&hv.waiting, w)
	hv.mu.Unlock()
	r.wake() // the line may have reached it meanwhile
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ch:
	case <-timer.C:
	case <-ctx.Done():
	}
	hv.mu.Lock()
	if w.index >= 0 {
		heap.Remove(&hv.waiting, w.index)
	}
	hv.mu.Unlock()
	st, err = r.StatusSeen(t, seen)
	// Still within reach: ask again at once, to be held again (one
	// request per wait, fewer than the polls it replaces).
	if err == nil && st.WithinReach(wait) {
		st.PollAfter = 0
	}
	return st, err
}

// WithinReach reports whether a status request for st, held up to wait,
// is held (StatusWait): the ticket is waiting, the line has not reached its
// place yet (a claimant waits for capacity, not for the line; see
// Status.reached), and its turn is expected within wait.
func (st Status) WithinReach(wait time.Duration) bool {
	return st.State == StateWaiting && !st.reached && st.ETA <= wait
}

// HeldStatuses counts the status requests held for their turn now
// (StatusWait).
func (r *Room) HeldStatuses() int {
	r.handover.mu.Lock()
	defer r.handover.mu.Unlock()
	return r.handover.waiting.Len()
}
