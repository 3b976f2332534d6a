package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
)

// Timeouts. A step is one thing a person does (fill a field, press a
// button, wait for a page); the budget is generous for -race on two cores.
const (
	stepTimeout = 20 * time.Second
	testTimeout = 90 * time.Second
)

// screenSize is a size of the screenshots.
type screenSize struct {
	name          string
	width, height int64
	mobile        bool
}

// Screen sizes of the screenshots, the phone first.
var sizes = []screenSize{
	{"phone", 390, 844, true},
	{"desktop", 1280, 900, false},
}

// --- the server ------------------------------------------------------------------

// startDemo runs `sluice demo`'s app in this process on a random port, with
// no simulated crowd (the tests make their own line through the API).
func startDemo(t *testing.T) *app.App {
	t.Helper()
	cfg := apptest.Config()
	cfg.LogLevel = "error"
	return apptest.Start(t, cfg, app.Options{Demo: true, TickInterval: 20 * time.Millisecond})
}

// api calls the JSON API of the app; it returns the status and the decoded
// body (nil when empty).
func api(t *testing.T, a *app.App, method, path, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, a.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		json.Unmarshal(b, &out)
	}
	return resp.StatusCode, out
}

// admin calls the admin API with the app's admin token and fails the test
// on anything but 2xx.
func admin(t *testing.T, a *app.App, method, path string, body any) {
	t.Helper()
	code, out := api(t, a, method, "/api/v1/admin"+path, a.Cfg.AdminToken, body)
	if code/100 != 2 {
		t.Fatalf("admin %s %s: %d %v", method, path, code, out)
	}
}

// joiner is somebody in line who uses the JSON API (not a browser).
type joiner struct {
	t      *testing.T
	a      *app.App
	room   string
	ticket string
}

func joinAPI(t *testing.T, a *app.App, room string) *joiner {
	t.Helper()
	code, out := api(t, a, "POST", "/api/v1/rooms/"+room+"/tickets", "", nil)
	if code != http.StatusCreated {
		t.Fatalf("join %s: %d %v", room, code, out)
	}
	tk, _ := out["ticket"].(string)
	return &joiner{t: t, a: a, room: room, ticket: tk}
}

// leave waits for the joiner's turn, takes the pass and gives the place
// back at once, so that the line moves by one.
func (j *joiner) leave() {
	j.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		code, out := api(j.t, j.a, "GET", "/api/v1/rooms/"+j.room+"/status", j.ticket, nil)
		if code == http.StatusOK && out["state"] == "admitted" {
			pass, _ := out["pass"].(string)
			if code, out := api(j.t, j.a, "POST", "/api/v1/rooms/"+j.room+"/leave", pass, nil); code != http.StatusNoContent {
				j.t.Fatalf("leave: %d %v", code, out)
			}
			return
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("joiner never admitted: %d %v", code, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --- the browser -------------------------------------------------------------------

// tab is one person's browser: a tab in its own browser context (cookies,
// local storage), showing the app at base.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string // for messages
	// noJS: the tab runs no scripts of its pages (noScript).
	noJS bool

	mu       sync.Mutex
	problems []string // requests outside the app, script errors, CSP violations
}

type tabOption func(*tab) error

// noScript turns JavaScript off in the tab (a browser without it).
func noScript(tb *tab) error {
	tb.noJS = true
	return setScripts(tb.ctx, false)
}

// setScripts turns the running of scripts in a tab on or off.
func setScripts(ctx context.Context, on bool) error {
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
	return err
}

// newTab opens a tab in a fresh browser context of the shared Chromium. At
// the end of the test it fails the test if a page of the app loaded
// anything from elsewhere, threw a script error or broke its content
// security policy.
func newTab(t *testing.T, a *app.App, name string, opts ...tabOption) *tab {
	t.Helper()
	parent := browserContext(t)
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	// Bound the whole test; the tab's first Run below creates it.
	ctx, cancelT := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(func() { cancelT(); cancel() })
	tb := &tab{t: t, ctx: ctx, base: a.URL(), name: name}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	consoles := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("%s: opening a tab: %v", name, err)
	}
	for _, o := range opts {
		if err := o(tb); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			u := ev.Request.URL
			if !strings.HasPrefix(u, tb.base+"/") && u != tb.base && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "about:") {
				tb.problem("request outside the app: " + u)
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			tb.problem(fmt.Sprintf("script error at %s:%d: %s", d.URL, d.LineNumber, msg))
		}
	}()
	go func() {
		for ev, err := range consoles {
			if err != nil {
				return
			}
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				continue
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			tb.problem("console.error: " + strings.Join(parts, " "))
		}
	}()
	// The browser's own messages: content security policy violations (an
	// inline style or script, or anything from another origin). Failed
	// requests (a 401 of a status poll) are the app's business, not errors.
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			e := ev.Entry
			if e.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Text, "Content Security Policy") {
				tb.problem(fmt.Sprintf("%s %s: %s (%s)", e.Source, e.Level, e.Text, e.URL))
			}
		}
	}()
	// Operators confirm their controls in a dialog: this person says yes.
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.logf("dialog %q: accepting", ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("%s: %s", name, p)
		}
	})
	return tb
}

