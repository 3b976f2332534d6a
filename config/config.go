// Package config reads Sluice's configuration from a YAML file, the
// environment (SLUICE_*) and flags, in that order of precedence (flags win).
// Secrets (signing keys, admin token) come only from the environment or from
// files named there, never from flags or the command line.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/internal/roomspec"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// The rooms of the file are written as the admin API takes them: one
// declaration of each, in internal/roomspec.
type (
	RoomConfig   = roomspec.RoomConfig
	RoomTuning   = roomspec.RoomTuning
	PacingTuning = roomspec.PacingTuning
	Duration     = roomspec.Duration
)

// Limits configures per-client abuse limits.
type Limits struct {
	JoinsPerSecond  float64  `yaml:"joins_per_second"`
	JoinBurst       float64  `yaml:"join_burst"`
	StatusPerSecond float64  `yaml:"status_per_second"`
	StatusBurst     float64  `yaml:"status_burst"`
	Exempt          []string `yaml:"exempt"`
}

// MaxLimit bounds every per-client rate and burst in limits: far above any
// one client's real need, low enough to catch a misplaced digit.
const MaxLimit = 1_000_000

// validate checks every limits field, naming it in the error.
func (l Limits) validate() error {
	for _, f := range []struct {
		rateName, burstName string
		rate, burst         float64
		what                string
	}{
		{"joins_per_second", "join_burst", l.JoinsPerSecond, l.JoinBurst, "join"},
		{"status_per_second", "status_burst", l.StatusPerSecond, l.StatusBurst, "status check"},
	} {
		if !(f.rate >= 0 && f.rate <= MaxLimit) {
			return fmt.Errorf("limits.%s: must be between 0 (no limit) and %d %ss per second per client, got %v", f.rateName, MaxLimit, f.what, f.rate)
		}
		// With no limit the burst is not used; otherwise a bucket must hold
		// at least one whole request.
		if f.rate > 0 && !(f.burst >= 1 && f.burst <= MaxLimit) {
			return fmt.Errorf("limits.%s: must be between 1 and %d (how many %ss a client may make at once), got %v", f.burstName, MaxLimit, f.what, f.burst)
		}
	}
	if _, err := Prefixes(l.Exempt); err != nil {
		return fmt.Errorf("limits.exempt: %w", err)
	}
	return nil
}

// Booking configures the booking backend. It is enabled when a campaign is
// given (or in demo mode).
type Booking struct {
	// Campaigns is the programme: the campaigns run at once, each the id
	// of a shipped campaign ("2021-07-50s", "2021-08-18-49") or the path of
	// a YAML campaign file (a name with a '/' or ending in .yaml or .yml).
	Campaigns []string `yaml:"campaigns"`
	// Campaign and CampaignFile are the older one-campaign form (a
	// programme of one); give either them or Campaigns.
	Campaign     string `yaml:"campaign"`
	CampaignFile string `yaml:"campaign_file"`
	// Database is the SQLite file (created if missing), or a PostgreSQL
	// URL (postgres://...) for several nodes sharing one database.
	Database string `yaml:"database"`
	// Room is the waiting room whose passes admit to the booking API.
	Room string `yaml:"room"`
	// HorizonDays: a first dose may be booked at most this many days
	// ahead (0: the service's default, booking.DefaultBookingHorizonDays).
	HorizonDays int `yaml:"horizon_days"`
}

// maxHorizonDays bounds booking.horizon_days: a year ahead.
const maxHorizonDays = 366

// Enabled reports whether a campaign is configured.
func (b Booking) Enabled() bool {
	return len(b.Campaigns) > 0 || b.Campaign != "" || b.CampaignFile != ""
}

// CampaignSources lists the programme's campaigns as configured: shipped
// ids or file paths (IsCampaignFile tells which).
func (b Booking) CampaignSources() []string {
	switch {
	case len(b.Campaigns) > 0:
		return b.Campaigns
	case b.CampaignFile != "":
		return []string{b.CampaignFile}
	case b.Campaign != "":
		return []string{b.Campaign}
	}
	return nil
}

// IsCampaignFile reports whether an entry of booking.campaigns is a file
// path rather than a shipped campaign id.
func IsCampaignFile(entry string) bool {
	return strings.ContainsRune(entry, '/') || strings.HasSuffix(entry, ".yaml") || strings.HasSuffix(entry, ".yml")
}

