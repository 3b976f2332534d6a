// Package keyspec reads the one format every Sluice key list is written
// in (SLUICE_SIGNING_KEYS, SLUICE_SESSION_KEYS and their _FILE forms):
// "id:secret[,id:secret...]", commas or newlines between keys, each secret
// base64 (standard or URL alphabet, padding optional) or hex. What the keys
// are for, and which ids and lengths are valid, is the caller's business.
package keyspec

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Key is one "id:secret" of a list, the secret decoded.
type Key struct {
	ID     string
	Secret []byte
}

// Parse reads a key list in order (the first key is the one that signs or
// seals). Errors never quote a secret: a part without ':' may be a bare
// secret, so none of it is shown.
func Parse(spec string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, enc, ok := strings.Cut(part, ":")
		if !ok {
			return nil, errors.New("a key is not written id:secret")
		}
		id = strings.TrimSpace(id)
		secret, err := DecodeSecret(enc)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys given")
	}
	return keys, nil
}

// DecodeSecret reads one secret, hex or base64.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	// Anything that is valid hex is hex, whatever its length: read as
	// base64 instead, a too-short hex secret (48 hex digits, 192 bits) would
	// decode to 36 bytes and pass a 32-byte minimum.
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(strings.TrimRight(s, "=")); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("secret is neither base64 nor hex")
}

// Index prepares every key with prepare, in order (prepare checks the key
// and derives what it is used as), and indexes the results by id: the
// first key's is current (it signs or seals), all are found by id (they
// verify or open), so keys rotate without invalidating what is in flight.
// An id listed twice is an error.
func Index[E any](keys []Key, prepare func(i int, k Key) (E, error)) (current E, byID map[string]E, err error) {
	byID = make(map[string]E, len(keys))
	for i, k := range keys {
		e, err := prepare(i, k)
		if err != nil {
			return current, nil, err
		}
		if _, dup := byID[k.ID]; dup {
			return current, nil, fmt.Errorf("key %q listed twice", k.ID)
		}
		byID[k.ID] = e
		if i == 0 {
			current = e
		}
	}
	return current, byID, nil
}