func (tb *tab) problem(s string) {
	tb.mu.Lock()
	tb.problems = append(tb.problems, s)
	tb.mu.Unlock()
}

func (tb *tab) logf(format string, args ...any) {
	tb.t.Logf("%s: "+format, append([]any{tb.name}, args...)...)
}

// step runs f with the step timeout; on error it fails the test with what
// the person was doing and where.
func (tb *tab) step(what string, f func(ctx context.Context) error) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		where, _ := chromedp.Run(tb.ctx, chromedp.Location())
		tb.t.Fatalf("%s: %s: %v (page %s)", tb.name, what, err, where)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// read is the value of a JavaScript expression in the page, read as a step
// called what.
func read[T any](tb *tab, what, expr string) T {
	tb.t.Helper()
	var v T
	tb.step(what, func(ctx context.Context) error {
		var err error
		v, err = eval[T](ctx, expr)
		return err
	})
	return v
}

// readOf is what the JavaScript function of an element fn returns for the
// element a finder of findJS finds (kind "control", "button": the one
// labelled or saying text), read as a step called what.
func readOf[T any](tb *tab, what, kind, text, fn string) T {
	tb.t.Helper()
	var v T
	tb.stepOn(what, kind, text, "", func(ctx context.Context, sel string) error {
		var err error
		v, err = eval[T](ctx, fmt.Sprintf(`(%s)(document.querySelector(%s))`, fn, jsArgs(sel)))
		return err
	})
	return v
}

// stepOn is a step called what on the element a finder of findJS finds
// (kind "control", "button", "link": the one labelled or saying text,
// within the CSS selector scope if not ""); f gets its CSS selector.
func (tb *tab) stepOn(what, kind, text, scope string, f func(ctx context.Context, sel string) error) {
	tb.t.Helper()
	tb.step(what, func(ctx context.Context) error {
		sel, err := tb.find(ctx, kind, text, scope)
		if err != nil {
			return err
		}
		return f(ctx, sel)
	})
}

// retry calls f every 100 ms until it returns nil or ctx ends; the error
// is then f's last one.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func jsArgs(args ...any) string {
	var parts []string
	for _, a := range args {
		b, _ := json.Marshal(a)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, ",")
}

