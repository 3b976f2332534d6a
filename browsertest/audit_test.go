package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// The accessibility audit: axe-core (testdata/axe-core, vendored from the
// npm registry, see its README) runs in the page of every step of every
// browser test, in the same Chromium. A violation of serious or critical
// impact fails the test; every violation is listed in
// screenshots/axe-report.txt.
const (
	axeVersion = "4.14.1"
	axeSHA256  = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
)

// failingImpacts are the impacts that fail a test.
var failingImpacts = []string{"serious", "critical"}

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

// loadAxe reads the vendored axe-core once and checks that it is the
// pinned version, unmodified.
func loadAxe() (string, error) {
	axeSource.once.Do(func() {
		path := filepath.Join("testdata", "axe-core", "axe.min.js")
		b, err := os.ReadFile(path)
		if err != nil {
			axeSource.err = fmt.Errorf("the accessibility audit needs %s (vendored axe-core %s, see its README): %w", path, axeVersion, err)
			return
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != axeSHA256 {
			axeSource.err = fmt.Errorf("%s: sha256 %s, want %s (axe-core %s as published; see the README to update it)", path, got, axeSHA256, axeVersion)
			return
		}
		if !strings.HasPrefix(string(b), "/*! axe v"+axeVersion+"\n") {
			axeSource.err = fmt.Errorf("%s is not axe-core %s", path, axeVersion)
			return
		}
		axeSource.js = string(b)
	})
	return axeSource.js, axeSource.err
}

// axeRunJS runs every rule, experimental ones included (among them
// label-content-name-mismatch), and returns the violations in short form.
const axeRunJS = `(() => {
const rules = {};
for (const r of axe.getRules(['experimental'])) rules[r.ruleId] = {enabled: true};
return axe.run(document, {rules, resultTypes: ['violations']}).then(res => res.violations.map(v => ({
  id: v.id, impact: v.impact || '', help: v.help,
  nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200)),
  count: v.nodes.length,
})));
})()`

// pageKeyJS names the kind of page shown: a page is audited once per run
// for each path, language, heading, problem shown and waiting-room state.
const pageKeyJS = `(() => {
const h1 = document.querySelector('h1');
const w = document.getElementById('wait');
return [location.pathname, document.documentElement.lang, h1 ? h1.textContent.replace(/\s+/g, ' ').trim() : '',
  document.querySelector('[role=alert]') ? 'alert' : '', w ? w.dataset.state : ''].join(' | ');
})()`

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
	Count  int      `json:"count"`
}

// audits is what this run audited: page kind -> violations.
var audits struct {
	mu    sync.Mutex
	pages map[string][]axeViolation
	order []string
}

// audit runs axe-core on the page in the tab, once per kind of page, and
// notes each serious or critical violation as a problem of the test.
func (tb *tab) audit() {
	tb.t.Helper()
	js, err := loadAxe()
	if err != nil {
		tb.t.Fatal(err)
	}
	var key string
	var found []axeViolation
	ran := false
	tb.step("audit the page with axe-core", func(ctx context.Context) error {
		k, err := eval[string](ctx, pageKeyJS)
		if err != nil {
			return err
		}
		key = k
		audits.mu.Lock()
		_, done := audits.pages[key]
		audits.mu.Unlock()
		if done {
			return nil
		}
		if tb.noJS {
			// The page was loaded without its scripts; axe-core needs
			// script execution only while it runs.
			if err := setScripts(ctx, true); err != nil {
				return err
			}
			defer setScripts(ctx, false)
		}
		loaded, err := eval[bool](ctx, `typeof window.axe === 'object'`)
		if err != nil {
			return err
		}
		if !loaded {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](js+"\n;undefined")); err != nil {
				return fmt.Errorf("loading axe-core: %w", err)
			}
		}
		found, err = chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise))
		if err != nil {
			return err
		}
		ran = true
		return nil
	})
	if !ran {
		return
	}
	audits.mu.Lock()
	if audits.pages == nil {
		audits.pages = map[string][]axeViolation{}
	}
	if _, dup := audits.pages[key]; !dup {
		audits.pages[key] = found
		audits.order = append(audits.order, key)
	}
	audits.mu.Unlock()
	for _, v := range found {
		tb.logf("axe %s (%s) on %s: %s %v", v.ID, v.Impact, key, v.Help, v.Nodes)
		if slices.Contains(failingImpacts, v.Impact) {
			tb.problem(fmt.Sprintf("accessibility: axe-core %s (%s): %s, %d element(s): %s (page %s)", v.ID, v.Impact, v.Help, v.Count, strings.Join(v.Nodes, "; "), key))
		}
	}
}

// writeAuditReport lists every kind of page audited and its violations in
// screenshots/axe-report.txt.
func writeAuditReport() {
	audits.mu.Lock()
	defer audits.mu.Unlock()
	if len(audits.order) == 0 {
		return
	}
	var b strings.Builder
	byImpact := map[string]int{}
	for _, k := range audits.order {
		for _, v := range audits.pages[k] {
			byImpact[v.Impact]++
		}
	}
	fmt.Fprintf(&b, "axe-core %s: %d kinds of page audited; violations by impact: critical %d, serious %d, moderate %d, minor %d\n\n",
		axeVersion, len(audits.order), byImpact["critical"], byImpact["serious"], byImpact["moderate"], byImpact["minor"])
	for _, k := range audits.order {
		fmt.Fprintf(&b, "%s\n", k)
		for _, v := range audits.pages[k] {
			fmt.Fprintf(&b, "  %s (%s, %d): %s\n", v.ID, v.Impact, v.Count, v.Help)
			for _, n := range v.Nodes {
				fmt.Fprintf(&b, "    %s\n", n)
			}
		}
	}
	dir := filepath.Join(repoRoot(), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, "axe-report.txt"), []byte(b.String()), 0o644)
	}
}
