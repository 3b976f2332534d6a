// Package randid makes the random identifiers and tokens Sluice hands out
// (challenge ids, look-up, clinic and form tokens, secrets made up for a
// demo or a test server): n bytes from crypto/rand, written as unpadded
// base64url, so safe in a URL, a cookie or a header.
package randid

import (
	"crypto/rand"
	"encoding/base64"
)

// New returns n random bytes as unpadded base64url.
func New(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand: it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