// findJS holds the page-side finders. Texts are compared with runs of
// white space made one space; an exact match wins over a partial one, and
// two partial matches are an error (the test must be more precise). Only
// visible elements count.
const findJS = `(() => {
const norm = s => (s || '').replace(/\s+/g, ' ').trim();
const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== 'hidden';
const scopeOf = sel => { if (!sel) return document; const r = document.querySelector(sel); if (!r) throw new Error('no element ' + sel + ' on the page'); return r; };
const textOf = e => norm(e.tagName === 'INPUT' ? e.value : e.textContent);
const pick = (els, text, what) => {
  const exact = els.filter(e => textOf(e) === text);
  if (exact.length >= 1) return exact[0];
  const part = els.filter(e => textOf(e).includes(text));
  if (part.length === 1) return part[0];
  const all = els.map(e => JSON.stringify(textOf(e))).join(', ');
  if (part.length > 1) throw new Error(part.length + ' ' + what + 's contain ' + JSON.stringify(text) + ': ' + all);
  throw new Error('no ' + what + ' ' + JSON.stringify(text) + ' among: ' + (all || 'none'));
};
let n = 0;
const mark = el => { const id = 'bt' + Date.now().toString(36) + (n++); el.setAttribute('data-bt', id); return '[data-bt="' + id + '"]'; };
return {
  // control returns the CSS selector of the form control a <label> names.
  control(text, scope) {
    const lab = pick([...scopeOf(scope).querySelectorAll('label')].filter(visible), text, 'label');
    const el = lab.htmlFor ? document.getElementById(lab.htmlFor) : lab.querySelector('input, select, textarea');
    if (!el) throw new Error('label ' + JSON.stringify(text) + ' names no control (for=' + JSON.stringify(lab.htmlFor) + ')');
    if (!el.id) throw new Error('the control of label ' + JSON.stringify(text) + ' has no id');
    return '#' + CSS.escape(el.id);
  },
  // choose selects the option of a <select> by its text and tells the page.
  choose(sel, text) {
    const el = document.querySelector(sel);
    if (!el || !el.options) throw new Error(sel + ' is not a select');
    const opt = pick([...el.options], text, 'option');
    el.value = opt.value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return norm(opt.textContent);
  },
  // button and link return a selector for the button or link with the text.
  button(text, scope) {
    return mark(pick([...scopeOf(scope).querySelectorAll('button, input[type=submit], input[type=button]')].filter(visible), text, 'button'));
  },
  link(text, scope) {
    return mark(pick([...scopeOf(scope).querySelectorAll('a[href]')].filter(visible), text, 'link'));
  },
  // term returns the text of the <dd> whose <dt> has the text.
  term(text, scope) {
    const dt = pick([...scopeOf(scope).querySelectorAll('dt')].filter(visible), text, 'term');
    const dd = dt.nextElementSibling;
    if (!dd || dd.tagName !== 'DD') throw new Error('term ' + JSON.stringify(text) + ' has no <dd>');
    return norm(dd.textContent);
  },
  text(sel) { const el = document.querySelector(sel || 'body'); return el ? norm(el.innerText) : null; },
};
})()`

// find runs one of findJS's finders in the page, retrying until the page
// has what it looks for.
func (tb *tab) find(ctx context.Context, fn string, args ...any) (string, error) {
	var out string
	err := retry(ctx, func() error {
		res, err := eval[struct {
			V   string `json:"v"`
			Err string `json:"err"`
		}](ctx, fmt.Sprintf(`(() => { try { return {v: %s.%s(%s)}; } catch (e) { return {err: e.message}; } })()`, findJS, fn, jsArgs(args...)))
		if err != nil {
			return err
		}
		if res.Err != "" {
			return errors.New(res.Err)
		}
		out = res.V
		return nil
	})
	return out, err
}

// markPage tags the current document, so that waitNewPage can tell when
// another one has loaded.
func markPage(ctx context.Context) error {
	_, err := eval[chromedp.Void](ctx, `window.__btOld = true`)
	return err
}

// waitNewPage waits until the document marked by markPage is replaced by a
// fully loaded one.
func waitNewPage(ctx context.Context) error {
	return retry(ctx, func() error {
		ok, err := eval[bool](ctx, `!window.__btOld && document.readyState === 'complete'`)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("still on the same page")
		}
		return nil
	})
}

