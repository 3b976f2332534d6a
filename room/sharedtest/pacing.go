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
