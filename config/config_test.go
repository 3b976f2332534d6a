package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

const sample = `
addr: 0.0.0.0:9000
state_dir: /var/lib/sluice
trusted_proxies: [10.0.0.0/8, 192.0.2.1]
limits: {joins_per_second: 5, join_burst: 10, status_per_second: 20, status_burst: 40}
rooms:
  - name: shop
    prequeue_at: 2026-12-01T19:00:00+09:00
    opens_at: 2026-12-01T20:00:00+09:00
    closes_at: 2026-12-02T18:00:00+09:00
    capacity: 500
    rate: 50
    pass_ttl: 15m
  - name: plain
`

func TestParseSample(t *testing.T) {
	c := Default()
	if err := Parse(strings.NewReader(sample), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || len(c.Rooms) != 2 || c.Limits.JoinBurst != 10 {
		t.Fatalf("parsed %+v", c)
	}
	s, err := c.Rooms[0].Settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.Capacity != 500 || s.PassTTL != 15*time.Minute || s.OpensAt.Hour() != 20 {
		t.Fatalf("settings %+v", s)
	}
	p, err := c.Rooms[1].Settings()
	if err != nil || p.Capacity == 0 || p.Rate == 0 {
		t.Fatalf("defaults not applied: %+v %v", p, err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"unknown field":         "adr: x\n",
		"bad duration":          "rooms: [{name: a, pass_ttl: forever}]\n",
		"bad room name":         "rooms: [{name: 'Bad Name'}]\n",
		"duplicate room":        "rooms: [{name: a}, {name: a}]\n",
		"negative capacity":     "rooms: [{name: a, capacity: -1}]\n",
		"opens before prequeue": "rooms: [{name: a, prequeue_at: 2026-01-02T00:00:00Z, opens_at: 2026-01-01T00:00:00Z}]\n",
		"bad proxy":             "trusted_proxies: [banana]\n",
		"bad log format":        "log_format: xml\n",
		"negative horizon":      "booking: {horizon_days: -1}\n",
		"horizon over a year":   "booking: {horizon_days: 400}\n",
		"not yaml":              "{{{",
	}
	for field, bad := range map[string][]string{
		"joins_per_second":  {"-1", "1000001", ".nan", ".inf"},
		"join_burst":        {"0", "0.5", "-2", "1000001", ".nan"},
		"status_per_second": {"-0.5", "2e6", ".nan"},
		"status_burst":      {"0", "0.99", "1e7", ".nan"},
	} {
		for _, v := range bad {
			cases["limits."+field+"="+v] = "limits: {" + field + ": " + v + "}\n"
		}
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			c := Default()
			err := Parse(strings.NewReader(in), &c)
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if field, _, ok := strings.Cut(strings.TrimPrefix(name, "limits."), "="); ok && !strings.Contains(err.Error(), "limits."+field+":") {
				t.Errorf("error %q does not name limits.%s", err, field)
			}
		})
	}
}

// Limits that are valid: no limit at all (rate 0, whatever the burst) and
// the bounds themselves.
func TestLimitsValid(t *testing.T) {
	for _, in := range []string{
		"limits: {joins_per_second: 0, join_burst: 0, status_per_second: 0, status_burst: 0}\n",
		"limits: {joins_per_second: 0.01, join_burst: 1, status_per_second: 1000000, status_burst: 1000000}\n",
		"limits: {join_burst: 1}\n",
	} {
		c := Default()
		if err := Parse(strings.NewReader(in), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestFromEnvSecrets(t *testing.T) {
	env := map[string]string{
		"SLUICE_SIGNING_KEYS": "k2:" + strings.Repeat("ab", 32) + ",k1:" + strings.Repeat("cd", 32),
		"SLUICE_ADMIN_TOKEN":  "0123456789abcdefXYZ",
		"SLUICE_ADDR":         "127.0.0.1:1234",
	}
	c := Default()
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Keys == nil || c.Keys.CurrentKeyID() != "k2" || c.AdminToken != env["SLUICE_ADMIN_TOKEN"] || c.Addr != "127.0.0.1:1234" {
		t.Fatalf("env not applied: %+v", c)
	}
	env["SLUICE_ADMIN_TOKEN"] = "short"
	if err := c.FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("short admin token accepted")
	}
	env["SLUICE_ADMIN_TOKEN"] = ""
	env["SLUICE_SIGNING_KEYS"] = "k1:tooshort"
	err := c.FromEnv(func(k string) string { return env[k] })
	if err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("short key: %v (must fail without echoing the secret)", err)
	}
}

// The test identity provider is turned on by a secret from the
// environment or a file only, never by the config file.
func TestFromEnvTestIdentitySecret(t *testing.T) {
	long := strings.Repeat("t", 32)
	file := filepath.Join(t.TempDir(), "test-identity")
	if err := os.WriteFile(file, []byte(long+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "unset", env: map[string]string{}},
		{name: "env", env: map[string]string{"SLUICE_TEST_IDENTITY_SECRET": long}, want: long},
		{name: "file", env: map[string]string{"SLUICE_TEST_IDENTITY_SECRET_FILE": file}, want: long},
		{name: "too short", env: map[string]string{"SLUICE_TEST_IDENTITY_SECRET": "short"}, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			err := cfg.FromEnv(func(k string) string { return c.env[k] })
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "32") {
					t.Fatalf("err = %v, want a refusal naming the minimum length", err)
				}
				return
			}
			if err != nil || string(cfg.TestIdentitySecret) != c.want {
				t.Fatalf("secret %q, err %v; want %q", cfg.TestIdentitySecret, err, c.want)
			}
		})
	}
	cfg := Default()
	if err := Parse(strings.NewReader("test_identity_secret: "+long), &cfg); err == nil {
		t.Error("the config file turned the test identity provider on")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("rooms: [{name: a, pass_ttl: 1s}]")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		c := Default()
		if err := Parse(strings.NewReader(in), &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			return
		}
		for _, rc := range c.Rooms {
			if _, err := rc.Settings(); err != nil {
				t.Fatalf("validated config has invalid room: %v", err)
			}
		}
	})
}