// open loads a path of the app.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.step("open "+path, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(tb.base+path))
	})
	tb.checkPage()
}

// checkPage notes what would keep a person (or these tests) from finding
// their way on the page: a form control without a label, an id used twice
// (a label may then name the wrong control), not exactly one <h1>; and it
// audits the page with axe-core (audit).
func (tb *tab) checkPage() {
	tb.t.Helper()
	issues := read[[]string](tb, "check the page", `(() => {
const out = [];
for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea, progress')) {
  if (e.labels.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    out.push('a control without a label: ' + e.outerHTML.slice(0, 120));
}
const seen = {};
for (const e of document.querySelectorAll('[id]')) {
  if (seen[e.id]) out.push('id used twice: ' + e.id);
  seen[e.id] = true;
}
const h1 = document.querySelectorAll('h1').length;
if (h1 !== 1) out.push(h1 + ' <h1> elements');
return out;
})()`)
	if len(issues) > 0 {
		where, _ := chromedp.Run(tb.ctx, chromedp.Location())
		for _, s := range issues {
			tb.problem(s + " (page " + strings.TrimPrefix(where, tb.base) + ")")
		}
	}
	tb.audit()
}

// fill types value into the field labelled label (as a person types it,
// key by key, so the page's input masks run).
func (tb *tab) fill(label, value string) {
	tb.t.Helper()
	tb.stepOn(fmt.Sprintf("fill %q", label), "control", label, "", func(ctx context.Context, sel string) error {
		if _, err := eval[chromedp.Void](ctx, fmt.Sprintf(`document.querySelector(%s).value = ''`, jsArgs(sel))); err != nil {
			return err
		}
		return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), value))
	})
}

// setValue sets the value of the control labelled label at once (a date
// picker, which typing cannot fill the same way in every browser).
func (tb *tab) setValue(label, value string) {
	tb.t.Helper()
	tb.stepOn(fmt.Sprintf("set %q", label), "control", label, "", func(ctx context.Context, sel string) error {
		_, err := eval[chromedp.Void](ctx, fmt.Sprintf(`(e => { e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector(%s))`, jsArgs(value), jsArgs(sel)))
		return err
	})
}

// fillRRN types a registration number "YYMMDD-NNNNNNN" into its two
// boxes.
func (tb *tab) fillRRN(tx texts, rrn string) {
	tb.t.Helper()
	front, back, _ := strings.Cut(rrn, "-")
	tb.fill(tx.rrnFront, front)
	tb.fill(tx.rrnBack, back)
}

// masked reports whether the field labelled label hides what is typed in
// it.
func (tb *tab) masked(label string) bool {
	tb.t.Helper()
	return readOf[bool](tb, fmt.Sprintf("see whether %q hides what is typed", label), "control", label,
		`e => e.type === 'password' || getComputedStyle(e).webkitTextSecurity === 'disc'`)
}

// value is the current value of the control labelled label (a field, a
// list, a progress bar).
func (tb *tab) value(label string) string {
	tb.t.Helper()
	return readOf[string](tb, fmt.Sprintf("read the value of %q", label), "control", label, `e => String(e.value)`)
}

// choose picks the option with the text in the list labelled label.
func (tb *tab) choose(label, option string) {
	tb.t.Helper()
	tb.stepOn(fmt.Sprintf("choose %q in %q", option, label), "control", label, "", func(ctx context.Context, sel string) error {
		_, err := tb.find(ctx, "choose", sel, option)
		return err
	})
}

// press clicks the button with the text and waits for the next page.
func (tb *tab) press(text string) { tb.t.Helper(); tb.clickAndWait("button", text, "") }

// follow clicks the link with the text and waits for the next page.
func (tb *tab) follow(text string) { tb.t.Helper(); tb.clickAndWait("link", text, "") }

// followIn is follow within the element scope (a CSS selector).
func (tb *tab) followIn(scope, text string) { tb.t.Helper(); tb.clickAndWait("link", text, scope) }