// Config is the whole server configuration.
type Config struct {
	Addr     string `yaml:"addr"`
	StateDir string `yaml:"state_dir"`
	// RedisPrefix namespaces the keys of the shared queue state (see
	// RedisURL), so that several deployments can share one Redis.
	RedisPrefix    string       `yaml:"redis_prefix"`
	LogLevel       string       `yaml:"log_level"`
	LogFormat      string       `yaml:"log_format"`
	TrustedProxies []string     `yaml:"trusted_proxies"`
	Limits         Limits       `yaml:"limits"`
	Rooms          []RoomConfig `yaml:"rooms"`
	Booking        Booking      `yaml:"booking"`
	ShutdownGrace  Duration     `yaml:"shutdown_grace"`
	// ProxyPrefix is the path under which `sluice proxy` serves Sluice's
	// own routes (waiting page, static files, health, metrics, admin API,
	// dashboard, the published API), so that every other path is the
	// protected site's. Not used by serve and demo.
	ProxyPrefix string `yaml:"proxy_prefix"`
	// RequestTimeout is the deadline of every request that may reach the
	// booking database or Redis: answered by then (503 with Retry-After if
	// it could not finish), within the HTTP write timeout.
	RequestTimeout Duration `yaml:"request_timeout"`

	// Secrets: from the environment or files only.
	Keys       *room.Keyring `yaml:"-"`
	AdminToken string        `yaml:"-"`
	// PersonKeySecret keys the hash that stands in for RRNs in the database.
	PersonKeySecret []byte `yaml:"-"`
	// SessionKeys seal what the booking store keeps about people in the
	// middle of a journey (challenges, sessions, look-ups): from
	// SLUICE_SESSION_KEYS or SLUICE_SESSION_KEYS_FILE, the same on every
	// node.
	SessionKeys *seal.Sealer `yaml:"-"`
	// RedisURL (redis://[user:password@]host:port/db), when set, keeps
	// the rooms' counters and sessions in Redis, shared by every node that
	// uses it: several sluice processes then serve one line. It may hold a
	// password, so it comes from SLUICE_REDIS_URL or SLUICE_REDIS_URL_FILE.
	RedisURL string `yaml:"-"`
	// TestIdentitySecret, when set, lets load tests verify people whose
	// phone is in the test range (booking.TestPhonePrefix) with codes
	// derived from it (booking.TestIdentity). Environment or file only, so
	// that a config file copied from a test setup cannot turn it on.
	TestIdentitySecret []byte `yaml:"-"`

	// databaseFromYAML: Booking.Database was last set by the config file
	// (where a password must not be written).
	databaseFromYAML bool
}

// HTTP server timeouts (docs/CONFIG.md) and the bounds of request_timeout,
// which must leave a request the time to be answered. The default is the
// web server's own (web.DefaultRequestTimeout), so a library user without
// a file and the binary wait alike.
const (
	WriteTimeout          = web.WriteTimeout
	DefaultRequestTimeout = web.DefaultRequestTimeout
	MinRequestTimeout     = 500 * time.Millisecond
	MaxRequestTimeout     = 20 * time.Second
)

// IsPostgresURL reports whether a booking.database value names a
// PostgreSQL server rather than a SQLite file.
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Default returns the built-in configuration.
func Default() Config {
	// The limits' defaults are the web server's own (web.DefaultLimits), so
	// a library user without a file and the binary limit alike.
	l := web.DefaultLimits()
	return Config{
		Addr: "127.0.0.1:8080", LogLevel: "info", LogFormat: "text", RedisPrefix: "sluice:",
		Limits:         Limits{JoinsPerSecond: l.JoinRate, JoinBurst: l.JoinBurst, StatusPerSecond: l.StatusRate, StatusBurst: l.StatusBurst},
		ShutdownGrace:  Duration(15 * time.Second),
		ProxyPrefix:    DefaultProxyPrefix,
		RequestTimeout: Duration(DefaultRequestTimeout),
	}
}

// Parse reads YAML into c. Unknown fields are errors (a typo must not be
// silently ignored).
func Parse(r io.Reader, c *Config) error {
	before := c.Booking.Database
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %w", err)
	}
	if c.Booking.Database != before {
		c.databaseFromYAML = true
	}
	return nil
}

