package room_test

import (
	"testing"

	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/room/sharedtest"
)

func TestMemSharedSetControlsIf(t *testing.T) {
	sharedtest.RunConditionalControls(t, room.NewMemShared(), "pacing")
}

func TestMemSharedPaceBoard(t *testing.T) {
	sharedtest.RunPaceBoard(t, room.NewMemShared(), "pacing")
}
