package whatwgurl

import "testing"

// Cases from the standard's own test data (web-platform-tests
// url/resources/urltestdata.json) that exercise the steps the package's
// users depend on: clean-up of the input, backslashes, dot segments,
// authorities, percent-encoding.
func TestStandardVectors(t *testing.T) {
	for _, tc := range []struct{ in, base, want string }{
		{"\t   :foo.com   \n", "http://example.org/foo/bar", "http://example.org/foo/:foo.com"},
		{" foo.com  ", "http://example.org/foo/bar", "http://example.org/foo/foo.com"},
		{"a:\t foo.com", "http://example.org/foo/bar", "a: foo.com"},
		{"http://f:21/ b ? d # e ", "http://example.org/foo/bar", "http://f:21/%20b%20?%20d%20#%20e"},
		{"http://f:/c", "http://example.org/foo/bar", "http://f/c"},
		{"http://f:00000000000000080/c", "http://example.org/foo/bar", "http://f/c"},
		{"", "http://example.org/foo/bar", "http://example.org/foo/bar"},
		{"  \t", "http://example.org/foo/bar", "http://example.org/foo/bar"},
		{":foo.com/", "http://example.org/foo/bar", "http://example.org/foo/:foo.com/"},
		{":", "http://example.org/foo/bar", "http://example.org/foo/:"},
		{":#", "http://example.org/foo/bar", "http://example.org/foo/:#"},
		{"#", "http://example.org/foo/bar", "http://example.org/foo/bar#"},
		{"?", "http://example.org/foo/bar", "http://example.org/foo/bar?"},
		{"/some/path", "http://user@example.org/smth", "http://example.org/some/path"},
		{"\\x", "http://example.org/foo/bar", "http://example.org/x"},
		{"\\\\server\\file", "http://example.org/foo/bar", "http://server/file"},
		{"/\\server/file", "http://example.org/foo/bar", "http://server/file"},
		{"http:\\\\www.google.com\\foo", "http://example.org/foo/bar", "http://www.google.com/foo"},
		{"http:/example.com/", "http://example.org/foo/bar", "http://example.org/example.com/"},
		{"http:example.com/", "http://example.org/foo/bar", "http://example.org/foo/example.com/"},
		{"https:example.com/", "http://example.org/foo/bar", "https://example.com/"},
		{"/a/ /c", "http://example.org/foo/bar", "http://example.org/a/%20/c"},
		{"/a%2fc", "http://example.org/foo/bar", "http://example.org/a%2fc"},
		{"/a/%2f/c", "http://example.org/foo/bar", "http://example.org/a/%2f/c"},
		{"http://example.com/foo/%2e", "about:blank", "http://example.com/foo/"},
		{"http://example.com/foo/%2e2", "about:blank", "http://example.com/foo/%2e2"},
		{"http://example.com/foo/..bar", "about:blank", "http://example.com/foo/..bar"},
		{"http://example.com/foo/%2e./%2e%2e/.%2e/%2e.bar", "about:blank", "http://example.com/%2e.bar"},
		{"http://example.com////../..", "about:blank", "http://example.com//"},
		{"http://example.com/foo/bar//../..", "about:blank", "http://example.com/foo/"},
		{"http://example.com/foo/bar//..", "about:blank", "http://example.com/foo/bar/"},
		{"http://example.com/foo\t\u0091%91", "about:blank", "http://example.com/foo%C2%91%91"},
		{"http://example.com/\"quoted\"", "about:blank", "http://example.com/%22quoted%22"},
		{"http://www/foo%2Ehtml", "about:blank", "http://www/foo%2Ehtml"},
		{"http://example.com/foo?ba'r", "about:blank", "http://example.com/foo?ba%27r"},
		{"javascript:alert(1)", "http://example.org/foo/bar", "javascript:alert(1)"},
	} {
		var base *URL
		if tc.base != "about:blank" {
			b, err := Parse(tc.base, nil)
			if err != nil {
				t.Fatalf("base %q: %v", tc.base, err)
			}
			base = b
		}
		u, err := Parse(tc.in, base)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v, want %q", tc.in, tc.base, err, tc.want)
			continue
		}
		if got := u.Href(); got != tc.want {
			t.Errorf("Parse(%q, %q) = %q, want %q", tc.in, tc.base, got, tc.want)
		}
	}
	for _, in := range []string{"http://[www.google.com]/", "http://a b/", "http://ex%00ample/", "http:", "http://@/www.example.com", "http://:b@/", "http://user@/"} {
		if u, err := Parse(in, nil); err == nil {
			t.Errorf("Parse(%q) = %q, want failure", in, u.Href())
		}
	}
}
