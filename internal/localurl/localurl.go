// Package localurl decides whether an address given by someone else (a
// return path in a query string, a configured waiting-page address) leads
// a browser to a page of this site, reading it the way browsers read
// addresses (the WHATWG URL standard), not the way Go's net/url does.
//
// The two disagree on exactly the strings that make open redirects: a
// browser removes tabs and newlines anywhere in an address, strips control
// characters and spaces at its ends, and reads a backslash as a slash in
// http(s) addresses, so "/\t/evil.example", "/\\evil.example" and
// " //evil.example" all lead to evil.example. Path resolves the address as
// a browser on a page of this site would and returns the result in a form
// that has none of those characters, so what the server writes into a
// Location header or a link goes where the check said it goes.
package localurl

import (
	"strings"
	"unicode/utf8"
)

// Path returns the path and query (never a fragment) of the page of this
// site that a browser on one of its pages reaches when it follows s, as a
// link or a Location header. ok is false when s may lead anywhere else: an
// address with a scheme ("https:", "javascript:"), with an authority
// ("//host", "/\host", "\\host", after the browser's own clean-up), a
// relative path (its meaning depends on the page it is read on), an empty
// one, one that is not UTF-8, and one whose path resolves to start with
// "//" ("/.//evil.example"): written to a Location header, that would name
// a host.
//
// The result is canonical: dot segments resolved, backslashes as slashes,
// and every character a browser would percent-encode (controls, spaces,
// quotes, <, >, non-ASCII...) percent-encoded, so it is plain printable
// ASCII. Path(p) returns p again for any p it returned.
func Path(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	// The URL parser's clean-up: C0 controls and spaces at both ends, then
	// every ASCII tab and newline wherever it is.
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	// Only a path-absolute address ("/x", "\x") stays on this site for
	// sure; a second slash or backslash starts an authority (a host).
	if s == "" || !isSlash(s[0]) || len(s) > 1 && isSlash(s[1]) {
		return "", false
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	path, query, hasQuery := strings.Cut(s, "?")
	segments := splitSlashes(path[1:])
	out := make([]string, 0, len(segments))
	for i, seg := range segments {
		last := i == len(segments)-1
		switch {
		case isDoubleDot(seg):
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case isSingleDot(seg):
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, encode(seg, pathSet))
		}
	}
	p := "/" + strings.Join(out, "/")
	if strings.HasPrefix(p, "//") {
		return "", false
	}
	if hasQuery {
		p += "?" + encode(query, querySet)
	}
	return p, true
}

func isSlash(c byte) bool { return c == '/' || c == '\\' }

// splitSlashes splits a path at every '/' and '\' (a special URL's path
// separators), keeping empty segments.
func splitSlashes(p string) []string {
	var out []string
	for {
		i := strings.IndexAny(p, `/\`)
		if i < 0 {
			return append(out, p)
		}
		out = append(out, p[:i])
		p = p[i+1:]
	}
}

// isSingleDot and isDoubleDot are the standard's dot segments: "." and
// "..", with any dot written as "%2e" or "%2E".
func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// Percent-encode sets of the standard (beyond C0 controls, DEL and
// non-ASCII, which are always encoded): the path set (with '|', which
// Chromium encodes in paths too) and the query set of special (http,
// https) URLs.
const (
	pathSet  = " \"#<>?^`{|}"
	querySet = " \"#<>'"
)

// encode percent-encodes, as UTF-8, every byte of s that is a control, DEL,
// non-ASCII, or in set. A '%' is left as it is, as browsers leave it.
func encode(s, set string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	encoded := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || strings.IndexByte(set, c) >= 0 {
			if !encoded {
				encoded = true
				b.Grow(len(s) + 8)
				b.WriteString(s[:i])
			}
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else if encoded {
			b.WriteByte(c)
		}
	}
	if !encoded {
		return s
	}
	return b.String()
}
