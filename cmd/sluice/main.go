// Command sluice is the Sluice server: a virtual waiting room and booking
// backend in one binary.
//
//	sluice demo    [--addr HOST:PORT] [--crowd N]     everything, embedded, demo data
//	sluice serve   [--config FILE] [--addr HOST:PORT]  production server
//	sluice proxy   --upstream URL [--room NAME] [--prefix /.sluice/]   waiting room in front of any site
//	sluice keygen [--session]                          print a new signing key (or session key)
//	sluice loadtest --flow | --compare | --memory N | --target URL   benchmarks
//	sluice simulate [--scenario NAME|FILE] [--json FILE] [--report DIR]  rehearse a night in virtual time
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/randid"
	"github.com/sluicehq/sluice/internal/seal"
)

const usage = `sluice: a virtual waiting room and mass-booking server

Usage:
  sluice demo  [--addr HOST:PORT] [--crowd N]       run everything with the embedded default and demo data
                                                    (N simulated people queue in room vaccine; default 3000)
  sluice serve [--config FILE] [--addr HOST:PORT]   run the server
  sluice proxy --upstream URL [--room NAME] [--prefix /.sluice/]
                                                    put a waiting room in front of any web site; Sluice's own
                                                    pages and API are under the prefix, every other path is the site's
  sluice keygen [--session]                         print a new signing key for SLUICE_SIGNING_KEYS
                                                    (--session: a key for SLUICE_SESSION_KEYS)
  sluice loadtest --flow | --compare | --memory N | --target URL
                                                    measure whole journeys, throughput and memory (docs/BENCHMARKS.md)
  sluice simulate [--scenario NAME|FILE] [--arrivals N] [--seed S] [--json FILE] [--report DIR] [--real]
                                                    rehearse a night in virtual time (docs/REHEARSAL.md)
  sluice version

Run "sluice COMMAND -h" for a command's flags. Configuration comes from a
YAML file (--config or SLUICE_CONFIG), then SLUICE_* environment variables,
then flags. Secrets only from the environment or files:
  SLUICE_SIGNING_KEYS / SLUICE_SIGNING_KEYS_FILE   id:secret[,id:secret...] (first signs, all verify)
  SLUICE_ADMIN_TOKEN  / SLUICE_ADMIN_TOKEN_FILE    bearer token of the admin API
  SLUICE_SESSION_KEYS / SLUICE_SESSION_KEYS_FILE   id:secret[,id:secret...] (first seals, all open)
`

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// stopSignals stop the long-running commands gracefully: Ctrl-C, and SIGTERM
// (systemd, docker stop).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// untilStopped is a context cancelled by the first of stopSignals.
func untilStopped() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), stopSignals...)
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo", "serve", "proxy":
		return runServer(args[0], args[1:], stdout, stderr, getenv)
	case "loadtest":
		return runLoadtest(args[1:], stdout, stderr, getenv)
	case "simulate":
		return runSimulate(args[1:], stdout, stderr, getenv)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "sluice", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// parseFlags parses a command's args into fs. Commands take flags only:
// any other argument is refused, named on fs's output. false: exit 2.
func parseFlags(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

// runKeygen prints a new key with a dated id, ready for the environment.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	session := fs.Bool("session", false, "a key for SLUICE_SESSION_KEYS (the encryption of sessions in the booking database) instead of a signing key")
	if !parseFlags(fs, args) {
		return 2
	}
	day := time.Now().UTC().Format("20060102")
	if *session {
		fmt.Fprintf(stdout, "SLUICE_SESSION_KEYS=%s\n", seal.FormatKey(seal.Key{ID: "s" + day, Secret: seal.RandomSecret()}))
		return 0
	}
	fmt.Fprintf(stdout, "SLUICE_SIGNING_KEYS=k%s:%s\n", day, randid.New(32))
	return 0
}

