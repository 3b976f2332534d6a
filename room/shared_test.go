package room_test

import (
	"testing"

	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/room/sharedtest"
)

func TestMemSharedContract(t *testing.T) {
	sharedtest.Run(t, func(t *testing.T) room.Shared { return room.NewMemShared() })
}
