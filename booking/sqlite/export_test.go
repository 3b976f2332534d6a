package sqlite

// SetNumberGenerator replaces the booking number generator of s
// (storetest.NumberGenerator).
func (s *Store) SetNumberGenerator(f func() string) { s.newNumber = f }
