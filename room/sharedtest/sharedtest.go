// Package sharedtest is the contract suite every room.Shared implementation
// must pass (Run), and several room.Room nodes on one Shared (RunNodes). It
// uses only the room.Shared interface; room.MemShared is the reference that
// defines the semantics. The files are by what they check: init.go
// (creating a line), phases.go (join numbers, pre-queue, opening),
// reserve.go (reservations), lease.go (nodes' blocks of numbers), admission.go (capacity, rate, stops, clock),
// sessions.go (claim, active, expiry, leave), uncertain.go (places passed
// over), late.go (late claims), restore.go (a lost line rebuilt), controls.go (operator controls
// and the view), concurrency.go, nodes.go.
//
// Every time the suite passes is a whole number of milliseconds after one
// base time, so implementations may store Unix milliseconds.
package sharedtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// base is the suite's time zero.
var base = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// at is base plus ms milliseconds.
func at(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

type contractTest struct {
	name string
	run  func(*testing.T, *harness)
}

// suite is the contract, in groups.
var suite = []struct {
	group string
	tests []contractTest
}{
	{"Init", []contractTest{
		{"CreatesWithControls", testInitCreates},
		{"TokensFull", testInitTokensFull},
		{"FirstNodeWins", testInitFirstWins},
		{"NothingBeforeInit", testNothingBeforeInit},
	}},
	{"Reserve", []contractTest{
		{"JoinNeedsReservation", testJoinNeedsReservation},
		{"MarksOnlyRise", testReserveMarksOnlyRise},
		{"FreezeEndsPrequeueReservation", testReserveFreeze},
	}},
	{"Prequeue", []contractTest{
		{"Seqs", testPrequeueSeqs},
		{"TickBeforeOpensAtKeepsUnfrozen", testPrequeueTickBeforeOpen},
		{"FreezeAtOpensAt", testPrequeueFreeze},
	}},
	{"Open", []contractTest{
		{"Seqs", testOpenSeqs},
	}},
	{"Admission", []contractTest{
		{"ImmediateOnEmptyLine", testAdmitImmediate},
		{"CapacityBound", testAdmitCapacity},
		{"RateBound", testAdmitRate},
		{"Invariants", testAdmitInvariants},
	}},
	{"Stopped", []contractTest{
		{"NoAdmissionThenResume", testStoppedResume},
		{"ClosesAtBoundary", testClosesAtBoundary},
	}},
	{"Clock", []contractTest{
		{"EarlierStepAddsNoTokens", testClockBackwards},
	}},
	{"Claim", []contractTest{
		{"NotAdmitted", testClaimNotAdmitted},
		{"AdmittedOnce", testClaimAdmitted},
		{"ClaimTimeout", testClaimTimeout},
		{"AfterPassExpiry", testClaimAfterPass},
	}},
	{"Sessions", []contractTest{
		{"Active", testActive},
		{"TickSweeps", testTickSweeps},
		{"Leave", testLeave},
	}},
	{"SetControls", []contractTest{
		{"ChangesView", testSetControlsView},
		{"LowerCapacity", testSetControlsLowerCapacity},
		{"RaiseCapacity", testSetControlsRaiseCapacity},
	}},
	{"View", []contractTest{
		{"JoinsCounter", testJoinsCounter},
		{"MatchesLastStep", testViewMatches},
		{"RoomsIndependent", testRoomsIndependent},
	}},
	{"Uncertain", []contractTest{
		{"PassedOver", testUncertainPassedOver},
		{"ClaimantKeeps", testUncertainClaimantKeeps},
		{"Prequeue", testUncertainPrequeue},
		{"OpenBeforeDraw", testUncertainOpenBeforeDraw},
	}},
	{"LateClaim", []contractTest{
		{"ClaimantOnce", testLateClaim},
		{"AdmitsAtOnce", testLateClaimAdmitsAtOnce},
	}},
	{"Lease", []contractTest{
		{"Blocks", testLeaseBlocks},
		{"WaitsForLiveNode", testLeaseWaitsForLiveNode},
		{"IdleNodeCut", testLeaseIdleNodeCut},
		{"DeadNodeCut", testLeaseDeadNodeCut},
		{"Prequeue", testLeasePrequeue},
	}},
	{"Restore", []contractTest{
		{"Missing", testRestoreMissing},
		{"Merge", testRestoreMerge},
		{"OtherEpoch", testRestoreOtherEpoch},
		{"Drawn", testRestoreDrawn},
	}},
	{"Concurrency", []contractTest{
		{"JoinsAndTicks", testConcurrency},
	}},
}

// Run runs the contract suite. newShared is called once per subtest and must
// return a Shared with no state left from other subtests (the suite uses a
// distinct room name in each subtest anyway).
func Run(t *testing.T, newShared func(t *testing.T) room.Shared) {
	for _, g := range suite {
		t.Run(g.group, func(t *testing.T) {
			for _, c := range g.tests {
				t.Run(c.name, func(t *testing.T) { c.run(t, newHarness(t, newShared)) })
			}
		})
	}
}

// harness is one room on one Shared; its methods fail the test on errors.
type harness struct {
	t         *testing.T
	s         room.Shared
	room      string
	ctx       context.Context
	newShared func(*testing.T) room.Shared
}

var roomSeq atomic.Uint64

func roomName(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "_", "=", "-").Replace(t.Name())
	return fmt.Sprintf("sharedtest-%d-%s", roomSeq.Add(1), name)
}