// pressIn is press within the element scope (a CSS selector).
func (tb *tab) pressIn(scope, text string) { tb.t.Helper(); tb.clickAndWait("button", text, scope) }

func (tb *tab) clickAndWait(kind, text, scope string) {
	tb.t.Helper()
	tb.stepOn(fmt.Sprintf("%s %q", map[string]string{"button": "press", "link": "follow"}[kind], text), kind, text, scope, func(ctx context.Context, sel string) error {
		if err := markPage(ctx); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			return err
		}
		return waitNewPage(ctx)
	})
	tb.checkPage()
}

// movesOnAfter runs trigger (something outside the browser, e.g. the last
// person ahead leaving) and waits for the page to move to another one by
// itself.
func (tb *tab) movesOnAfter(what string, trigger func()) {
	tb.t.Helper()
	tb.step(what, func(ctx context.Context) error { return markPage(ctx) })
	trigger()
	tb.step(what, waitNewPage)
	tb.checkPage()
}

// visibleText is the visible text of the element (the whole page for
// ""); an error if there is no such element.
func visibleText(ctx context.Context, sel string) (string, error) {
	v, err := eval[*string](ctx, fmt.Sprintf(`%s.text(%s)`, findJS, jsArgs(sel)))
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", fmt.Errorf("no element %s", sel)
	}
	return *v, nil
}

// text is the visible text of the element (the whole page for ""),
// once there is one.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	tb.step("read "+sel, func(ctx context.Context) error {
		return retry(ctx, func() error {
			var err error
			s, err = visibleText(ctx, sel)
			return err
		})
	})
	return s
}

// term is the value shown next to a term (<dt>text</dt><dd>value</dd>).
func (tb *tab) term(text string) string {
	tb.t.Helper()
	var s string
	tb.step(fmt.Sprintf("read %q", text), func(ctx context.Context) error {
		var err error
		s, err = tb.find(ctx, "term", text, "")
		return err
	})
	return s
}

// see waits until the element's text contains each of want.
func (tb *tab) see(sel string, want ...string) {
	tb.t.Helper()
	tb.step(fmt.Sprintf("see %q in %s", want, sel), func(ctx context.Context) error {
		return retry(ctx, func() error {
			v, err := visibleText(ctx, sel)
			if err != nil {
				return err
			}
			for _, w := range want {
				if !strings.Contains(v, w) {
					return fmt.Errorf("%q not in %q", w, clip(v, 600))
				}
			}
			return nil
		})
	})
}

// seeHeading waits for a page whose <h1> contains text.
func (tb *tab) seeHeading(text string) { tb.t.Helper(); tb.see("h1", text) }

// waitTerm waits until the value next to term satisfies ok, and returns it.
func (tb *tab) waitTerm(term string, what string, ok func(string) bool) string {
	tb.t.Helper()
	var last string
	tb.step(fmt.Sprintf("wait for %q to %s", term, what), func(ctx context.Context) error {
		return retry(ctx, func() error {
			v, err := tb.find(ctx, "term", term, "")
			if err != nil {
				return err
			}
			last = v
			if !ok(v) {
				return fmt.Errorf("%q is %q", term, v)
			}
			return nil
		})
	})
	return last
}

// lang is the page's language (<html lang>).
func (tb *tab) lang() string {
	tb.t.Helper()
	return read[string](tb, "read the page language", `document.documentElement.lang`)
}

var hangul = regexp.MustCompile(`\p{Hangul}`)

// expectEnglish checks that the page is in English: lang="en", and the
// title and headings have no Korean.
func (tb *tab) expectEnglish() {
	tb.t.Helper()
	if l := tb.lang(); l != "en" {
		tb.t.Fatalf("%s: page language is %q, want en (%s)", tb.name, l, tb.text("h1"))
	}
	heads := read[[]string](tb, "read headings", `[document.title, ...[...document.querySelectorAll('h1, h2, label, button')].map(e => e.innerText)]`)
	for _, h := range heads {
		if hangul.MatchString(h) {
			tb.t.Errorf("%s: Korean text on an English page: %q", tb.name, h)
		}
	}
}