func TestFromEnvRedisURL(t *testing.T) {
	for _, c := range []struct {
		name, url, file string
		want            string
		wantErr         bool
	}{
		{name: "unset", want: ""},
		{name: "plain", url: "redis://127.0.0.1:6379/0", want: "redis://127.0.0.1:6379/0"},
		{name: "tls with password", url: "rediss://u:s3cret-pw@redis.internal:6380/2", want: "rediss://u:s3cret-pw@redis.internal:6380/2"},
		{name: "from file", file: "redis://10.0.0.5:6379\n", want: "redis://10.0.0.5:6379"},
		{name: "wrong scheme", url: "http://u:s3cret-pw@127.0.0.1:6379", wantErr: true},
		{name: "no host", url: "redis://", wantErr: true},
		{name: "not a URL", url: "s3cret-pw@@:%zz", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"SLUICE_REDIS_URL": c.url}
			if c.file != "" {
				p := filepath.Join(t.TempDir(), "redis-url")
				if err := os.WriteFile(p, []byte(c.file), 0o600); err != nil {
					t.Fatal(err)
				}
				env["SLUICE_REDIS_URL_FILE"] = p
			}
			cfg := Default()
			err := cfg.FromEnv(func(k string) string { return env[k] })
			if c.wantErr {
				if err == nil {
					t.Fatalf("accepted %q", c.url)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error echoes the password: %v", err)
				}
				return
			}
			if err != nil || cfg.RedisURL != c.want {
				t.Fatalf("RedisURL %q, err %v; want %q", cfg.RedisURL, err, c.want)
			}
			if cfg.RedisPrefix != "sluice:" {
				t.Errorf("default prefix %q", cfg.RedisPrefix)
			}
		})
	}
}

// validated is the configuration of the file yaml with the environment
// env over it, and what Validate says of it.
func validated(t *testing.T, yaml string, env map[string]string) (Config, error) {
	t.Helper()
	cfg := Default()
	if err := Parse(strings.NewReader(yaml), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	return cfg, cfg.Validate()
}

// refusedAsWanted reports whether a case wants Validate to refuse
// (want != ""), failing the test unless err says want.
func refusedAsWanted(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate: %v, want an error mentioning %q", err, want)
	}
	return true
}

