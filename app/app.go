// Package app assembles a running Sluice server from its configuration. The
// sluice binary and the end-to-end tests share it, so the tests exercise
// exactly what users run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/randid"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/room"
	roomredis "github.com/sluicehq/sluice/room/redis"
	"github.com/sluicehq/sluice/sim"
	"github.com/sluicehq/sluice/web"
)

// Options select the mode the server runs in.
type Options struct {
	// Demo adds the demo room and pages and generates missing secrets.
	Demo bool
	// Upstream, if set, makes the server a gated reverse proxy to it for
	// the room ProxyRoom.
	Upstream  *url.URL
	ProxyRoom string
	// Clock overrides the real clock (tests, demo).
	Clock clock.Clock
	// Log overrides the logger.
	Log *slog.Logger
	// DemoAt is where the demo's settable clock starts (default DemoStart).
	DemoAt time.Time
	// TickInterval is the admission tick (default 50ms).
	TickInterval time.Duration
	// Routes adds routes of the caller's to the server, after Sluice's
	// own (tests add gated endpoints this way).
	Routes func(s *web.Server, mux *http.ServeMux)
	// Crowd is how many simulated people the demo puts in line in the
	// booking room (0: none; see app/crowd.go).
	Crowd int
}

// App is a configured, startable server.
type App struct {
	Cfg     config.Config
	Opts    Options
	Log     *slog.Logger
	Clock   clock.Clock
	Keys    *room.Keyring
	Rooms   *room.Manager
	Server  *web.Server
	Metrics *metrics.Registry
	// History keeps the last hour of every room's counters (dashboard).
	History *room.History

	http     *http.Server
	ln       net.Listener
	cancel   context.CancelFunc
	done     chan struct{}
	serveErr chan error
	booking  *bookingParts
	crowd    *sim.Crowd
	// stateStore holds the state directory's lock until Shutdown.
	stateStore *room.FileStore
	// redis holds the rooms' shared state when SLUICE_REDIS_URL is set.
	redis *roomredis.Store
}