// ParseFile reads a YAML file into c.
func ParseFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := Parse(bytes.NewReader(b), c); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// FromEnv applies SLUICE_* variables and reads the secrets.
func (c *Config) FromEnv(getenv func(string) string) error {
	if v := getenv("SLUICE_ADDR"); v != "" {
		c.Addr = v
	}
	if v := getenv("SLUICE_STATE_DIR"); v != "" {
		c.StateDir = v
	}
	if v := getenv("SLUICE_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if v := getenv("SLUICE_LOG_FORMAT"); v != "" {
		c.LogFormat = v
	}
	if v := getenv("SLUICE_PROXY_PREFIX"); v != "" {
		c.ProxyPrefix = v
	}
	if v := getenv("SLUICE_TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = splitList(v)
	}
	for name, dst := range map[string]*float64{
		"SLUICE_JOINS_PER_SECOND":  &c.Limits.JoinsPerSecond,
		"SLUICE_STATUS_PER_SECOND": &c.Limits.StatusPerSecond,
	} {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return fmt.Errorf("%s=%q: want a number >= 0", name, v)
			}
			*dst = f
		}
	}
	keys, err := room.LoadKeys(getenv)
	if err != nil {
		return err
	}
	c.Keys = keys
	tok, err := Secret(getenv, "SLUICE_ADMIN_TOKEN")
	if err != nil {
		return err
	}
	if tok != "" && len(tok) < 16 {
		return errors.New("SLUICE_ADMIN_TOKEN must be at least 16 characters")
	}
	c.AdminToken = tok
	pks, err := Secret(getenv, "SLUICE_PERSON_KEY_SECRET")
	if err != nil {
		return err
	}
	if pks != "" {
		if len(pks) < booking.MinPersonKeySecret {
			return fmt.Errorf("SLUICE_PERSON_KEY_SECRET must be at least %d characters", booking.MinPersonKeySecret)
		}
		c.PersonKeySecret = []byte(pks)
	}
	if sk, err := Secret(getenv, "SLUICE_SESSION_KEYS"); err != nil {
		return err
	} else if sk != "" {
		if c.SessionKeys, err = seal.Parse(sk); err != nil {
			return fmt.Errorf("SLUICE_SESSION_KEYS: %w", err)
		}
	}
	if v := getenv("SLUICE_REQUEST_TIMEOUT"); v != "" {
		if err := c.RequestTimeout.Parse(v); err != nil {
			return fmt.Errorf("SLUICE_REQUEST_TIMEOUT: %w", err)
		}
	}
	redisURL, err := Secret(getenv, "SLUICE_REDIS_URL")
	if err != nil {
		return err
	}
	if redisURL != "" {
		if u, err := url.Parse(redisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return errors.New("SLUICE_REDIS_URL: want redis://[user:password@]host:port[/db] or rediss://...")
		}
		c.RedisURL = redisURL
	}
	if c.TestIdentitySecret, err = TestIdentitySecret(getenv); err != nil {
		return err
	}
	if v := getenv("SLUICE_REDIS_PREFIX"); v != "" {
		c.RedisPrefix = v
	}
	// A PostgreSQL URL may hold a password, so it may come from a file.
	db, err := Secret(getenv, "SLUICE_DATABASE")
	if err != nil {
		return err
	}
	if db != "" {
		c.Booking.Database, c.databaseFromYAML = db, false
	}
	// SLUICE_CAMPAIGN replaces the programme of the file: one campaign, or
	// several separated by commas (shipped ids or files).
	if v := getenv("SLUICE_CAMPAIGN"); v != "" {
		c.Booking.Campaigns, c.Booking.Campaign, c.Booking.CampaignFile = nil, "", ""
		for _, e := range strings.Split(v, ",") {
			c.Booking.Campaigns = append(c.Booking.Campaigns, strings.TrimSpace(e))
		}
	}
	return nil
}

// TestIdentitySecret reads SLUICE_TEST_IDENTITY_SECRET (or the file named
// by SLUICE_TEST_IDENTITY_SECRET_FILE): the server's test identity provider
// and the load generator (sluice loadtest --flow) share it. nil if unset.
func TestIdentitySecret(getenv func(string) string) ([]byte, error) {
	v, err := Secret(getenv, "SLUICE_TEST_IDENTITY_SECRET")
	if err != nil || v == "" {
		return nil, err
	}
	if len(v) < booking.MinTestIdentitySecret {
		return nil, fmt.Errorf("SLUICE_TEST_IDENTITY_SECRET must be at least %d characters", booking.MinTestIdentitySecret)
	}
	return []byte(v), nil
}

