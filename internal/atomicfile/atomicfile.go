// Package atomicfile writes a file whole or not at all, so that a crash
// (kill -9, power loss) leaves either the old file or the new one, never a
// part: a temporary file in the same directory, fsync, rename over the
// file, fsync of the directory so the rename itself is durable. It is
// tested through its callers: room's FileStore tests (round trip, a crash
// between saves, no temporary file left behind).
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with b. The temporary file is named
// "." + the file's name + a random suffix, in the file's directory (a
// rename within one file system is atomic), and is removed on failure.
func Write(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
