package randid

import (
	"encoding/base64"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for n := range 40 {
		s := New(n)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != n {
			t.Fatalf("New(%d) = %q: %d bytes, %v", n, s, len(b), err)
		}
		if n >= 16 && seen[s] {
			t.Fatalf("New(%d) gave %q twice", n, s)
		}
		seen[s] = true
	}
}