// Secret reads NAME from the environment, or the file named by NAME_FILE
// (trimmed), or returns "" if neither is set.
func Secret(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return strings.TrimSpace(v), nil
	}
	if p := getenv(name + "_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Flags registers the non-secret flags on fs, writing into c when parsed.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT (env SLUICE_ADDR)")
	fs.StringVar(&c.StateDir, "state-dir", c.StateDir, "directory for durable state; empty keeps queue state in memory only (env SLUICE_STATE_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env SLUICE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (env SLUICE_LOG_FORMAT)")
}

// DefaultProxyPrefix is where `sluice proxy` serves Sluice's own routes.
// A path starting with a dot is one that sites almost never use.
const DefaultProxyPrefix = "/.sluice/"

// Prefix checks a proxy prefix and returns it without its trailing slash
// ("/.sluice/" -> "/.sluice"): one or more segments of letters, digits,
// '.', '_', '~' or '-' (not "." or ".."), so that it means the same to
// every browser, proxy and server on the way.
func Prefix(s string) (string, error) {
	p := strings.TrimSuffix(s, "/")
	if !strings.HasPrefix(p, "/") || p == "" {
		return "", fmt.Errorf("%q: want a path like /.sluice/ (not / alone: the protected site keeps every other path)", s)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-") != "" {
			return "", fmt.Errorf("%q: want segments of letters, digits, '.', '_', '~' or '-', like /.sluice/", s)
		}
	}
	return p, nil
}

// Prefixes parses CIDRs or single addresses.
func Prefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("address %q: %v", s, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("network %q: %v", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Validate checks the whole configuration.
func (c *Config) Validate() error {
	if _, err := Prefixes(c.TrustedProxies); err != nil {
		return fmt.Errorf("trusted_proxies: %w", err)
	}
	if err := c.Limits.validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, rc := range c.Rooms {
		if seen[rc.Name] {
			return fmt.Errorf("rooms[%d]: room %q listed twice", i, rc.Name)
		}
		seen[rc.Name] = true
		if _, err := rc.Settings(); err != nil {
			return fmt.Errorf("rooms[%d]: %w", i, err)
		}
	}
	if c.Booking.Campaign != "" && c.Booking.CampaignFile != "" {
		return errors.New("booking: give campaign or campaign_file, not both")
	}
	if len(c.Booking.Campaigns) > 0 && (c.Booking.Campaign != "" || c.Booking.CampaignFile != "") {
		return errors.New("booking: give campaigns (the list) or the one-campaign campaign / campaign_file, not both")
	}
	seenCampaign := map[string]bool{}
	for i, e := range c.Booking.Campaigns {
		if strings.TrimSpace(e) == "" {
			return fmt.Errorf("booking.campaigns[%d]: empty; give a shipped campaign id or a campaign file", i)
		}
		if seenCampaign[e] {
			return fmt.Errorf("booking.campaigns[%d]: %q listed twice", i, e)
		}
		seenCampaign[e] = true
	}
	if IsPostgresURL(c.Booking.Database) {
		if u, err := url.Parse(c.Booking.Database); err != nil || u.Host == "" {
			return errors.New("booking.database: a postgres:// URL needs a host: postgres://user[:password]@host:port/dbname")
		} else if _, hasPassword := u.User.Password(); hasPassword && c.databaseFromYAML {
			return errors.New("booking.database: do not write a database password into the config file; set SLUICE_DATABASE or SLUICE_DATABASE_FILE")
		}
	}
	if c.Booking.HorizonDays < 0 || c.Booking.HorizonDays > maxHorizonDays {
		return fmt.Errorf("booking.horizon_days %d: want 1 to %d days (0 or unset: the default, %d)", c.Booking.HorizonDays, maxHorizonDays, booking.DefaultBookingHorizonDays)
	}
	if c.Booking.Room != "" && !room.ValidRoomName(c.Booking.Room) {
		return fmt.Errorf("booking.room %q: not a valid room name", c.Booking.Room)
	}
	if _, err := Prefix(c.ProxyPrefix); err != nil {
		return fmt.Errorf("proxy_prefix: %w", err)
	}
	if d := c.RequestTimeout.D(); d < MinRequestTimeout || d > MaxRequestTimeout {
		return fmt.Errorf("request_timeout %v: want %v to %v (the HTTP write timeout is %v)", d, MinRequestTimeout, MaxRequestTimeout, WriteTimeout)
	}
	if c.RedisURL != "" && c.RedisPrefix == "" {
		return errors.New("redis_prefix: must not be empty when SLUICE_REDIS_URL is set")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log_format %q: use text or json", c.LogFormat)
	}
	return nil
}
