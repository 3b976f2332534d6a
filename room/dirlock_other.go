//go:build !unix

package room

// Lock is a no-op where flock(2) is not available: do not point two
// processes at one state directory there.
func (f *FileStore) Lock() error { return nil }

// Close releases the lock taken by Lock.
func (f *FileStore) Close() error { return nil }
