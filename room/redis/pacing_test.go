package redis_test

import (
	"testing"

	"github.com/sluicehq/sluice/room/sharedtest"
)

func TestSetControlsIf(t *testing.T) {
	sharedtest.RunConditionalControls(t, newStore(t), "pacing")
}

func TestPaceBoard(t *testing.T) {
	sharedtest.RunPaceBoard(t, newStore(t), "pacing")
}
