//go:build unix

package app_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
)

// TestStateDirOneProcess: a second server pointed at a state directory in
// use is refused with a clear error (it would hand out the same places as
// the first); once the first has shut down, the directory is free.
func TestStateDirOneProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := apptest.Config()
	cfg.StateDir = dir
	cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(10.0)}}}

	first := apptest.Boot(t, cfg, app.Options{})
	if _, err := app.New(cfg, app.Options{}); err == nil || !strings.Contains(err.Error(), "in use by another sluice process") {
		t.Fatalf("second server on the same state_dir: %v, want an 'in use' error", err)
	}
	apptest.Stop(t, first)
	apptest.Start(t, cfg, app.Options{}) // the directory is free again
}
