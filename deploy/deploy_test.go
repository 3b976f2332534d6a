// Package deploy_test checks the deployment kit in this directory: the
// HAProxy configuration (haproxy -c), the systemd units (no secret in
// them), the Prometheus alert rules and the Grafana dashboard (every
// metric they name is one Sluice exports). The fault suite (faults/) runs
// the HAProxy configuration and the node unit's credentials.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/room"
)

// promKeywords are PromQL words that look like metric names.
var promKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "bool": true, "offset": true, "inf": true, "nan": true,
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promNumber   = regexp.MustCompile(`\b[0-9][0-9.]*(?:[eE][+-]?[0-9]+)?\b`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	labelValues  = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
)

// metricNames returns the metric names a PromQL expression (or a Grafana
// label_values query) refers to.
func metricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	e := promString.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, "{}")
	e = promRange.ReplaceAllString(e, "[]")
	e = promNumber.ReplaceAllString(e, "0")
	e = promGrouping.ReplaceAllString(e, "")
	var out []string
	for _, m := range promIdent.FindAllStringSubmatch(e, -1) {
		name := m[0]
		if m[1] != "" || promKeywords[strings.ToLower(name)] {
			continue // a function, or a keyword
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="sluice"} == 0`, []string{"up"}},
		{`max by (room) (sluice_queue_length) > 0 and max by (room) (rate(sluice_admissions_total[2m])) == 0`,
			[]string{"sluice_queue_length", "sluice_admissions_total"}},
		{`sum by (room, reason) (rate(sluice_gate_rejections_total{room=~"$room", reason="forged"}[1m]))`,
			[]string{"sluice_gate_rejections_total"}},
		{`process_open_fds / process_max_fds > 0.8`, []string{"process_open_fds", "process_max_fds"}},
		{`process_resident_memory_bytes > 2e9`, []string{"process_resident_memory_bytes"}},
		{`a_metric * on (instance) group_left (x) other_metric`, []string{"a_metric", "other_metric"}},
		{`label_values(sluice_queue_length, room)`, []string{"sluice_queue_length"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// exported is every metric a Sluice node exports, and `up`, which
// Prometheus records per target.
func exported(t *testing.T) []string {
	t.Helper()
	names := metrics.New(metrics.Sources{Rooms: room.NewManager(room.GenerateKeyring("k1"), clock.System{}, nil, nil)}).Names()
	if !slices.Contains(names, "sluice_queue_length") || !slices.Contains(names, "sluice_booking_cohort_bookings") {
		t.Fatalf("metrics.Registry.Names lacks Sluice's own metrics: %v", names)
	}
	return append(names, "up")
}

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRulesNameExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("prometheus/sluice-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("sluice-alerts.yml: %v", err)
	}
	have := exported(t)
	seen := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("group %s: alert name %q empty or used twice", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			switch r.Labels["severity"] {
			case "info", "warning", "critical":
			default:
				t.Errorf("%s: severity %q, want info, warning or critical", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
			names := metricNames(r.Expr)
			if len(names) == 0 {
				t.Errorf("%s: %q names no metric", r.Alert, r.Expr)
			}
			for _, m := range names {
				if !slices.Contains(have, m) {
					t.Errorf("%s: metric %s is not exported by Sluice", r.Alert, m)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d alert rules", n)
	}
}

func TestDashboardNamesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("grafana/sluice-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("sluice-dashboard.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) < 5 {
		t.Fatalf("dashboard %q (uid %q) with %d panels", dash.Title, dash.UID, len(dash.Panels))
	}
	have := exported(t)
	check := func(where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		for _, m := range names {
			if !slices.Contains(have, m) {
				t.Errorf("%s: metric %s is not exported by Sluice", where, m)
			}
		}
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok && v.Type == "query" {
			check("variable "+v.Name, q)
		}
	}
}

// haproxyEnv is what sluice.cfg expands, with test values.
func haproxyEnv(t *testing.T, bind, admin string, nodes []string) []string {
	t.Helper()
	errs, err := filepath.Abs("haproxy/errors")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"SLUICE_HAPROXY_BIND=" + bind, "SLUICE_HAPROXY_ADMIN_BIND=" + admin, "SLUICE_HAPROXY_ERRORS=" + errs}
	for i, n := range nodes {
		env = append(env, "SLUICE_NODE"+strconv.Itoa(i+1)+"="+n)
	}
	return env
}

func TestHAProxyConfigIsValid(t *testing.T) {
	bin := testenv.LookPath(t, "haproxy", "Debian: apt-get install haproxy")
	// The values of the default file, as the systemd drop-in gives them.
	var env []string
	f, err := os.Open("haproxy/sluice-haproxy.default")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			env = append(env, line)
		}
	}
	env = append(env, haproxyEnv(t, "127.0.0.1:0", "127.0.0.1:0", nil)[2]) // the errors here, not in /etc
	cmd := exec.Command(bin, "-c", "-f", "haproxy/sluice.cfg")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c -f haproxy/sluice.cfg: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("[WARNING]")) {
		t.Errorf("haproxy -c warns:\n%s", out)
	}

	// A variable left unset is an error, not an empty address.
	cmd = exec.Command(bin, "-c", "-f", "haproxy/sluice.cfg")
	cmd.Env = append(os.Environ(), haproxyEnv(t, "127.0.0.1:0", "127.0.0.1:0", []string{"127.0.0.1:1", "127.0.0.1:2"})...)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("haproxy -c accepts the configuration without SLUICE_NODE3:\n%s", out)
	}
}

// The error pages HAProxy sends when no node answers are the API's
// problem documents, with Retry-After, so that clients retry them as they
// retry a node's 503.
func TestHAProxyErrorPagesAreProblems(t *testing.T) {
	for _, code := range []int{502, 503, 504} {
		name := filepath.Join("haproxy/errors", strconv.Itoa(code)+".http")
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: body shorter than its Content-Length: %v", name, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.StatusCode != code || resp.Header.Get("Content-Type") != "application/problem+json" ||
			resp.Header.Get("Retry-After") == "" || doc["code"] != "unavailable" || doc["status"] != float64(code) {
			t.Errorf("%s: %d %v %v", name, resp.StatusCode, resp.Header, doc)
		}
	}
}

// secretVars are the settings that must reach a node as credentials only.
var secretVars = []string{"SLUICE_SIGNING_KEYS", "SLUICE_ADMIN_TOKEN", "SLUICE_PERSON_KEY_SECRET",
	"SLUICE_SESSION_KEYS", "SLUICE_DATABASE", "SLUICE_REDIS_URL"}

// The node's unit holds no secret: each comes through LoadCredential= and
// a *_FILE variable pointing into the credentials directory.
func TestServiceUnitKeepsSecretsOut(t *testing.T) {
	b, err := os.ReadFile("systemd/sluice.service")
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]bool{}
	files := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			switch k {
			case "LoadCredential":
				name, path, _ := strings.Cut(v, ":")
				if !strings.HasPrefix(path, "/etc/sluice/credentials/") {
					t.Errorf("LoadCredential=%s: want a file under /etc/sluice/credentials", v)
				}
				creds[name] = true
			case "Environment":
				name, val, _ := strings.Cut(v, "=")
				for _, s := range secretVars {
					if name == s {
						t.Errorf("Environment=%s: a secret written in the unit; use %s_FILE and LoadCredential=", name, s)
					}
				}
				if strings.HasSuffix(name, "_FILE") {
					files[strings.TrimSuffix(name, "_FILE")] = val
				}
			case "ExecStart":
				if !strings.Contains(v, " serve ") {
					t.Errorf("ExecStart=%s: want `sluice serve`", v)
				}
			}
		}
	}
	for _, s := range secretVars {
		val, ok := files[s]
		cred, found := strings.CutPrefix(val, "%d/")
		if !ok || !found || !creds[cred] {
			t.Errorf("%s: want Environment=%s_FILE=%%d/NAME with LoadCredential=NAME:..., got %q", s, s, val)
		}
	}
}