func runServer(cmd string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg := config.Default()
	fs := flag.NewFlagSet("sluice "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("SLUICE_CONFIG"), "YAML configuration file (env SLUICE_CONFIG)")
	upstream := fs.String("upstream", "", "proxy: URL of the site to protect")
	roomName := fs.String("room", "site", "proxy: name of the room guarding the upstream")
	prefix := fs.String("prefix", "", "proxy: path under which Sluice's own routes are served, so the site keeps every other path (default "+config.DefaultProxyPrefix+"; yaml proxy_prefix, env SLUICE_PROXY_PREFIX)")
	demoAt := fs.String("at", "", "demo: where the demo clock starts, RFC 3339 (default "+app.DemoStart.Format(time.RFC3339)+", inside the 53-54 window)")
	crowd := fs.Int("crowd", app.DefaultCrowd, "demo: simulated people put in line in the booking room ahead of visitors (0: none)")
	cfg.Flags(fs)
	if !parseFlags(fs, args) {
		return 2
	}
	// Precedence: defaults < file < environment < flags. The flags were
	// parsed into cfg already; load the file and environment into a fresh
	// config and then re-apply the flags that were given.
	base := config.Default()
	if *configPath != "" {
		if err := config.ParseFile(*configPath, &base); err != nil {
			fmt.Fprintln(stderr, "sluice:", err)
			return 1
		}
	}
	if err := base.FromEnv(getenv); err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			base.Addr = cfg.Addr
		case "state-dir":
			base.StateDir = cfg.StateDir
		case "log-level":
			base.LogLevel = cfg.LogLevel
		case "log-format":
			base.LogFormat = cfg.LogFormat
		case "prefix":
			base.ProxyPrefix = *prefix
		}
	})
	cfg = base
	opts := app.Options{Demo: cmd == "demo"}
	if cmd == "demo" {
		opts.Crowd = max(*crowd, 0)
	} else if *crowd != app.DefaultCrowd {
		fmt.Fprintln(stderr, "sluice: --crowd is for `sluice demo` only")
		return 2
	}
	if *demoAt != "" {
		if cmd != "demo" {
			fmt.Fprintln(stderr, "sluice: --at is for `sluice demo` only; a real server always uses the real clock")
			return 2
		}
		t, err := time.Parse(time.RFC3339, *demoAt)
		if err != nil {
			fmt.Fprintf(stderr, "sluice demo: --at %q: want an RFC 3339 time like 2021-07-19T20:00:00+09:00\n", *demoAt)
			return 2
		}
		opts.DemoAt = t
	}
	if *prefix != "" && cmd != "proxy" {
		fmt.Fprintln(stderr, "sluice: --prefix is for `sluice proxy` only; serve and demo serve Sluice's routes at the root")
		return 2
	}
	if cmd == "proxy" {
		if *upstream == "" {
			fmt.Fprintln(stderr, "sluice proxy: --upstream URL is required (the site to protect)")
			return 2
		}
		u, err := url.Parse(*upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "sluice proxy: --upstream %q: want an http:// or https:// URL\n", *upstream)
			return 2
		}
		opts.Upstream, opts.ProxyRoom = u, *roomName
	}
	if cmd == "serve" && cfg.AdminToken == "" {
		fmt.Fprintln(stderr, "sluice: warning: SLUICE_ADMIN_TOKEN is not set; the admin API is disabled")
	}
	a, err := app.New(cfg, opts)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	if err := a.Start(); err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	a.Log.Info("sluice listening", "mode", cmd, "url", a.URL(), "rooms", len(a.Rooms.Rooms()))
	if cmd == "proxy" {
		fmt.Fprintf(stdout, "Sluice is guarding %s at %s\n", opts.Upstream, a.URL())
		fmt.Fprintf(stdout, "  waiting page:   %s\n", a.URL()+a.Server.WaitURL(opts.ProxyRoom, ""))
		fmt.Fprintf(stdout, "  Sluice's own:   %s/ (health, API, dashboard; /metrics and the admin API ask for the admin token)\n", a.URL()+a.Server.Prefix)
	}
	if cmd == "demo" {
		fmt.Fprintf(stdout, "Sluice demo is running at %s\n", a.URL())
		if a.Booking() != nil {
			fmt.Fprintf(stdout, "  booking site:   %s/  (landing, \"may I book now?\", waiting room, booking; ?lang=en for English)\n", a.URL())
		}
		fmt.Fprintf(stdout, "  plain demo:     %s/demo\n", a.URL())
		fmt.Fprintf(stdout, "  waiting room:   %s/wait/demo?return=/demo/protected\n", a.URL())
		fmt.Fprintf(stdout, "  protected page: %s/demo/protected\n", a.URL())
		if getenv("SLUICE_ADMIN_TOKEN") == "" && getenv("SLUICE_ADMIN_TOKEN_FILE") == "" {
			fmt.Fprintf(stdout, "  admin token:    %s\n", a.Cfg.AdminToken)
		}
		fmt.Fprintf(stdout, "  admin API:      curl -H 'Authorization: Bearer <admin token>' %s/api/v1/admin/rooms/demo\n", a.URL())
		if a.Booking() != nil {
			fmt.Fprintf(stdout, "  booking:        campaigns %s, room vaccine (%s/wait/vaccine), demo clock at %s\n", strings.Join(a.Booking().Programme().IDs(), " + "), a.URL(), a.Clock.Now().In(booking.Seoul).Format(time.RFC3339))
			fmt.Fprintf(stdout, "                  eligibility: %s/api/v1/eligibility?birth_date=1968-03-15\n", a.URL())
			fmt.Fprintf(stdout, "                  move the clock: curl -X POST -H 'Authorization: Bearer <admin token>' -d '{\"at\":\"2021-07-20T20:00:00+09:00\"}' %s/api/v1/admin/clock\n", a.URL())
		}
		fmt.Fprintf(stdout, "  dashboard:      %s/admin (log in with the admin token)\n", a.URL())
		if opts.Crowd > 0 && a.Booking() != nil {
			fmt.Fprintf(stdout, "  crowd:          %d simulated people in line in room vaccine ahead of you (--crowd 0 for none)\n", opts.Crowd)
		}
		fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	}
	ctx, stop := untilStopped()
	defer stop()
	if err := a.Wait(ctx); err != nil {
		a.Log.Error("server failed", "err", err)
		return 1
	}
	a.Log.Info("shutting down: finishing in-flight requests", "grace", cfg.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace.D())
	defer cancel()
	if err := a.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		a.Log.Error("shutdown", "err", err)
		return 1
	}
	a.Log.Info("stopped")
	return 0
}
