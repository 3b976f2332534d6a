// Package pgtest gives tests a PostgreSQL schema of their own on the shared
// test server (SLUICE_POSTGRES_URL, default DefaultURL), dropped with
// everything in it when the test ends. Without a server the test is
// skipped, or fails when SLUICE_REQUIRE_SERVICES=1 (CI), so that CI never
// passes by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/internal/testenv"
)

// DefaultURL is the test server when SLUICE_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var reach struct {
	once sync.Once
	url  string
	err  error
}

// ServerURL returns the URL of the test server, or skips (fails) the test
// if it cannot be reached. It checks the server once per test binary.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	reach.once.Do(func() {
		reach.url = os.Getenv("SLUICE_POSTGRES_URL")
		if reach.url == "" {
			reach.url = DefaultURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, reach.url)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reach.err = err
	})
	if reach.err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable (%v); set SLUICE_POSTGRES_URL to a server the tests may create schemas in",
			Redacted(reach.url), reach.err)
		testenv.Missing(tb, msg)
	}
	return reach.url
}

// Redacted is the URL without its password, for messages.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Exec runs SQL on a connection of its own to the server at dbURL.
func Exec(tb testing.TB, dbURL, sql string) {
	tb.Helper()
	conn := dial(tb, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Connect opens a connection of the test's own to dbURL (in the schema
// of a URL from Schema), for checks in SQL; it is closed when the test
// ends.
func Connect(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	conn := dial(tb, dbURL)
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dial(tb testing.TB, dbURL string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatalf("connect to %s: %v", Redacted(dbURL), err)
	}
	return conn
}

// Schema creates an empty schema named prefix_<random hex>, dropped with
// everything in it when the test ends, and returns the server URL with
// the schema as its search_path.
func Schema(tb testing.TB, prefix string) string {
	tb.Helper()
	base := ServerURL(tb)
	var r [8]byte
	rand.Read(r[:])
	schema := prefix + "_" + hex.EncodeToString(r[:])
	Exec(tb, base, "CREATE SCHEMA "+schema)
	tb.Cleanup(func() { Exec(tb, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SchemaOf returns the schema a URL made by Schema works in.
func SchemaOf(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("search_path")
}
