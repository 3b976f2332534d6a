package postgres

// SetNumberGenerator replaces the booking number generator of s
// (storetest.NumberGenerator).
func (s *Store) SetNumberGenerator(f func() string) { s.newNumber = f }

// OutboxLockKey is the SQL expression of the outbox lock's key, for a test
// to find the session that holds it.
const OutboxLockKey = outboxLockKey