func TestBookingDatabaseURL(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		env        map[string]string
		want       string
		wantErr    string
	}{
		{name: "sqlite file", yaml: "booking: {campaign: 2021-07-50s, database: ./data/sluice.db}", want: "./data/sluice.db"},
		{name: "postgres in yaml without password", yaml: "booking: {campaign: 2021-07-50s, database: 'postgres://sluice@db.internal:5432/sluice'}", want: "postgres://sluice@db.internal:5432/sluice"},
		{name: "password in yaml refused", yaml: "booking: {campaign: 2021-07-50s, database: 'postgres://sluice:pw-in-file@db:5432/sluice'}", wantErr: "SLUICE_DATABASE"},
		{name: "password from env", yaml: "booking: {campaign: 2021-07-50s}", env: map[string]string{"SLUICE_DATABASE": "postgres://sluice:pw@db:5432/sluice"}, want: "postgres://sluice:pw@db:5432/sluice"},
		{name: "env overrides yaml with password", yaml: "booking: {campaign: 2021-07-50s, database: 'postgres://sluice:pw-in-file@db:5432/sluice'}", env: map[string]string{"SLUICE_DATABASE": "postgresql://sluice:pw@db/sluice"}, want: "postgresql://sluice:pw@db/sluice"},
		{name: "no host", yaml: "booking: {campaign: 2021-07-50s, database: 'postgres:///sluice'}", wantErr: "needs a host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := validated(t, c.yaml, c.env)
			if refusedAsWanted(t, err, c.wantErr) {
				if strings.Contains(err.Error(), "pw-in-file") {
					t.Errorf("the error echoes the password: %v", err)
				}
				return
			}
			if err != nil || cfg.Booking.Database != c.want {
				t.Fatalf("database %q, err %v; want %q", cfg.Booking.Database, err, c.want)
			}
		})
	}
}

// A room setting written as 0 in the file is 0, refused like any value
// out of bounds with the field named, never silently the default; a
// setting left out (or null) takes its default. The bounds are
// room.Settings.Validate's, the same as the admin API's and the
// dashboard's.
func TestRoomSettingsInFile(t *testing.T) {
	for field, bad := range map[string][]string{
		"capacity":      {"0", "-1", "10000001"},
		"rate":          {"0", "1e-9", "-1", ".nan", ".inf", "1000001"},
		"pass_ttl":      {"0s", "1s", "25h"},
		"claim_timeout": {"0s", "1s", "2h"},
		"poll_budget":   {"0", "0.5", ".inf", "1e8"},
		"min_poll":      {"0s", "1ms", "2m"},
		"waiting_url":   {"http://queue.example/wait", "//evil.example", "'/\t/evil.example'", "wait/a"},
	} {
		for _, v := range bad {
			t.Run(field+"="+v, func(t *testing.T) {
				c := Default()
				err := Parse(strings.NewReader("rooms: [{name: a, "+field+": "+v+"}]\n"), &c)
				if err == nil {
					err = c.Validate()
				}
				var se *room.SettingError
				if !errors.As(err, &se) || se.Field != field || !strings.Contains(err.Error(), "rooms[0]") {
					t.Errorf("%s: %v, want an error naming rooms[0] and %s", v, err, field)
				}
			})
		}
	}
	c := Default()
	if err := Parse(strings.NewReader("rooms: [{name: a, capacity: null, rate: 0.001, min_poll: 100ms, waiting_url: 'https://queue.example/wait?room=a'}]\n"), &c); err != nil {
		t.Fatal(err)
	}
	s, err := c.Rooms[0].Settings()
	if err != nil || s.Capacity != room.DefaultCapacity || s.Rate != 0.001 || s.MinPoll != 100*time.Millisecond || s.PassTTL != room.DefaultPassTTL {
		t.Errorf("%+v %v", s, err)
	}
}

