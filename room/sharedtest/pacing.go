package sharedtest

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// ConditionalControls is the room.Shared that the pacer writes its rate
// through (MemShared, room/redis): controls change only if nobody changed
// them since the given change number.
type ConditionalControls interface {
	room.Shared
	SetControlsIf(ctx context.Context, room string, c room.Controls, set uint64) (room.View, bool, error)
}

// RunConditionalControls checks SetControlsIf on a fresh line of sh named
// name: a write at the line's change number changes the controls and
// counts a change; one at an older number (another node's pacer or an
// operator came first) changes nothing.
func RunConditionalControls(t *testing.T, sh ConditionalControls, name string) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	v, err := sh.Init(ctx, name, room.Controls{Capacity: 10, Rate: 5}, "epoch-pacing", now)
	if err != nil {
		t.Fatal(err)
	}
	set := v.ControlsSet
	want := room.Controls{Capacity: 10, Rate: 7.5}
	v, ok, err := sh.SetControlsIf(ctx, name, want, set)
	if err != nil || !ok || v.Controls != want || v.ControlsSet != set+1 {
		t.Fatalf("SetControlsIf at the line's change %d: ok %v, %+v, %v; want the new controls at change %d", set, ok, v, err, set+1)
	}
	// Another writer at the same (now old) number loses.
	v, ok, err = sh.SetControlsIf(ctx, name, room.Controls{Capacity: 10, Rate: 1}, set)
	if err != nil || ok || v.Controls != want || v.ControlsSet != set+1 {
		t.Fatalf("SetControlsIf at an old change: ok %v, %+v, %v; want nothing changed", ok, v, err)
	}
	// An operator's change stands against a pacer that read before it.
	op := room.Controls{Paused: true, Capacity: 10, Rate: 2}
	if v, err = sh.SetControls(ctx, name, op); err != nil {
		t.Fatal(err)
	}
	if v, ok, err = sh.SetControlsIf(ctx, name, room.Controls{Capacity: 10, Rate: 9}, set+1); err != nil || ok || v.Controls != op {
		t.Fatalf("SetControlsIf after an operator's change: ok %v, %+v, %v; want the operator's controls", ok, v, err)
	}
}

// RunPaceBoard checks PaceSignals on sh for a room named name: every node
// reads the summaries of all nodes still valid, a node that stops
// publishing drops out after the TTL, and one node at a time leads the
// room's pacing, the next taking over once the leader lets the lead lapse.
func RunPaceBoard(t *testing.T, sh room.PaceBoard, name string) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ttl := room.PaceTTL
	publish := func(node string, requests int, at time.Duration) (int, bool) {
		t.Helper()
		h := room.HealthSummary{Requests: requests, Errors: 1, InFlight: 2, Hist: [][2]int{{3, requests - 1}, {90, 1}}, Limit: 4}
		all, lead, err := sh.PaceSignals(ctx, name, node, h, t0.Add(at), ttl)
		if err != nil {
			t.Fatalf("PaceSignals(%s): %v", node, err)
		}
		m := room.MergeHealth(all)
		return m.Requests, lead
	}
	if n, lead := publish("a", 10, 0); n != 10 || !lead {
		t.Fatalf("first node: %d requests, lead %v; want 10 and the lead", n, lead)
	}
	if n, lead := publish("b", 20, 100*time.Millisecond); n != 30 || lead {
		t.Fatalf("second node: %d requests, lead %v; want 30 (both nodes) and no lead", n, lead)
	}
	if n, lead := publish("a", 11, 500*time.Millisecond); n != 31 || !lead {
		t.Fatalf("leader again: %d requests, lead %v; want 31 and the lead kept", n, lead)
	}
	// a stops: b still counts a's window until it lapses, then takes over.
	if n, lead := publish("b", 20, 500*time.Millisecond+ttl-time.Millisecond); n != 31 || lead {
		t.Fatalf("before a's TTL: %d requests, lead %v; want 31 and no lead", n, lead)
	}
	if n, lead := publish("b", 20, 500*time.Millisecond+ttl); n != 20 || !lead {
		t.Fatalf("after a's TTL: %d requests, lead %v; want 20 (b alone) and the lead", n, lead)
	}
	// The merged window keeps the latency histogram: one slow answer in
	// 20 is the p95 of neither node but shows in the room's.
	all, _, err := sh.PaceSignals(ctx, name, "c", room.HealthSummary{Requests: 1, Hist: [][2]int{{90, 1}}}, t0.Add(600*time.Millisecond+ttl), ttl)
	if err != nil {
		t.Fatal(err)
	}
	if r := room.MergeHealth(all).Reading(); r.Requests != 21 || r.P95 < 5*time.Second || r.Limit != 4 {
		t.Errorf("merged reading %+v: want 21 requests, p95 of the slow bucket, limit 4", r)
	}
}
