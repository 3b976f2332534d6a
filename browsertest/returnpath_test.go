package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/localurl"
	"github.com/sluicehq/sluice/internal/whatwgurl"
)

// TestReturnPathsAsChromiumReadsThem checks the two readings of addresses
// the server relies on against Chromium's: the transcription of the URL
// standard (internal/whatwgurl, the oracle of localurl's fuzz test) and
// localurl.Path (the one check of return paths), on the table of tricky
// addresses, read on a page of the app as the browser reads a link or a
// Location header there.
func TestReturnPathsAsChromiumReadsThem(t *testing.T) {
	a := startDemo(t)
	b := newTab(t, a, "reader")
	b.open("/demo")
	var inputs []string
	for _, tc := range whatwgurl.Tricky {
		if utf8.ValidString(tc.In) { // a page's strings are Unicode
			inputs = append(inputs, tc.In)
		}
	}
	type reading struct {
		OK       bool   `json:"ok"`
		Href     string `json:"href"`
		Origin   string `json:"origin"`
		Pathname string `json:"pathname"`
		Search   string `json:"search"`
		Page     string `json:"page"`
	}
	var got []reading
	b.step("read the addresses", func(ctx context.Context) error {
		var err error
		got, err = eval[[]reading](ctx, fmt.Sprintf(`%s.map(s => {
  try { const u = new URL(s, location.href); return {ok: true, href: u.href, origin: u.origin, pathname: u.pathname, search: u.search, page: location.href}; }
  catch (e) { return {ok: false, page: location.href}; }
})`, jsArgs(inputs)))
		return err
	})
	if len(got) != len(inputs) {
		t.Fatalf("%d readings of %d addresses", len(got), len(inputs))
	}
	page, err := whatwgurl.Parse(got[0].Page, nil)
	if err != nil {
		t.Fatal(err)
	}
	origin := strings.TrimSuffix(b.base, "/")
	for i, in := range inputs {
		c := got[i]
		std, err := whatwgurl.Parse(in, page)
		if (err == nil) != c.OK {
			t.Errorf("%q: the standard's parser says %v, Chromium ok=%v", in, err, c.OK)
			continue
		}
		if !c.OK {
			continue
		}
		chromiumHere := c.Origin == origin
		if std.SameOrigin(page) != chromiumHere {
			t.Errorf("%q: the standard's parser reads %q, Chromium %q", in, std.Href(), c.Href)
			continue
		}
		if chromiumHere {
			stdPath := std.PathString()
			if std.Query != nil && *std.Query != "" {
				stdPath += "?" + *std.Query
			}
			if stdPath != c.Pathname+c.Search {
				t.Errorf("%q: the standard's parser reads %q, Chromium %q", in, std.Href(), c.Href)
			}
		}
		if p, ok := localurl.Path(in); ok {
			if !chromiumHere || strings.TrimSuffix(p, "?") != c.Pathname+c.Search {
				t.Errorf("%q: localurl.Path says %q, Chromium goes to %q", in, p, c.Href)
			}
		}
	}
}

// TestReturnWithTabStaysOnSite: the open redirect the adversarial run
// found. A link to the waiting page whose return path hides "//host"
// behind a tab (which browsers drop) admits the person and leaves them on
// this site; a return path with a tab inside a path of the site leads to
// that page. The tab fails the test if the browser ever asks another host
// for anything.
func TestReturnWithTabStaysOnSite(t *testing.T) {
	a := startDemo(t)
	for _, tc := range []struct{ ret, want string }{
		{"/%09/evil.example", ""},
		{"/%09%5Cevil.example", ""},
		{"/demo/%09protected", "/demo/protected"},
	} {
		b := newTab(t, a, "person "+tc.ret)
		b.open("/wait/demo?return=" + tc.ret)
		if tc.want == "" {
			b.see("#wait", "차례가 되었습니다")
		} else {
			b.see("h1", "Protected page")
		}
		b.step("check where the browser is", func(ctx context.Context) error {
			return retry(ctx, func() error {
				loc, err := eval[string](ctx, `location.href`)
				if err != nil {
					return err
				}
				u, err := url.Parse(loc)
				if err != nil || "http://"+u.Host != b.base {
					return fmt.Errorf("the browser is at %q, not on %s", loc, b.base)
				}
				if tc.want != "" && u.Path != tc.want {
					return errors.New("at " + loc + ", want " + tc.want)
				}
				return nil
			})
		})
	}
}
