// Package whatwgurl is a test oracle: the WHATWG URL standard's basic URL
// parser (https://url.spec.whatwg.org/#concept-basic-url-parser), written
// out state by state, for checking code that must read addresses the way
// browsers do (internal/localurl) against the standard itself, and the
// standard against a real browser (browsertest). It is deliberately a
// transcription, not a clever implementation, so that it can be compared
// with the text of the standard line by line. It shares no code with
// internal/localurl on purpose (the few lines both have, such as the dot
// segments, are written twice): an oracle that used the code it checks
// could not find a mistake in it.
//
// Simplifications, none of which can make a foreign address look local:
// hosts are percent-decoded and lower-cased but not run through IDNA or
// IPv4/IPv6 parsing (a host that IDNA would map onto this site's host is
// reported as a different host), "file:" URLs and opaque paths are parsed
// only as far as telling their scheme, and the input is taken as UTF-8.
package whatwgurl

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// URL is a parsed URL. Query and Fragment are nil when absent (a "?" with
// nothing after it is an empty, non-nil query).
type URL struct {
	Scheme   string
	Host     string // "" with HasHost false: no host
	HasHost  bool
	Port     string // "" for the scheme's default port
	Path     []string
	Opaque   string // the opaque path of non-hierarchical URLs ("javascript:...")
	IsOpaque bool
	Query    *string
	Fragment *string
}

// ErrFailure is the standard's "failure": the input is not a URL.
var ErrFailure = errors.New("whatwgurl: not a valid URL")

var specialPorts = map[string]string{"ftp": "21", "file": "", "http": "80", "https": "443", "ws": "80", "wss": "443"}

func isSpecialScheme(s string) bool { _, ok := specialPorts[s]; return ok }

// Special reports whether the URL's scheme is a special one (http, https...).
func (u *URL) Special() bool { return isSpecialScheme(u.Scheme) }

