package ui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Content lines are folded at 75 octets, never inside a character, and
// text values escaped (RFC 5545, 3.1 and 3.3.11).
func TestCalendarLines(t *testing.T) {
	long := strings.Repeat("접종기관 ", 40)
	for _, tc := range []struct{ name, value, want string }{
		{"plain", "Seoul", "LOCATION:Seoul\r\n"},
		{"escaped", `a,b;c\d` + "\nnext", `LOCATION:a\,b\;c\\d\nnext` + "\r\n"},
		{"long", long, ""},
	} {
		var w icsWriter
		w.text("LOCATION", tc.value)
		got := w.b.String()
		if tc.want != "" && got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 75 || !utf8.ValidString(l) || i > 0 && !strings.HasPrefix(l, " ") {
				t.Errorf("%s: line %d %q (%d octets)", tc.name, i, l, len(l))
			}
		}
		unfolded := strings.ReplaceAll(strings.TrimSuffix(got, "\r\n"), "\r\n ", "")
		if tc.name == "long" && unfolded != "LOCATION:"+long {
			t.Errorf("%s: unfolds to %q", tc.name, unfolded)
		}
	}
}
