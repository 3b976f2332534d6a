// Package seal encrypts small records at rest with AES-256-GCM (standard
// library only), under keys that carry ids so that they can be rotated:
// the first key of a Sealer seals, every key opens what it sealed. The
// booking service keeps what several nodes share about a person in the
// middle of a journey (identity challenges, booking sessions, look-ups) in
// its store sealed this way, so that the database holds no name, phone
// number or birth date of theirs in clear.
//
// A sealed record is
//
//	version (1 byte, 1) | key id length (1 byte) | key id | nonce (12) | ciphertext | tag (16)
//
// and is bound to a context given by the caller (the kind of record and
// the row it lives in, say), authenticated but not stored: a record copied
// into another row does not open there.
//
// Each key's AES key is derived from its secret with HKDF-SHA256, so a
// secret is any random string of at least MinSecretLen bytes. Nonces are
// random (96 bits), so one key must seal fewer than 2^32 records: at four
// records a journey that is a billion journeys; rotate long before.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/keyspec"
)

// MinSecretLen is the shortest secret a key may have (256 bits).
const MinSecretLen = 32

// maxKeyID bounds a key id (it is written into every record).
const maxKeyID = 32

const version = 1

// Errors of Open. Neither says anything about the plaintext.
var (
	// ErrUnknownKey: the record was sealed with a key this Sealer does not
	// hold (removed too early, or another deployment's).
	ErrUnknownKey = errors.New("sealed with an unknown key")
	// ErrCorrupt: the record is not one this package wrote, was changed,
	// or belongs to another context.
	ErrCorrupt = errors.New("sealed record does not open")
)

// Key is one key: an id, written into the records it seals, and a secret.
type Key = keyspec.Key

// Sealer seals with its current key and opens with any of its keys. It is
// safe for concurrent use.
type Sealer struct {
	current *key
	byID    map[string]*key
}

type key struct {
	id     string
	header []byte // version | id length | id
	aead   cipher.AEAD
}

// New returns a Sealer that seals with current and opens with current and
// every one of older.
func New(current Key, older ...Key) (*Sealer, error) {
	cur, byID, err := keyspec.Index(append([]Key{current}, older...), func(i int, k Key) (*key, error) {
		if !validID(k.ID) {
			return nil, fmt.Errorf("key %d: id must be 1-%d characters of A-Z a-z 0-9 . _ -", i+1, maxKeyID)
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("key %q: secret must be at least %d bytes", k.ID, MinSecretLen)
		}
		aesKey, err := hkdf.Key(sha256.New, k.Secret, nil, "sluice seal v1 "+k.ID, 32)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		block, err := aes.NewCipher(aesKey)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		return &key{id: k.ID, header: append([]byte{version, byte(len(k.ID))}, k.ID...), aead: aead}, nil
	})
	if err != nil {
		return nil, err
	}
	return &Sealer{current: cur, byID: byID}, nil
}

// Parse reads "id:secret[,id:secret...]" (newlines separate keys too),
// each secret base64 (standard or URL alphabet, padding optional) or hex:
// the format of SLUICE_SIGNING_KEYS. The first key seals.
func Parse(spec string) (*Sealer, error) {
	keys, err := keyspec.Parse(spec)
	if err != nil {
		return nil, err
	}
	return New(keys[0], keys[1:]...)
}

// Generate returns a Sealer with one fresh random key (the demo; tests).
func Generate(id string) *Sealer {
	s, err := New(Key{ID: id, Secret: RandomSecret()})
	if err != nil {
		panic(err) // a caller's id that is not valid
	}
	return s
}

// RandomSecret returns a fresh random secret of MinSecretLen bytes.
func RandomSecret() []byte {
	b := make([]byte, MinSecretLen)
	rand.Read(b)
	return b
}

// FormatKey writes a key as Parse reads it (secret in base64url).
func FormatKey(k Key) string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// CurrentID is the id of the key that seals.
func (s *Sealer) CurrentID() string { return s.current.id }

// Overhead is how much longer a sealed record is than its plaintext.
func (s *Sealer) Overhead() int { return len(s.current.header) + s.current.aead.Overhead() }

// Seal appends to dst the record of plaintext, bound to context, sealed
// with the current key.
func (s *Sealer) Seal(dst, plaintext, context []byte) []byte {
	k := s.current
	dst = append(dst, k.header...)
	return k.aead.Seal(dst, nil, plaintext, aad(k.header, context))
}

// Open appends to dst the plaintext of a record sealed by Seal with the
// same context and one of the Sealer's keys.
func (s *Sealer) Open(dst, sealed, context []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return nil, ErrCorrupt
	}
	n := int(sealed[1])
	if len(sealed) < 2+n {
		return nil, ErrCorrupt
	}
	k, ok := s.byID[string(sealed[2:2+n])]
	if !ok {
		return nil, fmt.Errorf("%w (%q)", ErrUnknownKey, keyIDForMessage(sealed[2:2+n]))
	}
	out, err := k.aead.Open(dst, nil, sealed[2+n:], aad(k.header, context))
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// aad authenticates the header and the caller's context.
func aad(header, context []byte) []byte {
	b := make([]byte, 0, len(header)+1+len(context))
	b = append(b, header...)
	b = append(b, 0)
	return append(b, context...)
}

func validID(id string) bool {
	if id == "" || len(id) > maxKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// keyIDForMessage is a key id read from a record, safe to put in a message.
func keyIDForMessage(b []byte) string {
	if !validID(string(b)) {
		return "?"
	}
	return string(b)
}

// decodeSecret reads hex (anything that is valid hex is hex, whatever its
// length, so that a short hex secret cannot pass as longer base64), else
// base64 in either alphabet.
