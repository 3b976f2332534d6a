package redis

import (
	"context"

	"github.com/sluicehq/sluice/room"
)

// SetControlsIf changes the controls as SetControls does if they are still
// at change number set (View.ControlsSet), in one step; ok is false when
// another node changed them first (the pacers of several nodes never undo
// each other's change or an operator's: room/pacer.go).
func (s *Store) SetControlsIf(ctx context.Context, name string, c room.Controls, set uint64) (room.View, bool, error) {
	ok, _, v, err := s.run(ctx, "setcontrolsif", name, args{controls: c, set: set})
	return v, ok != 0, err
}
