package app

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
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
	a.History.Run(ctx, a.historyExtra)
	wg.Wait()
}

// historyExtra adds a room's gate rejections and, for the booking room, the
// number of bookings to its history samples.
func (a *App) historyExtra(name string) map[string]float64 {
	out := map[string]float64{}
	var rej uint64
	for _, n := range a.Server.GateRejections()[name] {
		rej += n
	}
	out[room.ExtraGateRejections] = float64(rej)
	if name == a.bookingRoomName() && name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if st, err := a.booking.service.Stats(ctx); err == nil {
			out[room.ExtraBookings] = float64(st.Booked)
		}
	}
	return out
}