func newHarness(t *testing.T, newShared func(*testing.T) room.Shared) *harness {
	t.Helper()
	s := newShared(t)
	if s == nil {
		t.Fatal("newShared returned nil")
	}
	return &harness{t: t, s: s, room: roomName(t), ctx: context.Background(), newShared: newShared}
}

// fresh is a room on a new Shared, for subtest t.
func (h *harness) fresh(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, h.newShared)
}

// other is another room on the same Shared.
func (h *harness) other() *harness {
	return &harness{t: h.t, s: h.s, room: roomName(h.t), ctx: h.ctx, newShared: h.newShared}
}

// must fails the test on err and checks the invariants of the view that
// came with it.
func (h *harness) must(what string, v room.View, err error) room.View {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	h.check(v, what)
	return v
}

func (h *harness) init(c room.Controls, now time.Time) room.View {
	h.t.Helper()
	v, err := h.s.Init(h.ctx, h.room, c, testEpoch, now)
	return h.must("Init", v, err)
}

func (h *harness) view() room.View {
	h.t.Helper()
	v, err := h.s.View(h.ctx, h.room)
	return h.must("View", v, err)
}

func (h *harness) reserve(phase room.Phase, n uint64, now time.Time) room.View {
	h.t.Helper()
	v, err := h.s.Reserve(h.ctx, h.room, phase, n, now)
	return h.must(fmt.Sprintf("Reserve(%d, %d)", phase, n), v, err)
}

// join joins as a node does: when the phase's reservation is used up, it
// reserves a block and joins again.
func (h *harness) join(now time.Time, a room.AdmitParams) (room.Phase, uint64, room.View) {
	h.t.Helper()
	ph, seq, v, err := h.s.Join(h.ctx, h.room, now, a)
	if errors.Is(err, room.ErrUnreserved) {
		h.reserve(ph, 256, now)
		ph, seq, v, err = h.s.Join(h.ctx, h.room, now, a)
	}
	return ph, seq, h.must("Join", v, err)
}

// joinN joins n times at now and returns the last view.
func (h *harness) joinN(n int, now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	var v room.View
	for range n {
		_, _, v = h.join(now, a)
	}
	return v
}

func (h *harness) tick(now time.Time, a room.AdmitParams) room.View {
	h.t.Helper()
	v, err := h.s.Tick(h.ctx, h.room, now, a)
	return h.must("Tick", v, err)
}