func TestProxyPrefix(t *testing.T) {
	for in, want := range map[string]string{"/.sluice/": "/.sluice", "/.sluice": "/.sluice", "/_q/sluice-1/": "/_q/sluice-1", "/~a.b": "/~a.b"} {
		if got, err := Prefix(in); err != nil || got != want {
			t.Errorf("Prefix(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/", "//", ".sluice/", "/a//b/", "/./", "/a/../b", "/a b/", "/%2e/", "/a?b", "/a#b", "/a\\b", "/é/"} {
		if got, err := Prefix(in); err == nil {
			t.Errorf("Prefix(%q) = %q, want an error", in, got)
		}
	}
	c := Default()
	if err := Parse(strings.NewReader("proxy_prefix: /\n"), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "proxy_prefix") {
		t.Errorf("proxy_prefix /: %v, want an error naming proxy_prefix", err)
	}
	c = Default()
	if err := c.FromEnv(func(k string) string { return map[string]string{"SLUICE_PROXY_PREFIX": "/_queue/"}[k] }); err != nil || c.ProxyPrefix != "/_queue/" {
		t.Errorf("SLUICE_PROXY_PREFIX: %q %v", c.ProxyPrefix, err)
	}
}

// Session keys come from the environment or a file; a bad one stops the
// server without its secret in the message.
func TestFromEnvSessionKeys(t *testing.T) {
	secret := strings.Repeat("ef", 32)
	file := filepath.Join(t.TempDir(), "session-keys")
	if err := os.WriteFile(file, []byte("s2:"+secret+"\ns1:"+strings.Repeat("01", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"variable": {"SLUICE_SESSION_KEYS": "s2:" + secret + ",s1:" + strings.Repeat("01", 32)},
		"file":     {"SLUICE_SESSION_KEYS_FILE": file},
	} {
		c := Default()
		if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.SessionKeys == nil || c.SessionKeys.CurrentID() != "s2" {
			t.Errorf("%s: session keys %v", name, c.SessionKeys)
		}
	}
	c := Default()
	if err := c.FromEnv(func(string) string { return "" }); err != nil || c.SessionKeys != nil {
		t.Errorf("no session keys set: %v, %v", c.SessionKeys, err)
	}
	for _, bad := range []string{"s1:" + strings.Repeat("ab", 31), "nocolon" + secret, "s 1:" + secret} {
		err := c.FromEnv(func(k string) string {
			if k == "SLUICE_SESSION_KEYS" {
				return bad
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "SLUICE_SESSION_KEYS") || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), strings.Repeat("ab", 31)) {
			t.Errorf("SLUICE_SESSION_KEYS=%q: %v (must fail, naming the variable, not the secret)", bad, err)
		}
	}
}

// request_timeout leaves a request the time to be answered within the
// HTTP write timeout.
func TestRequestTimeout(t *testing.T) {
	c := Default()
	if c.RequestTimeout.D() != 10*time.Second {
		t.Errorf("default request_timeout %v", c.RequestTimeout)
	}
	if err := Parse(strings.NewReader("request_timeout: 3s\n"), &c); err != nil || c.Validate() != nil || c.RequestTimeout.D() != 3*time.Second {
		t.Errorf("request_timeout: 3s: %v, %v", c.RequestTimeout, err)
	}
	if err := c.FromEnv(func(k string) string {
		if k == "SLUICE_REQUEST_TIMEOUT" {
			return "4s"
		}
		return ""
	}); err != nil || c.RequestTimeout.D() != 4*time.Second {
		t.Errorf("SLUICE_REQUEST_TIMEOUT=4s: %v, %v", c.RequestTimeout, err)
	}
	for _, bad := range []string{"request_timeout: 0s\n", "request_timeout: 25s\n", "request_timeout: 100ms\n"} {
		c := Default()
		if err := Parse(strings.NewReader(bad), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil {
			t.Errorf("%s accepted", strings.TrimSpace(bad))
		}
	}
}

// booking.campaigns lists the programme; SLUICE_CAMPAIGN replaces it with
// a comma-separated list; the one-campaign keys still work alone.
func TestBookingCampaigns(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		env        map[string]string
		want       []string
		wantErr    string
	}{
		{name: "list", yaml: "booking: {campaigns: [2021-07-50s, ./autumn.yaml]}", want: []string{"2021-07-50s", "./autumn.yaml"}},
		{name: "one campaign", yaml: "booking: {campaign: 2021-08-18-49}", want: []string{"2021-08-18-49"}},
		{name: "one file", yaml: "booking: {campaign_file: ./c.yaml}", want: []string{"./c.yaml"}},
		{name: "env replaces", yaml: "booking: {campaigns: [2021-07-50s]}", env: map[string]string{"SLUICE_CAMPAIGN": "2021-07-50s, 2021-08-18-49"}, want: []string{"2021-07-50s", "2021-08-18-49"}},
		{name: "env replaces the one-campaign form", yaml: "booking: {campaign: 2021-07-50s}", env: map[string]string{"SLUICE_CAMPAIGN": "2021-08-18-49"}, want: []string{"2021-08-18-49"}},
		{name: "both forms", yaml: "booking: {campaigns: [2021-07-50s], campaign: 2021-08-18-49}", wantErr: "not both"},
		{name: "twice", yaml: "booking: {campaigns: [2021-07-50s, 2021-07-50s]}", wantErr: "listed twice"},
		{name: "empty entry", yaml: "booking: {campaigns: ['']}", wantErr: "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := validated(t, c.yaml, c.env)
			if refusedAsWanted(t, err, c.wantErr) {
				return
			}
			if err != nil || strings.Join(cfg.Booking.CampaignSources(), "|") != strings.Join(c.want, "|") {
				t.Fatalf("campaigns %q, err %v; want %q", cfg.Booking.CampaignSources(), err, c.want)
			}
		})
	}
	if !IsCampaignFile("./autumn.yaml") || !IsCampaignFile("c.yml") || IsCampaignFile("2021-07-50s") {
		t.Error("IsCampaignFile")
	}
}
