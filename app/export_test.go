package app

// CloseBookingStoreForTest closes the booking database under a running app
// (readiness test).
func (a *App) CloseBookingStoreForTest() { a.booking.store.Close() }
