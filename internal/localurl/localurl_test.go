package localurl

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/whatwgurl"
)

func TestPath(t *testing.T) {
	for _, tc := range whatwgurl.Tricky {
		got, ok := Path(tc.In)
		if got != tc.Want || ok != (tc.Want != "") {
			t.Errorf("Path(%q) = %q, %v; want %q", tc.In, got, ok, tc.Want)
		}
	}
}

// base is the page the addresses are read on (the waiting page).
var base = func() *whatwgurl.URL {
	u, err := whatwgurl.Parse("https://sluice.test/wait/room?return=x", nil)
	if err != nil {
		panic(err)
	}
	return u
}()

// checkAgainstStandard checks Path(s) against the standard's reading of s
// on a page of this site: whatever Path accepts leads to this site, to the
// path and query Path says; the result reads the same again, is plain
// ASCII without controls, and stays on the site once Go's http.Redirect has
// written it into a Location header.
func checkAgainstStandard(t *testing.T, s string) {
	p, ok := Path(s)
	if !ok {
		if p != "" {
			t.Fatalf("Path(%q) refused but returned %q", s, p)
		}
		return
	}
	u, err := whatwgurl.Parse(s, base)
	if err != nil {
		t.Fatalf("Path(%q) = %q, but it is no URL to a browser: %v", s, p, err)
	}
	if !u.SameOrigin(base) {
		t.Fatalf("Path(%q) = %q, but a browser goes to %q", s, p, u.Href())
	}
	want := u.PathString()
	if u.Query != nil {
		want += "?" + *u.Query
	}
	if p != want {
		t.Fatalf("Path(%q) = %q, a browser goes to %q", s, p, want)
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			t.Fatalf("Path(%q) = %q holds %q", s, p, p[i])
		}
	}
	if path, _, _ := strings.Cut(p, "?"); strings.Contains(path, "\\") {
		t.Fatalf("Path(%q) = %q has a backslash in its path", s, p)
	}
	if again, ok := Path(p); !ok || again != p {
		t.Fatalf("Path(%q) = %q, but Path(%q) = %q, %v", s, p, p, again, ok)
	}
	w := httptest.NewRecorder()
	http.Redirect(w, httptest.NewRequest("GET", "/wait/room", nil), p, http.StatusSeeOther)
	loc := w.Header().Get("Location")
	lu, err := whatwgurl.Parse(loc, base)
	if err != nil || !lu.SameOrigin(base) || strings.HasPrefix(lu.PathString(), "//") {
		t.Fatalf("Path(%q) = %q, written as Location %q, leads a browser to %v (%v)", s, p, loc, lu, err)
	}
}

func TestPathAgainstStandard(t *testing.T) {
	for _, tc := range whatwgurl.Tricky {
		checkAgainstStandard(t, tc.In)
	}
}

// FuzzPath checks Path against the standard's reading of any string.
func FuzzPath(f *testing.F) {
	for _, tc := range whatwgurl.Tricky {
		f.Add(tc.In)
	}
	for _, s := range []string{"/a/%2e%2e%2f/b", "/\x0c/x", "/ \t/x", "\\.\\\\x", "/a?/b#c?d", "/%2E%2E/%2e./x", "/\u00a0/x", "/\ufeff/x"} {
		f.Add(s)
	}
	f.Fuzz(checkAgainstStandard)
}