// PathString is the URL's path serialized ("/a/b", or the opaque path).
func (u *URL) PathString() string {
	if u.IsOpaque {
		return u.Opaque
	}
	var b strings.Builder
	for _, seg := range u.Path {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	return b.String()
}

// Href serializes the URL (without the "/." guard for host-less URLs,
// which this package does not produce for special schemes).
func (u *URL) Href() string {
	var b strings.Builder
	b.WriteString(u.Scheme + ":")
	if u.HasHost {
		b.WriteString("//" + u.Host)
		if u.Port != "" {
			b.WriteString(":" + u.Port)
		}
	}
	b.WriteString(u.PathString())
	if u.Query != nil {
		b.WriteString("?" + *u.Query)
	}
	if u.Fragment != nil {
		b.WriteString("#" + *u.Fragment)
	}
	return b.String()
}

// SameOrigin reports whether u and v have the same scheme, host and port.
func (u *URL) SameOrigin(v *URL) bool {
	return u.Scheme == v.Scheme && u.HasHost == v.HasHost && u.Host == v.Host && u.Port == v.Port
}

type state int

const (
	schemeStart state = iota
	scheme
	noScheme
	specialRelativeOrAuthority
	pathOrAuthority
	relative
	relativeSlash
	specialAuthoritySlashes
	specialAuthorityIgnoreSlashes
	authority
	host
	port
	pathStart
	path
	opaquePath
	query
	fragment
	file
)

const eof = -1

// Parse parses input against base (nil: no base), as a browser resolves an
// address on a page whose address is base.
func Parse(input string, base *URL) (*URL, error) {
	if !utf8.ValidString(input) {
		return nil, ErrFailure
	}
	input = strings.TrimFunc(input, func(r rune) bool { return r <= 0x20 })
	input = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, input)
	in := []rune(input)
	u := &URL{}
	st := schemeStart
	var buf []rune
	atSignSeen, insideBrackets := false, false
	at := func(i int) rune {
		if i < 0 || i >= len(in) {
			return eof
		}
		return in[i]
	}
	remainingStartsWith := func(p int, s string) bool { return strings.HasPrefix(string(in[min(p+1, len(in)):]), s) }
	for p := 0; ; p++ {
		c := at(p)
		switch st {
		case schemeStart:
			if isAlpha(c) {
				buf = append(buf, toLower(c))
				st = scheme
			} else {
				st = noScheme
				p--
			}
		case scheme:
			switch {
			case isAlnum(c) || c == '+' || c == '-' || c == '.':
				buf = append(buf, toLower(c))
			case c == ':':
				u.Scheme = string(buf)
				buf = nil
				switch {
				case u.Scheme == "file":
					st = file
				case u.Special() && base != nil && base.Scheme == u.Scheme:
					st = specialRelativeOrAuthority
				case u.Special():
					st = specialAuthoritySlashes
				case remainingStartsWith(p, "/"):
					st = pathOrAuthority
					p++
				default:
					u.IsOpaque = true
					st = opaquePath
				}
			default:
				buf = nil
				st = noScheme
				p = -1
			}
		case noScheme:
			if base == nil || base.IsOpaque && c != '#' {
				return nil, ErrFailure
			}
			if base.IsOpaque && c == '#' {
				u.Scheme, u.IsOpaque, u.Opaque = base.Scheme, true, base.Opaque
				u.Query = cloneStr(base.Query)
				u.Fragment = new(string)
				st = fragment
			} else if base.Scheme != "file" {
				st = relative
				p--
			} else {
				st = file
				p--
			}
		case specialRelativeOrAuthority:
			if c == '/' && remainingStartsWith(p, "/") {
				st = specialAuthorityIgnoreSlashes
				p++
			} else {
				st = relative
				p--
			}
		case pathOrAuthority:
			if c == '/' {
				st = authority
			} else {
				st = path
				p--
			}
		case relative:
			u.Scheme = base.Scheme
			if c == '/' || u.Special() && c == '\\' {
				st = relativeSlash
				break
			}
			u.Host, u.HasHost, u.Port = base.Host, base.HasHost, base.Port
			u.Path = append([]string(nil), base.Path...)
			u.Query = cloneStr(base.Query)
			if u.startQueryOrFragment(c, &st) || c == eof {
				break
			}
			u.Query = nil
			u.shorten()
			st = path
			p--
		case relativeSlash:
			if u.Special() && (c == '/' || c == '\\') {
				st = specialAuthorityIgnoreSlashes
			} else if c == '/' {
				st = authority
			} else {
				u.Host, u.HasHost, u.Port = base.Host, base.HasHost, base.Port
				st = path
				p--
			}
		case specialAuthoritySlashes:
			if c == '/' && remainingStartsWith(p, "/") {
				p++
			} else {
				p--
			}
			st = specialAuthorityIgnoreSlashes
		case specialAuthorityIgnoreSlashes:
			if c != '/' && c != '\\' {
				st = authority
				p--
			}
		case authority:
			switch {
			case c == '@':
				// Userinfo is not kept: only where the address leads matters here.
				atSignSeen = true
				buf = nil
			case c == eof || c == '/' || c == '?' || c == '#' || u.Special() && c == '\\':
				if atSignSeen && len(buf) == 0 {
					return nil, ErrFailure
				}
				p -= len(buf) + 1
				buf = nil
				st = host
			default:
				buf = append(buf, c)
			}
		case host:
			switch {
			case c == ':' && !insideBrackets:
				if len(buf) == 0 {
					return nil, ErrFailure
				}
				if err := u.setHost(string(buf)); err != nil {
					return nil, err
				}
				buf = nil
				st = port
			case c == eof || c == '/' || c == '?' || c == '#' || u.Special() && c == '\\':
				p--
				if u.Special() && len(buf) == 0 {
					return nil, ErrFailure
				}
				if err := u.setHost(string(buf)); err != nil {
					return nil, err
				}
				buf = nil
				st = pathStart
			default:
				if c == '[' {
					insideBrackets = true
				}
				if c == ']' {
					insideBrackets = false
				}
				buf = append(buf, c)
			}
		case port:
			switch {
			case c >= '0' && c <= '9':
				buf = append(buf, c)
			case c == eof || c == '/' || c == '?' || c == '#' || u.Special() && c == '\\':
				if len(buf) > 0 {
					n := 0
					for _, d := range buf {
						n = n*10 + int(d-'0')
						if n > 65535 {
							return nil, ErrFailure
						}
					}
					u.Port = itoa(n)
					if specialPorts[u.Scheme] == u.Port {
						u.Port = ""
					}
					buf = nil
				}
				st = pathStart
				p--
			default:
				return nil, ErrFailure
			}
		case pathStart:
			switch {
			case u.Special():
				st = path
				if c != '/' && c != '\\' {
					p--
				}
			case u.startQueryOrFragment(c, &st):
			case c != eof:
				st = path
				if c != '/' {
					p--
				}
			}
		case path:
			if c == eof || c == '/' || u.Special() && c == '\\' || c == '?' || c == '#' {
				seg := string(buf)
				slash := c == '/' || u.Special() && c == '\\'
				switch {
				case isDoubleDot(seg):
					u.shorten()
					if !slash {
						u.Path = append(u.Path, "")
					}
				case isSingleDot(seg):
					if !slash {
						u.Path = append(u.Path, "")
					}
				default:
					u.Path = append(u.Path, seg)
				}
				buf = nil
				u.startQueryOrFragment(c, &st)
			} else {
				buf = append(buf, []rune(percentEncode(c, pathSet))...)
			}
		case opaquePath:
			if !u.startQueryOrFragment(c, &st) && c != eof {
				u.Opaque += percentEncode(c, "")
			}
		case query:
			if c == '#' || c == eof {
				set := querySet
				if u.Special() {
					set += "'"
				}
				var b strings.Builder
				for _, r := range buf {
					b.WriteString(percentEncode(r, set))
				}
				*u.Query += b.String()
				buf = nil
				u.startQueryOrFragment(c, &st) // c is '#' or the end
			} else {
				buf = append(buf, c)
			}
		case fragment:
			if c != eof {
				*u.Fragment += percentEncode(c, fragmentSet)
			}
		case file:
			// Only the scheme matters to this package's users.
			u.Scheme = "file"
			u.HasHost = true
			u.IsOpaque, u.Opaque = true, string(in[max(p, 0):])
			return u, nil
		}
		// The standard: stop once a step has run with the pointer on the
		// end of the input (a step that moved the pointer back goes on).
		if p >= len(in) {
			break
		}
	}
	return u, nil
}

