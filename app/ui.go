package app

import (
	"net/http"

	"github.com/sluicehq/sluice/ui"
)

// registerUI adds the citizen pages and the operator dashboard (see ui/).
//
// The waiting page (GET /wait/{room}) is served by the web package and
// rendered by ui for every room; with booking enabled, ui also serves the
// landing page at / and the booking steps behind the booking room's gate.
func (a *App) registerUI(mux *http.ServeMux) {
	pages := &ui.Pages{Server: a.Server, Clock: a.Clock, Demo: a.Opts.Demo}
	if a.booking != nil {
		pages.Booking, pages.Room = a.booking.service, a.booking.api.Room
	}
	pages.Register(mux)
	(&ui.Dashboard{Server: a.Server, Rooms: a.Rooms, Booking: a.Booking(), BookingRoom: pages.Room, Clock: a.Clock, History: a.History}).Register(mux)
}
