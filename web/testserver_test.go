package web

import (
	"log/slog"
	"testing"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// testServer is a server of one node whose rooms have the given settings,
// on clk (nil: the system clock; the server's Clock stays nil), with a log
// that discards. The test sets the rest (Limiter, AdminToken, Routes, ...).
func testServer(tb testing.TB, keys *room.Keyring, clk clock.Clock, settings ...room.Settings) *Server {
	tb.Helper()
	log := slog.New(slog.DiscardHandler)
	m := room.NewManager(keys, clk, nil, log)
	for _, st := range settings {
		if _, err := m.Add(st); err != nil {
			tb.Fatal(err)
		}
	}
	return &Server{Rooms: m, Keys: keys, Clock: clk, Log: log}
}
