//go:build unix

package room

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the state directory for this process: a second process
// pointed at the same directory would hand out the same sequence numbers
// (each keeps its counters in memory and saves them here), so it is
// refused instead. The lock is an flock(2) on DIR/lock, released by Close
// or when the process ends, however it ends.
func (f *FileStore) Lock() error {
	if f.lock != nil {
		return nil
	}
	p := filepath.Join(f.Dir, "lock")
	fh, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("state directory lock: %w", err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fh.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("state directory %s is in use by another sluice process: each process needs its own state_dir; to run several nodes on one line, give them SLUICE_REDIS_URL (docs/CONFIG.md)", f.Dir)
		}
		return fmt.Errorf("state directory lock %s: %w", p, err)
	}
	// The holder's pid, for the operator who finds the file.
	fh.Truncate(0)
	fmt.Fprintf(fh, "%d\n", os.Getpid())
	f.lock = fh
	return nil
}

// Close releases the lock taken by Lock.
func (f *FileStore) Close() error {
	if f.lock == nil {
		return nil
	}
	err := f.lock.Close() // closing the descriptor releases the flock
	f.lock = nil
	return err
}
