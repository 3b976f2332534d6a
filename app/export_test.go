package app

// CloseBookingStoreForTest closes the booking database under a running app
// (readiness test).
func (a *App) CloseBookingStoreForTest() { a.booking.store.Close() }

// KillForTest stops the app as kill -9 would, as far as other nodes and
// the people it served can tell: every connection drops at once, its
// background work stops, its connections to the database and Redis close
// (releasing what they held, like the outbox lock), nothing is handed
// over, and what it kept in memory is gone with it.
func (a *App) KillForTest() {
	a.http.Close()
	a.cancel()
	<-a.done
	if a.booking != nil {
		a.booking.store.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
}
