package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/keyspec"
)

// Token layout (before base64url, no padding):
//
//	version(1) kind(1) len(kid)(1) kid  len(room)(1) room  body...  mac(16)
//
// Ticket body: phase(1) seq(uvarint) issued(varint, unix seconds)
// Pass body:   position(uvarint) issued(varint) expires(varint)
//
// The MAC is HMAC-SHA256 over everything before it, truncated to 128 bits,
// keyed by the key named by kid. Tokens are compact (about 60-80 characters),
// URL-safe and carry everything the server needs, so no per-ticket state is
// kept anywhere.
const (
	tokenVersion = 1
	kindTicket   = 'T'
	kindPass     = 'P'
	macLen       = 16

	// MaxTokenLen bounds what we even try to decode: a real token is under
	// 200 characters, anything far longer is garbage or an attack.
	MaxTokenLen = 512
	maxKeyID    = 16
	// MaxRoomName bounds room names (they travel inside every token).
	MaxRoomName = 64
)

// tokenEncoding decodes tokens strictly (trailing bits must be zero).
var tokenEncoding = base64.RawURLEncoding.Strict()

// Phase says whether a ticket joined before the room opened (and takes part
// in the lottery) or after (first come, first served).
type Phase uint8

const (
	PhasePrequeue Phase = 0
	PhaseOpen     Phase = 1
)

// Ticket is a decoded, verified ticket.
type Ticket struct {
	Room   string
	Phase  Phase
	Seq    uint64 // join sequence within the phase, from 0
	Issued time.Time
}

// Pass is a decoded, verified admission pass.
type Pass struct {
	Room     string
	Position uint64 // the admitted ticket's place in line (binds pass to ticket)
	Issued   time.Time
	Expires  time.Time
}

// Key is one signing key: an id and a secret.
type Key = keyspec.Key

// Keyring holds the current signing key and older keys that still verify,
// so keys can be rotated without invalidating tickets in flight.
type Keyring struct {
	current *keyEntry
	byID    map[string]*keyEntry
}

type keyEntry struct {
	id     string
	secret []byte
	pool   sync.Pool // of *macState; hmac.New allocates, the hot path must not
}

// macState is a keyed HMAC with scratch space. Buffers handed to a
// hash.Hash escape to the heap, so the hot paths borrow them with the HMAC
// from a pool rather than allocate them per token.
type macState struct {
	h       hash.Hash
	payload [144]byte // a token being issued: at most 131 bytes with its MAC
	text    [192]byte // its base64url text (4/3 of the payload, rounded up)
	sum     [sha256.Size]byte
}

func (k *keyEntry) mac() *macState {
	if m, ok := k.pool.Get().(*macState); ok {
		m.h.Reset()
		return m
	}
	return &macState{h: hmac.New(sha256.New, k.secret)}
}

// maxDecodedLen is the most bytes a token of MaxTokenLen characters
// decodes to: tokens are verified in a buffer of this size on the stack.
const maxDecodedLen = MaxTokenLen * 6 / 8

// MinSecretLen is the shortest signing secret accepted (256 bits).
const MinSecretLen = 32

// NewKeyring builds a keyring that signs with current and verifies with
// current and all of older.
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	cur, byID, err := keyspec.Index(append([]Key{current}, older...), func(i int, k Key) (*keyEntry, error) {
		if k.ID == "" || len(k.ID) > maxKeyID || strings.ContainsAny(k.ID, ":, \t\n") {
			return nil, fmt.Errorf("key %d: id must be 1-%d characters without ':', ',' or spaces", i+1, maxKeyID)
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("key %q: secret must be at least %d bytes", k.ID, MinSecretLen)
		}
		return &keyEntry{id: k.ID, secret: append([]byte(nil), k.Secret...)}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing %w", err) // "signing key …"
	}
	return &Keyring{current: cur, byID: byID}, nil
}

// ParseKeys parses a key list as internal/keyspec reads it ("id:secret,
// id:secret", each secret base64 or hex). The first key signs; all verify.
func ParseKeys(spec string) (*Keyring, error) {
	keys, err := keyspec.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return NewKeyring(keys[0], keys[1:]...)
}

