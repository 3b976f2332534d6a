// Package apptest starts complete Sluice servers (app.App) for tests: the
// app the binary runs, on a random port, shut down when the test ends. The
// app's own tests, the citizen pages' and the browser tests use it.
package apptest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
)

// AdminToken is the admin token of the apps Config makes.
const AdminToken = "test-admin-token-0123456789"

// TickInterval is the admission tick of test apps (faster than the
// production 50 ms, so that admissions do not slow the tests down).
const TickInterval = 10 * time.Millisecond

// Config is the configuration of a test app: the defaults on a random port
// of 127.0.0.1, a fresh signing key, AdminToken, and warnings only in the
// log.
func Config() config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.Keys = room.GenerateKeyring("k1")
	cfg.AdminToken = AdminToken
	cfg.LogLevel = "warn"
	return cfg
}

// Start builds the app of cfg and opts (a zero TickInterval is
// apptest.TickInterval), starts it and shuts it down when the test ends.
// It fails the test if the app does not build or start.
func Start(tb testing.TB, cfg config.Config, opts app.Options) *app.App {
	tb.Helper()
	a := Boot(tb, cfg, opts)
	tb.Cleanup(func() { shutdown(a) })
	return a
}

// Stop shuts down an app the test started with Boot, failing the test if
// the shutdown does not finish (in-flight requests answered) within the
// time Start's cleanup gives it.
func Stop(tb testing.TB, a *app.App) {
	tb.Helper()
	if err := shutdown(a); err != nil {
		tb.Fatalf("shutdown: %v", err)
	}
}

func shutdown(a *app.App) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.Shutdown(ctx)
}

// Proxy starts `sluice proxy`'s app of cfg and opts in front of the site
// at siteURL, gated by the room "shop", like Start.
func Proxy(tb testing.TB, cfg config.Config, siteURL string, opts app.Options) *app.App {
	tb.Helper()
	u, err := url.Parse(siteURL)
	if err != nil {
		tb.Fatalf("site URL: %v", err)
	}
	opts.Upstream, opts.ProxyRoom = u, "shop"
	return Start(tb, cfg, opts)
}

// Boot is Start without the shutdown: for a test that stops the app
// itself (a restart, a graceful shutdown, a node lost).
func Boot(tb testing.TB, cfg config.Config, opts app.Options) *app.App {
	tb.Helper()
	if opts.TickInterval == 0 {
		opts.TickInterval = TickInterval
	}
	a, err := app.New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Start(); err != nil {
		tb.Fatal(err)
	}
	return a
}

// Demo starts `sluice demo`'s app (the July 2021 campaign behind the room
// "vaccine", on the demo clock at app.DemoStart) with no simulated crowd
// unless opts asks for one.
func Demo(tb testing.TB, opts app.Options) *app.App {
	tb.Helper()
	opts.Demo = true
	return Start(tb, Config(), opts)
}
