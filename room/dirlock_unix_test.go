//go:build unix

package room

import "testing"

func TestFileStoreLock(t *testing.T) {
	dir := t.TempDir()
	a, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := a.Lock(); err != nil {
		t.Errorf("Lock twice by the holder: %v", err)
	}
	b, _ := NewFileStore(dir)
	if err := b.Lock(); err == nil {
		t.Fatal("a second store locked a directory in use")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(); err != nil {
		t.Fatalf("after Close: %v", err)
	}
	b.Close()
}