// LoadKeys reads keys from the environment: SLUICE_SIGNING_KEYS or the file
// named by SLUICE_SIGNING_KEYS_FILE. It returns (nil, nil) when neither is set.
func LoadKeys(getenv func(string) string) (*Keyring, error) {
	if spec := getenv("SLUICE_SIGNING_KEYS"); spec != "" {
		return ParseKeys(spec)
	}
	if path := getenv("SLUICE_SIGNING_KEYS_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading signing keys: %w", err)
		}
		return ParseKeys(string(b))
	}
	return nil, nil
}

// GenerateKeyring makes a keyring with one fresh random key (demo, tests).
func GenerateKeyring(id string) *Keyring {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	kr, err := NewKeyring(Key{ID: id, Secret: secret})
	if err != nil {
		panic(err)
	}
	return kr
}

// CurrentKeyID names the key that signs new tokens.
func (kr *Keyring) CurrentKeyID() string { return kr.current.id }

// deriveSecretWith derives a sub-key from the named key; false if the
// keyring does not hold it.
func (kr *Keyring) deriveSecretWith(id, purpose string) ([]byte, bool) {
	k, ok := kr.byID[id]
	if !ok {
		return nil, false
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("sluice/" + purpose))
	return m.Sum(nil), true
}

func appendHeader(b []byte, kind byte, kid, room string) []byte {
	b = append(b, tokenVersion, kind, byte(len(kid)))
	b = append(b, kid...)
	b = append(b, byte(len(room)))
	return append(b, room...)
}

// seal signs payload, which was built in m.payload, and returns the token.
func (kr *Keyring) seal(m *macState, payload []byte) string {
	payload = signed(m, payload)
	var tok string
	if n := base64.RawURLEncoding.EncodedLen(len(payload)); n <= len(m.text) {
		base64.RawURLEncoding.Encode(m.text[:n], payload)
		tok = string(m.text[:n]) // one allocation, not EncodeToString's two
	} else {
		tok = base64.RawURLEncoding.EncodeToString(payload)
	}
	kr.current.pool.Put(m)
	return tok
}

// signed appends payload's MAC to it.
func signed(m *macState, payload []byte) []byte {
	m.h.Write(payload)
	mac := m.h.Sum(m.sum[:0])
	return append(payload, mac[:macLen]...)
}

// ticketPayload writes ticket t's payload in m.payload.
func (kr *Keyring) ticketPayload(m *macState, t Ticket) []byte {
	b := appendHeader(m.payload[:0], kindTicket, kr.current.id, t.Room)
	b = append(b, byte(t.Phase))
	b = binary.AppendUvarint(b, t.Seq)
	return binary.AppendVarint(b, t.Issued.Unix())
}

// IssueTicket signs a ticket.
func (kr *Keyring) IssueTicket(t Ticket) string {
	m := kr.current.mac()
	return kr.seal(m, kr.ticketPayload(m, t))
}

// AppendTicket appends the text of ticket t, signed, to b: IssueTicket
// without a string of its own, for an answer that writes the ticket into
// its buffer (web's join).
func (kr *Keyring) AppendTicket(b []byte, t Ticket) []byte {
	m := kr.current.mac()
	b = base64.RawURLEncoding.AppendEncode(b, signed(m, kr.ticketPayload(m, t)))
	kr.current.pool.Put(m)
	return b
}

// IssuePass signs a pass.
func (kr *Keyring) IssuePass(p Pass) string {
	m := kr.current.mac()
	b := appendHeader(m.payload[:0], kindPass, kr.current.id, p.Room)
	b = binary.AppendUvarint(b, p.Position)
	b = binary.AppendVarint(b, p.Issued.Unix())
	b = binary.AppendVarint(b, p.Expires.Unix())
	return kr.seal(m, b)
}

