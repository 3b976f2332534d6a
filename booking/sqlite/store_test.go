package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/booking/storetest"
)

func TestContractMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) booking.Store {
		s, err := Open(Memory) // each Open is its own private database
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestContractFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) booking.Store {
		s, _ := openFile(t)
		return s
	})
}

// openFile opens a store in a file of its own, closed when the test ends,
// and returns it with the file's path.
func openFile(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	s, path := openFile(t)
	b, err := s.Book(context.Background(), storetest.Request("a"))
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.wc.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync, fk int
	if err := s.wc.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	if err := s.wc.QueryRowContext(context.Background(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var n int
	if err := s.wc.QueryRowContext(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 5 {
		t.Errorf("schema_migrations has %d rows (%v), want 5", n, err)
	}
	if _, err := s.Get(context.Background(), b.Number); err != nil {
		t.Errorf("booking after reopen: %v", err)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wc.ExecContext(context.Background(), `INSERT INTO schema_migrations VALUES (999, '999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", "x.db?mode=ro", "file:x.db", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")} {
		if s, err := Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// The schema itself refuses what the Go checks refuse: no RRN can be stored
// as a person key even by SQL that bypasses the Store.
func TestSchemaRejectsRRN(t *testing.T) {
	s, err := Open(Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const insert = `INSERT INTO booking_sessions (person_key, id, sealed, locked_until, expires) VALUES (?, ?, x'00', 1, 1)`
	for _, k := range []string{"8503091234567", "850309-1234567"} {
		_, err := s.wc.ExecContext(context.Background(), insert, k, "s-"+k)
		if err == nil {
			t.Errorf("booking_sessions accepted person_key %q", k)
		}
	}
	if _, err := s.wc.ExecContext(context.Background(), insert, storetest.PersonKey("x"), "s"); err != nil {
		t.Errorf("booking_sessions refused a keyed hash: %v", err)
	}
}

func TestNewNumber(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		n := NewNumber()
		if len(n) != 13 || !strings.HasPrefix(n, "SLC-") || n[8] != '-' {
			t.Fatalf("bad number %q", n)
		}
		for _, c := range n[4:8] + n[9:] {
			if !strings.ContainsRune("23456789ABCDEFGHJKLMNPQRSTUVWXYZ", c) {
				t.Fatalf("number %q has %q outside the alphabet", n, c)
			}
		}
		if seen[n] {
			t.Fatalf("duplicate %q in 10000 (40 bits: very unlikely)", n)
		}
		seen[n] = true
	}
}

// TestCrashSafety books in a child process that then dies without closing
// the database (os.Exit, no deferred functions, no checkpoint), and checks
// from the parent that every booking the child reported committed is there.
func TestCrashSafety(t *testing.T) {
	if path := os.Getenv("SLUICE_CRASH_CHILD_DB"); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "sluice.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.v")
	cmd.Env = append(os.Environ(), "SLUICE_CRASH_CHILD_DB="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: err %v, want exit status 3\n%s", err, out)
	}
	var numbers []string
	for _, line := range strings.Split(string(out), "\n") {
		if n, ok := strings.CutPrefix(line, "BOOKED "); ok {
			numbers = append(numbers, n)
		}
	}
	if len(numbers) != 5 {
		t.Fatalf("child reported %d bookings, want 5\n%s", len(numbers), out)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Logf("no WAL file left behind (%v); the test is weaker than intended", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, n := range numbers {
		if _, err := s.Get(ctx, n); err != nil {
			t.Errorf("booking %s reported committed before the crash: %v", n, err)
		}
	}
	ms, err := s.PendingMessages(ctx, 100)
	if err != nil || len(ms) != 5 {
		t.Errorf("outbox after crash: %d messages, %v; want 5", len(ms), err)
	}
}

func crashChild(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for i := range 5 {
		b, err := s.Book(context.Background(), storetest.Request(fmt.Sprint("crash", i)))
		if err != nil {
			fmt.Println("book:", err)
			os.Exit(1)
		}
		fmt.Println("BOOKED " + b.Number)
	}
	os.Exit(3) // no Close: the process just dies
}

// In-process variant: the store is dropped without Close and the file is
// opened again while the first handle is still open.
func TestReopenWithoutClose(t *testing.T) {
	s1, path := openFile(t)
	b, err := s1.Book(context.Background(), storetest.Request("a"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Get(context.Background(), b.Number)
	if err != nil || got.Number != b.Number {
		t.Fatalf("Get after reopen: %+v, %v", got, err)
	}
}