// waitVisible waits until the element exists and is shown.
func (tb *tab) waitVisible(what, sel string) {
	tb.t.Helper()
	tb.step(what, func(ctx context.Context) error {
		return retry(ctx, func() error {
			ok, err := eval[bool](ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && !e.closest('[hidden]') && !!(e.offsetWidth || e.offsetHeight); })()`, jsArgs(sel)))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not shown", sel)
			}
			return nil
		})
	})
}

// --- phone layout --------------------------------------------------------------------

// emulate shows the tab at a size of the screenshots and lets the page lay
// itself out.
func emulate(ctx context.Context, width, height int64, mobile bool) error {
	vp := chromedp.EmulateViewport(width, height)
	if mobile {
		vp = chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, vp); err != nil {
		return err
	}
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise))
	return err
}

// onPhone runs f with the tab at the phone size (390x844, touch), then
// puts the desktop size back.
func (tb *tab) onPhone(f func()) {
	tb.t.Helper()
	tb.step("show the phone size", func(ctx context.Context) error { return emulate(ctx, 390, 844, true) })
	defer tb.step("restore the desktop size", func(ctx context.Context) error { return emulate(ctx, 1280, 900, false) })
	f()
}

// onFirstScreen reports whether the whole button with the text is on the
// first screen of the page (scrolled to the top), without scrolling.
func (tb *tab) onFirstScreen(button string) bool {
	tb.t.Helper()
	return readOf[bool](tb, fmt.Sprintf("see whether %q is on the first screen", button), "button", button,
		`e => { scrollTo(0, 0); const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }`)
}

// shownTexts are the texts of the elements matching sel that are shown at
// their full size (not hidden, not clipped to a pixel for screen readers).
func (tb *tab) shownTexts(sel string) []string {
	tb.t.Helper()
	return read[[]string](tb, "read what is shown of "+sel, fmt.Sprintf(`[...document.querySelectorAll(%s)].filter(e => e.offsetWidth > 2 && e.offsetHeight > 2 && getComputedStyle(e).visibility !== 'hidden').map(e => e.innerText.replace(/\s+/g, ' ').trim())`, jsArgs(sel)))
}

// pageHeight is the height of the whole page in CSS pixels.
func (tb *tab) pageHeight() int {
	tb.t.Helper()
	return read[int](tb, "measure the page", `document.documentElement.scrollHeight`)
}

// --- screenshots -------------------------------------------------------------------

var shotsOnce sync.Once

// shotsDir is screenshots/ at the repository root, emptied of the last
// run's pictures the first time it is asked for.
func shotsDir(t *testing.T) string {
	dir := filepath.Join(repoRoot(), "screenshots")
	shotsOnce.Do(func() {
		old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
		for _, f := range old {
			os.Remove(f)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Logf("screenshots: %v", err)
		}
	})
	return dir
}

// screenshot saves the whole page at each size as screenshots/NAME-SIZE.png,
// then puts the desktop size back.
func (tb *tab) screenshot(name string) { tb.t.Helper(); tb.shoot(name, sizes) }

// phoneShot saves the whole page at the phone size only (390x844), as
// screenshots/NAME-phone.png.
func (tb *tab) phoneShot(name string) { tb.t.Helper(); tb.shoot(name, sizes[:1]) }

func (tb *tab) shoot(name string, sizes []screenSize) {
	tb.t.Helper()
	dir := shotsDir(tb.t)
	for _, s := range sizes {
		tb.step("screenshot "+name+" "+s.name, func(ctx context.Context) error {
			if err := emulate(ctx, s.width, s.height, s.mobile); err != nil {
				return err
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+"-"+s.name+".png"), png, 0o644)
		})
	}
	tb.step("restore the desktop size", func(ctx context.Context) error { return emulate(ctx, 1280, 900, false) })
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