// open decodes and authenticates a token into buf, returning its kind, room
// and body (both slices of buf). Nothing from the token is trusted before
// the MAC has been checked, except the key id needed to choose the key.
func (kr *Keyring) open(tok string, buf []byte) (kind byte, room, body []byte, err error) {
	// One token, one spelling: the base64 decoder skips CR and LF, so they
	// are refused here, and the strict decoder refuses unused low bits set
	// in the last character.
	if len(tok) == 0 || len(tok) > MaxTokenLen || strings.IndexByte(tok, '\n') >= 0 || strings.IndexByte(tok, '\r') >= 0 {
		return 0, nil, nil, ErrMalformed
	}
	n, err := tokenEncoding.Decode(buf, []byte(tok))
	if err != nil {
		return 0, nil, nil, ErrMalformed
	}
	b := buf[:n]
	if len(b) < 4+macLen || b[0] != tokenVersion {
		return 0, nil, nil, ErrMalformed
	}
	payload, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	kind = payload[1]
	kidLen := int(payload[2])
	if kidLen == 0 || kidLen > maxKeyID || 3+kidLen+1 > len(payload) {
		return 0, nil, nil, ErrMalformed
	}
	kid := payload[3 : 3+kidLen]
	k, ok := kr.byID[string(kid)] // no allocation: the compiler optimises map[string(b)]
	if !ok {
		return 0, nil, nil, ErrUnknownKey
	}
	m := k.mac()
	// Hashed from the state's own buffer: buf, handed to the hash.Hash,
	// would have to live on the heap.
	for p := payload; len(p) > 0; {
		n := copy(m.payload[:], p)
		m.h.Write(m.payload[:n])
		p = p[n:]
	}
	ok = hmac.Equal(m.h.Sum(m.sum[:0])[:macLen], mac)
	k.pool.Put(m)
	if !ok {
		return 0, nil, nil, ErrForged
	}
	rest := payload[3+kidLen:]
	roomLen := int(rest[0])
	if roomLen == 0 || roomLen > MaxRoomName || 1+roomLen > len(rest) {
		return 0, nil, nil, ErrMalformed
	}
	return kind, rest[1 : 1+roomLen], rest[1+roomLen:], nil
}

// openAs opens a token of the given kind for room into buf and returns its
// body. The room must match exactly: a verifier configured without a room
// matches no token (the gate fails closed).
func (kr *Keyring) openAs(tok, room string, kind byte, buf []byte) ([]byte, error) {
	k, r, body, err := kr.open(tok, buf)
	if err != nil {
		return nil, err
	}
	if k != kind {
		return nil, ErrWrongKind
	}
	if string(r) != room {
		return nil, ErrWrongRoom
	}
	return body, nil
}

// fields reads a token body: varints one after the other, every byte used.
type fields struct {
	b   []byte
	bad bool
}

func (f *fields) uvarint() uint64 {
	x, n := binary.Uvarint(f.b)
	if n <= 0 {
		f.bad = true
		return 0
	}
	f.b = f.b[n:]
	return x
}

// varint is a zig-zag encoded uvarint, as binary.Varint reads it.
func (f *fields) varint() int64 {
	ux := f.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// complete reports whether every field read well and nothing is left.
func (f *fields) complete() bool { return !f.bad && len(f.b) == 0 }

// VerifyTicket checks a ticket's signature and room. Tickets do not expire:
// a place in line is kept for as long as the room exists.
func (kr *Keyring) VerifyTicket(tok, room string) (Ticket, error) {
	var buf [maxDecodedLen]byte
	body, err := kr.openAs(tok, room, kindTicket, buf[:])
	if err != nil {
		return Ticket{}, err
	}
	if len(body) < 1 || body[0] > byte(PhaseOpen) {
		return Ticket{}, ErrMalformed
	}
	f := fields{b: body[1:]}
	t := Ticket{Room: room, Phase: Phase(body[0]), Seq: f.uvarint(), Issued: time.Unix(f.varint(), 0)}
	if !f.complete() {
		return Ticket{}, ErrMalformed
	}
	return t, nil
}

// VerifyPass checks a pass's signature, room and expiry at time now.
func (kr *Keyring) VerifyPass(tok, room string, now time.Time) (Pass, error) {
	var buf [maxDecodedLen]byte
	body, err := kr.openAs(tok, room, kindPass, buf[:])
	if err != nil {
		return Pass{}, err
	}
	f := fields{b: body}
	p := Pass{Room: room, Position: f.uvarint(), Issued: time.Unix(f.varint(), 0), Expires: time.Unix(f.varint(), 0)}
	if !f.complete() {
		return Pass{}, ErrMalformed
	}
	if !now.Before(p.Expires) {
		return p, ErrExpired
	}
	return p, nil
}
