package postgres

// SetNumberGenerator replaces the booking number generator of s (tests only).
func SetNumberGenerator(s *Store, f func() string) { s.newNumber = f }