func (h *harness) claim(pos uint64, now time.Time, passTTL time.Duration) (time.Time, bool) {
	h.t.Helper()
	exp, ok, v, err := h.s.Claim(h.ctx, h.room, pos, now, passTTL, open)
	h.must(fmt.Sprintf("Claim(%d)", pos), v, err)
	return exp, ok
}

func (h *harness) active(pos uint64, now time.Time) bool {
	h.t.Helper()
	ok, err := h.s.Active(h.ctx, h.room, pos, now)
	if err != nil {
		h.t.Fatalf("Active(%d): %v", pos, err)
	}
	return ok
}

func (h *harness) leave(pos uint64, now time.Time, a room.AdmitParams) bool {
	h.t.Helper()
	ok, v, err := h.s.Leave(h.ctx, h.room, pos, now, a)
	h.must(fmt.Sprintf("Leave(%d)", pos), v, err)
	return ok
}

func (h *harness) set(c room.Controls) room.View {
	h.t.Helper()
	v, err := h.s.SetControls(h.ctx, h.room, c)
	return h.must("SetControls", v, err)
}

// check reports a view that breaks an invariant every view must keep.
func (h *harness) check(v room.View, what string) {
	h.t.Helper()
	if err := invariants(v); err != nil {
		h.t.Errorf("%s: %v", what, err)
	}
}

func invariants(v room.View) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if v.Serving > v.N+v.PostSeq {
		bad("Serving %d > N %d + PostSeq %d", v.Serving, v.N, v.PostSeq)
	}
	// Every place reached is admitted or passed over (a passed-over
	// place's holder may be admitted later, and after a restore a place
	// whose session was lost may be admitted again).
	if v.Admissions+v.Skipped < v.Serving {
		bad("Admissions %d + Skipped %d < Serving %d", v.Admissions, v.Skipped, v.Serving)
	}
	// A restored line goes on past numbers it cannot tell were handed out.
	if v.Joins > v.PreSeq+v.PostSeq {
		bad("Joins %d > PreSeq %d + PostSeq %d", v.Joins, v.PreSeq, v.PostSeq)
	}
	if v.Active < 0 || uint64(v.Active) > v.Serving {
		bad("Active %d outside [0, Serving %d]", v.Active, v.Serving)
	}
	if v.Active >= 0 && v.Expired+v.Leaves+uint64(v.Active) != v.Admissions {
		bad("Expired %d + Leaves %d + Active %d != Admissions %d", v.Expired, v.Leaves, v.Active, v.Admissions)
	}
	if !v.Frozen && (v.N != 0 || v.PostSeq != 0 || v.Serving != 0) {
		bad("not frozen but N %d, PostSeq %d, Serving %d", v.N, v.PostSeq, v.Serving)
	}
	if v.Frozen && (v.N != v.PreSeq || v.ResvPre != v.N) {
		bad("frozen with N %d, PreSeq %d, ResvPre %d: all three must be equal", v.N, v.PreSeq, v.ResvPre)
	}
	if v.PreSeq > v.ResvPre || v.PostSeq > v.ResvPost {
		bad("numbers handed out beyond the reservation: PreSeq %d > ResvPre %d or PostSeq %d > ResvPost %d", v.PreSeq, v.ResvPre, v.PostSeq, v.ResvPost)
	}
	if v.ControlsSet < 1 {
		bad("ControlsSet %d: Init sets the controls once", v.ControlsSet)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("view %+v: %s", v, strings.Join(errs, "; "))
}

// testEpoch is the epoch of the lines the suite creates.
const testEpoch = "sharedtest-epoch"

// burst is the token bucket's size for rate.
func burst(rate float64) float64 { return max(1, rate/10) }

var open = room.AdmitParams{ClaimTimeout: time.Hour, LotteryKey: "key-open"}
