package config

import (
	"strings"
	"testing"
	"time"
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
		"not yaml":              "{{{",
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
		})
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
