package app

import (
	"context"
	"sync"

	"github.com/sluicehq/sluice/sim"
	"github.com/sluicehq/sluice/ui"
)

// DefaultCrowd is how many simulated people `sluice demo` puts in line in
// the booking room unless --crowd says otherwise.
const DefaultCrowd = 3000

// bookingRoomName is the room in front of the booking API ("" when booking
// is off).
func (a *App) bookingRoomName() string {
	if a.booking == nil {
		return ""
	}
	return a.booking.api.Room
}

// joinCrowd puts the demo crowd (Options.Crowd people) in line in the
// booking room, before the server takes its first visitor. The crowd is
// then moved by runBackground.
func (a *App) joinCrowd() {
	if !a.Opts.Demo || a.Opts.Crowd <= 0 || a.crowd != nil {
		return
	}
	rm, ok := a.Rooms.Get(a.bookingRoomName())
	if !ok {
		return
	}
	a.crowd = &sim.Crowd{Room: rm, Clock: a.Clock, Log: a.Log}
	n := a.crowd.Join(a.Opts.Crowd)
	a.Log.Info("demo crowd in line", "room", rm.Name(), "people", n, "pending", a.Opts.Crowd-n)
}

// runBackground samples the dashboard history and moves the demo crowd
// until ctx ends.
func (a *App) runBackground(ctx context.Context) {
	var wg sync.WaitGroup
	if a.crowd != nil {
		wg.Go(func() { a.crowd.Run(ctx) })
	}
	a.History.Run(ctx, ui.HistoryExtra(a.Server, a.Booking(), a.bookingRoomName()))
	wg.Wait()
}
