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

// TestDemoKeepsTicketsAcrossRestart: the demo without signing keys makes
// one up; with a state directory it keeps it there beside the line, so a
// ticket issued before a restart still names its place after it (without
// the kept key every ticket of the restored line was refused as forged).
func TestDemoKeepsTicketsAcrossRestart(t *testing.T) {
	cfg := apptest.Config()
	cfg.Keys = nil
	cfg.StateDir = t.TempDir()
	cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(0.001)}}}

	first := apptest.Boot(t, cfg, app.Options{Demo: true})
	join(t, first.URL(), "shop") // takes the one place inside
	tk := join(t, first.URL(), "shop")
	if tk.State != "waiting" {
		t.Fatalf("second join: %q, want waiting", tk.State)
	}
	apptest.Stop(t, first)

	second := apptest.Start(t, cfg, app.Options{Demo: true})
	code, st := status(t, second.URL(), "shop", tk.Ticket)
	if code != 200 {
		t.Fatalf("the ticket issued before the restart: %d, want 200", code)
	}
	if st.Position == nil || tk.Position == nil || *st.Position != *tk.Position {
		t.Fatalf("after the restart: position %v, want %v", st.Position, tk.Position)
	}
}