// setHost is the host state's step at the end of the host: s, host-parsed,
// is the URL's host.
func (u *URL) setHost(s string) error {
	h, err := parseHost(s, u.Special())
	if err != nil {
		return err
	}
	u.Host, u.HasHost = h, true
	return nil
}

// startQueryOrFragment is the standard's step, in several states, on a
// '?' (the query starts, empty) or a '#' (the fragment starts, empty); it
// reports whether c was one of them.
func (u *URL) startQueryOrFragment(c rune, st *state) bool {
	switch c {
	case '?':
		u.Query = new(string)
		*st = query
	case '#':
		u.Fragment = new(string)
		*st = fragment
	default:
		return false
	}
	return true
}

func (u *URL) shorten() {
	if len(u.Path) > 0 {
		u.Path = u.Path[:len(u.Path)-1]
	}
}

func cloneStr(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}

// Percent-encode sets (beyond the C0 control set: controls and anything
// above '~', always encoded).
const (
	fragmentSet = " \"<>`"
	querySet    = " \"#<>"
	// The standard's path set has '^' since 2024; Chromium also encodes
	// '|' in paths, and browsers are what this package stands in for.
	pathSet = querySet + "?^`{|}"
)

func percentEncode(c rune, set string) string {
	if c >= 0x20 && c <= 0x7e && !strings.ContainsRune(set, c) {
		return string(c)
	}
	var b [4]byte
	n := utf8.EncodeRune(b[:], c)
	const hex = "0123456789ABCDEF"
	var out strings.Builder
	for _, x := range b[:n] {
		out.WriteByte('%')
		out.WriteByte(hex[x>>4])
		out.WriteByte(hex[x&15])
	}
	return out.String()
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// forbiddenHost are the standard's forbidden host code points; a domain
// may not contain these, nor the forbidden domain code points (C0
// controls, '%', DEL).
const forbiddenHost = "\x00\t\n\r #/:<>?@[\\]^|"

// parseHost is the host parser without IDNA and IP address parsing.
func parseHost(s string, special bool) (string, error) {
	if strings.HasPrefix(s, "[") {
		// An IPv6 address: only its characters are checked.
		if !strings.HasSuffix(s, "]") || strings.Trim(s[1:len(s)-1], "0123456789abcdefABCDEF:.") != "" {
			return "", ErrFailure
		}
		return strings.ToLower(s), nil
	}
	if !special {
		for _, r := range s {
			if r != '%' && strings.ContainsRune(forbiddenHost, r) {
				return "", ErrFailure
			}
		}
		return s, nil
	}
	d := percentDecode(s)
	if !utf8.ValidString(d) || d == "" {
		return "", ErrFailure
	}
	for _, r := range d {
		if r < 0x20 || r == '%' || r == 0x7f || strings.ContainsRune(forbiddenHost, r) {
			return "", ErrFailure
		}
	}
	return strings.ToLower(d), nil
}

func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func isAlpha(c rune) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c rune) bool { return isAlpha(c) || '0' <= c && c <= '9' }
func toLower(c rune) rune {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