// proxyIdleConns is how many idle connections `sluice proxy` keeps to its
// upstream.
const proxyIdleConns = 256

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// New builds the app without starting it.
func New(cfg config.Config, opts Options) (app *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// sluice proxy serves Sluice's own routes under a prefix, so that the
	// protected site keeps every other path.
	var prefix string
	if opts.Upstream != nil {
		if prefix, err = config.Prefix(cfg.ProxyPrefix); err != nil {
			return nil, fmt.Errorf("proxy_prefix: %w", err)
		}
		if cfg.Booking.Enabled() {
			return nil, errors.New("booking: `sluice proxy` puts a waiting room in front of another site; run the booking site with `sluice serve`")
		}
	}
	a := &App{Cfg: cfg, Opts: opts, Log: opts.Log, Clock: opts.Clock}
	defer func() {
		if err != nil && a.stateStore != nil {
			a.stateStore.Close() // let a corrected retry take the directory
		}
		if err != nil && a.redis != nil {
			a.redis.Close()
		}
	}()
	if a.Log == nil {
		a.Log = NewLogger(cfg)
	}
	if a.Clock == nil {
		if opts.Demo {
			at := opts.DemoAt
			if at.IsZero() {
				at = DemoStart
			}
			a.Clock = clock.NewSettable(at)
		} else {
			a.Clock = clock.System{}
		}
	}
	a.Keys = cfg.Keys
	if a.Keys == nil && !opts.Demo {
		return nil, errors.New("no signing keys: set SLUICE_SIGNING_KEYS (id:base64secret[,id:secret...]) or SLUICE_SIGNING_KEYS_FILE; `sluice keygen` makes one")
	}
	if a.Cfg.AdminToken == "" && opts.Demo {
		a.Cfg.AdminToken = randid.New(18)
	}
	// The state directory keeps a single node's lines, or, with Redis,
	// what this node saw of each shared line (so that a node restarted
	// while Redis lost its data restores the line: room/lost.go).
	var store room.Persister
	if cfg.StateDir != "" {
		fs, err := room.NewFileStore(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		if err := fs.Lock(); err != nil {
			return nil, err
		}
		a.stateStore, store = fs, fs
	}
	if a.Keys == nil {
		// The demo signs with a key of its own, kept in the state
		// directory (taken above) when there is one: the line survives a
		// restart there, and so must the tickets that hold its places.
		secret, err := a.demoSecret("signing-key")
		if err != nil {
			return nil, err
		}
		if a.Keys, err = room.NewKeyring(room.Key{ID: "demo", Secret: secret}); err != nil {
			return nil, err
		}
	}
	if cfg.RedisURL != "" {
		// Several nodes serve one line: the rooms' lines live in Redis.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rs, err := roomredis.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
		cancel()
		if err != nil {
			return nil, err
		}
		a.redis = rs
		a.Rooms = room.NewSharedManager(a.Keys, a.Clock, rs, store, a.Log)
	} else {
		a.Rooms = room.NewManager(a.Keys, a.Clock, store, a.Log)
	}
	a.History = room.NewHistory(a.Rooms, room.DefaultHistoryInterval, room.DefaultHistorySize)
	for _, rc := range cfg.Rooms {
		if rc.WaitingURL == "" {
			rc.WaitingURL = prefix + "/wait/" + rc.Name
		}
		st, err := rc.Settings()
		if err != nil {
			return nil, err
		}
		if _, err := a.Rooms.Add(st); err != nil {
			return nil, err
		}
	}
	trusted, _ := config.Prefixes(cfg.TrustedProxies)
	exempt, _ := config.Prefixes(cfg.Limits.Exempt)
	a.Server = &web.Server{
		Rooms: a.Rooms, Keys: a.Keys, Clock: a.Clock, Log: a.Log,
		AdminToken: a.Cfg.AdminToken, RequestTimeout: cfg.RequestTimeout.D(),
		// In front of someone's site, the metrics are the operator's, not
		// the public's: they ask for the admin token.
		Prefix: prefix, PrivateMetrics: opts.Upstream != nil,
		Limiter: web.NewLimiter(web.Limits{
			JoinRate: cfg.Limits.JoinsPerSecond, JoinBurst: cfg.Limits.JoinBurst,
			StatusRate: cfg.Limits.StatusPerSecond, StatusBurst: cfg.Limits.StatusBurst,
			Exempt: exempt, TrustedProxy: trusted,
		}),
	}
	if opts.Demo {
		if err := a.setupDemo(); err != nil {
			return nil, err
		}
	}
	if opts.Upstream != nil {
		if _, ok := a.Rooms.Get(opts.ProxyRoom); !ok {
			if _, err := a.Rooms.Add(room.Settings{Name: opts.ProxyRoom, WaitingURL: a.Server.Path("/wait/" + opts.ProxyRoom)}); err != nil {
				return nil, err
			}
		}
		rp := httputil.NewSingleHostReverseProxy(opts.Upstream)
		// Keep connections to the upstream for reuse: with the default
		// two idle connections per host, every request beyond two in
		// flight opened a new connection (and left one in TIME_WAIT).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = proxyIdleConns
		rp.Transport = tr
		rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			a.Log.Warn("upstream error", "err", err, "path", r.URL.Path)
			web.WriteProblem(w, web.Problem{Status: http.StatusBadGateway, Code: "upstream_unavailable", Detail: "The protected site did not answer. Try again shortly."})
		}
		a.Server.Fallback = a.Server.Gate(opts.ProxyRoom).Wrap(rp)
	}
	if err := a.setupBooking(); err != nil {
		return nil, err
	}
	// Ready means the booking database and the shared queue state answer
	// and every room's line is there: a node that cannot serve should be
	// taken out of the load balancer.
	if a.booking != nil {
		a.Server.Ready = append(a.Server.Ready, web.ReadyCheck{Name: "booking_database", Check: a.booking.store.Ping})
	}
	if a.redis != nil {
		a.Server.Ready = append(a.Server.Ready, web.ReadyCheck{Name: "shared_queue_state", Check: a.redis.Ping})
	}
	// A room whose line is lost (room/lost.go) makes the node unready; the
	// reason names the room and never a URL or password, so /readyz may
	// show it.
	a.Server.Ready = append(a.Server.Ready, web.ReadyCheck{Name: "queue_lines", Public: true,
		Check: func(context.Context) error { return errors.Join(a.Rooms.Problems()...) }})
	src := metrics.Sources{Rooms: a.Rooms, GateRejections: a.Server.GateRejections}
	if a.booking != nil {
		src.Booking = a.booking.service
	}
	a.Metrics = metrics.New(src)
	a.Server.Metrics = a.Metrics.Handler()
	userRoutes := opts.Routes
	demoRoutes := a.Server.Routes
	a.Server.Routes = func(mux *http.ServeMux) {
		if demoRoutes != nil {
			demoRoutes(mux)
		}
		if a.booking != nil {
			a.booking.api.Register(mux)
		}
		a.registerUI(mux)
		if userRoutes != nil {
			userRoutes(a.Server, mux)
		}
	}
	return a, nil
}

// Start listens and serves in the background.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Cfg.Addr, err)
	}
	a.ln = ln
	a.http = web.NewHTTPServer(a.Server.Handler())
	a.http.ErrorLog = slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.done = make(chan struct{})
	interval := a.Opts.TickInterval
	if interval == 0 {
		interval = 50 * time.Millisecond
	}
	a.Rooms.TickAll()
	a.joinCrowd() // before the first visitor: the crowd is ahead of them
	go func() {
		defer close(a.done)
		var wg sync.WaitGroup
		if a.booking != nil {
			wg.Go(func() { a.booking.run(ctx, a.Log) })
		}
		wg.Go(func() { a.runBackground(ctx) }) // history sampling, demo crowd
		a.Rooms.Run(ctx, interval)
		wg.Wait()
	}()
	a.serveErr = make(chan error, 1)
	go func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- err
		}
		close(a.serveErr)
	}()
	return nil
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// URL is the server's base URL.
func (a *App) URL() string { return "http://" + a.Addr() }

// Wait blocks until ctx ends or the server fails.
func (a *App) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err, ok := <-a.serveErr:
		if ok {
			return err
		}
		return nil
	}
}

// Shutdown stops accepting requests, lets in-flight ones finish (up to the
// context's deadline) and saves room state one last time.
func (a *App) Shutdown(ctx context.Context) error {
	err := a.http.Shutdown(ctx)
	if a.cancel != nil {
		a.cancel()
		<-a.done
	}
	if a.booking != nil {
		a.booking.close()
	}
	if a.stateStore != nil {
		a.stateStore.Close() // after the rooms' last save above
	}
	if a.redis != nil {
		a.redis.Close()
	}
	return err
}
