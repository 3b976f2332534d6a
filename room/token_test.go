package room

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// t0 is the instant most tests start at (the July 2021 booking night).
var t0 = time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)

// testSecret returns a deterministic 32-byte secret for seed.
func testSecret(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// testKeyring builds a one-key keyring with a deterministic secret.
func testKeyring(t testing.TB, id string, seed uint64) *Keyring {
	t.Helper()
	kr, err := NewKeyring(Key{ID: id, Secret: testSecret(seed)})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// tokenKeyID decodes the key id from a token's header (test helper; the
// header is not secret).
func tokenKeyID(t testing.TB, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 4 {
		t.Fatalf("token %q does not decode", tok)
	}
	return string(b[3 : 3+int(b[2])])
}

// isRejection reports whether err is one of the token verification errors.
func isRejection(err error) bool {
	for _, e := range []error{ErrMalformed, ErrUnknownKey, ErrForged, ErrWrongKind, ErrWrongRoom, ErrExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func TestTicketRoundTrip(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	tests := []struct {
		name string
		t    Ticket
	}{
		{"prequeue first", Ticket{Room: "vaccine", Phase: PhasePrequeue, Seq: 0, Issued: t0}},
		{"open", Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 12345, Issued: t0.Add(time.Hour)}},
		{"max seq", Ticket{Room: "a", Phase: PhaseOpen, Seq: ^uint64(0), Issued: t0}},
		{"epoch", Ticket{Room: "r-1_x", Phase: PhasePrequeue, Seq: 7, Issued: time.Unix(0, 0)}},
		{"before epoch", Ticket{Room: "r", Phase: PhaseOpen, Seq: 1, Issued: time.Unix(-86400, 0)}},
		{"long room", Ticket{Room: strings.Repeat("x", MaxRoomName), Phase: PhaseOpen, Seq: 6_000_000, Issued: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := kr.IssueTicket(tc.t)
			if len(tok) > 200 {
				t.Errorf("token is %d characters, want compact (< 200)", len(tok))
			}
			if strings.ContainsAny(tok, "+/=") {
				t.Errorf("token %q is not URL-safe", tok)
			}
			got, err := kr.VerifyTicket(tok, tc.t.Room)
			if err != nil {
				t.Fatalf("VerifyTicket: %v", err)
			}
			if got.Room != tc.t.Room || got.Phase != tc.t.Phase || got.Seq != tc.t.Seq || !got.Issued.Equal(tc.t.Issued) {
				t.Errorf("got %+v, want %+v", got, tc.t)
			}
			if again := kr.IssueTicket(got); again != tok {
				t.Errorf("re-issuing the decoded ticket gives %q, want %q", again, tok)
			}
		})
	}
}

func TestPassRoundTrip(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	tests := []struct {
		name string
		p    Pass
	}{
		{"first", Pass{Room: "vaccine", Position: 1, Issued: t0, Expires: t0.Add(10 * time.Minute)}},
		{"far", Pass{Room: "vaccine", Position: 6_000_000, Issued: t0, Expires: t0.Add(24 * time.Hour)}},
		{"max", Pass{Room: "z", Position: ^uint64(0), Issued: t0, Expires: t0.Add(time.Second)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := kr.IssuePass(tc.p)
			got, err := kr.VerifyPass(tok, tc.p.Room, tc.p.Issued)
			if err != nil {
				t.Fatalf("VerifyPass: %v", err)
			}
			if got.Room != tc.p.Room || got.Position != tc.p.Position || !got.Issued.Equal(tc.p.Issued) || !got.Expires.Equal(tc.p.Expires) {
				t.Errorf("got %+v, want %+v", got, tc.p)
			}
			if again := kr.IssuePass(got); again != tok {
				t.Errorf("re-issuing the decoded pass gives %q, want %q", again, tok)
			}
		})
	}
}

// TestTokenTamperBytes flips bits in every byte of the decoded token (header,
// body and MAC) and re-encodes it: no change may verify.
func TestTokenTamperBytes(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	ticket := kr.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 41, Issued: t0})
	pass := kr.IssuePass(Pass{Room: "vaccine", Position: 41, Issued: t0, Expires: t0.Add(time.Hour)})
	verifiers := map[string]func(string) error{
		"ticket": func(s string) error { _, err := kr.VerifyTicket(s, "vaccine"); return err },
		"pass":   func(s string) error { _, err := kr.VerifyPass(s, "vaccine", t0); return err },
	}
	for name, tok := range map[string]string{"ticket": ticket, "pass": pass} {
		t.Run(name, func(t *testing.T) {
			verify := verifiers[name]
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				t.Fatal(err)
			}
			kidEnd := 3 + int(raw[2])
			for i := range raw {
				for _, mask := range []byte{0x01, 0x02, 0x10, 0x80, 0xff} {
					b := append([]byte(nil), raw...)
					b[i] ^= mask
					err := verify(base64.RawURLEncoding.EncodeToString(b))
					switch {
					case err == nil:
						t.Fatalf("byte %d ^ %#x: tampered token verified", i, mask)
					case i >= 3 && i < kidEnd:
						// A changed key id names a key we do not have.
						if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrMalformed) {
							t.Errorf("byte %d (key id) ^ %#x: got %v, want ErrUnknownKey", i, mask, err)
						}
					case i >= kidEnd:
						// Room, body and MAC are covered by the MAC.
						if !errors.Is(err, ErrForged) {
							t.Errorf("byte %d ^ %#x: got %v, want ErrForged", i, mask, err)
						}
					default:
						if !errors.Is(err, ErrForged) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) {
							t.Errorf("byte %d (header) ^ %#x: got %v", i, mask, err)
						}
					}
				}
			}
		})
	}
}

// TestTokenTamperChars replaces every character of the token string by every
// other character (base64url alphabet and a few outside it): none may verify,
// including changes to the last character's unused low bits (one token, one
// spelling).
func TestTokenTamperChars(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \n\r\x00é"
	// Several bodies so that the token length mod 4 (and so the number of
	// unused bits in the last character) varies.
	var tickets, passes []string
	for seq := uint64(0); seq < 3; seq++ {
		tickets = append(tickets, kr.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 1 << (7 * seq), Issued: t0}))
		passes = append(passes, kr.IssuePass(Pass{Room: "vaccine", Position: 1 << (7 * seq), Issued: t0, Expires: t0.Add(time.Hour)}))
	}
	lengths := map[int]bool{}
	check := func(t *testing.T, tok string, verify func(string) error) {
		lengths[len(tok)%4] = true
		for i := range len(tok) {
			for _, c := range alphabet {
				s := tok[:i] + string(c) + tok[i+1:]
				if s == tok {
					continue
				}
				if err := verify(s); err == nil {
					t.Fatalf("token with char %d changed to %q verified", i, c)
				} else if !isRejection(err) {
					t.Fatalf("unexpected error %v", err)
				}
			}
		}
	}
	for _, tok := range tickets {
		check(t, tok, func(s string) error { _, err := kr.VerifyTicket(s, "vaccine"); return err })
	}
	for _, tok := range passes {
		check(t, tok, func(s string) error { _, err := kr.VerifyPass(s, "vaccine", t0); return err })
	}
	if len(lengths) < 2 {
		t.Errorf("test tokens cover only lengths mod 4 %v; want variety", lengths)
	}
}

func TestTokenTruncatedAndExtended(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	tok := kr.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 99, Issued: t0})
	for i := 0; i < len(tok); i++ {
		if _, err := kr.VerifyTicket(tok[:i], "vaccine"); err == nil {
			t.Fatalf("truncated to %d characters: verified", i)
		}
		if _, err := kr.VerifyTicket(tok[i+1:], "vaccine"); err == nil {
			t.Fatalf("first %d characters cut: verified", i+1)
		}
		// An inserted newline (skipped by lenient base64 decoders) is a
		// different token.
		if _, err := kr.VerifyTicket(tok[:i]+"\n"+tok[i:], "vaccine"); !errors.Is(err, ErrMalformed) {
			t.Fatalf("newline inserted at %d: got %v, want ErrMalformed", i, err)
		}
	}
	for _, suffix := range []string{"A", "AA", "AAA", "AAAA", "=", "==", "\n", "\r\n", " "} {
		if _, err := kr.VerifyTicket(tok+suffix, "vaccine"); err == nil {
			t.Errorf("token + %q verified", suffix)
		}
	}
}

func TestTokenOversizedAndGarbage(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	tests := []struct {
		name string
		tok  string
	}{
		{"empty", ""},
		{"max+1", strings.Repeat("A", MaxTokenLen+1)},
		{"huge", strings.Repeat("QUJD", 100_000)},
		{"max of valid base64", strings.Repeat("A", MaxTokenLen)},
		{"one char", "A"},
		{"spaces", "    "},
		{"bearer prefix", "Bearer abc"},
		{"nul", "\x00\x00\x00\x00"},
		{"utf8", "대기표대기표대기표대기표대기표대기표"},
		{"std alphabet", "ab+/ab+/ab+/ab+/ab+/ab+/ab+/ab+/"},
		{"version 2", base64.RawURLEncoding.EncodeToString(append([]byte{2, 'T', 2, 'k', '1', 1, 'r', 0, 0, 0}, make([]byte, 16)...))},
		{"kid too long", base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 200}, make([]byte, 40)...))},
		{"kid zero", base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 0}, make([]byte, 40)...))},
		{"kid past end", base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 16, 'k'}, make([]byte, 16)...))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := kr.VerifyTicket(tc.tok, "vaccine"); !isRejection(err) {
				t.Errorf("VerifyTicket: got %v, want a rejection", err)
			}
			if _, err := kr.VerifyPass(tc.tok, "vaccine", t0); !isRejection(err) {
				t.Errorf("VerifyPass: got %v, want a rejection", err)
			}
		})
	}
	t.Run("over MaxTokenLen is malformed", func(t *testing.T) {
		if _, err := kr.VerifyTicket(strings.Repeat("A", MaxTokenLen+1), "vaccine"); !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := 0; i < 20000; i++ {
			n := rng.IntN(160)
			b := make([]byte, n)
			for j := range b {
				if i%2 == 0 {
					b[j] = b64[rng.IntN(len(b64))]
				} else {
					b[j] = byte(rng.Uint32())
				}
			}
			// Random bytes with a valid header, so they reach the MAC check.
			if i%3 == 0 && n > 24 {
				raw := append([]byte{1, 'T', 2, 'k', '1', 7, 'v', 'a', 'c', 'c', 'i', 'n', 'e'}, b...)
				b = []byte(base64.RawURLEncoding.EncodeToString(raw))
			}
			if _, err := kr.VerifyTicket(string(b), "vaccine"); err == nil {
				t.Fatalf("random token %q verified", b)
			}
			if _, err := kr.VerifyPass(string(b), "vaccine", t0); err == nil {
				t.Fatalf("random token %q verified as a pass", b)
			}
		}
	})
}

func TestTokenKindRoomExpiry(t *testing.T) {
	kr := testKeyring(t, "k1", 1)
	ticket := kr.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 5, Issued: t0})
	exp := t0.Add(10 * time.Minute)
	pass := kr.IssuePass(Pass{Room: "vaccine", Position: 5, Issued: t0, Expires: exp})
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"ticket as pass", errOf(kr.VerifyPass(ticket, "vaccine", t0)), ErrWrongKind},
		{"pass as ticket", errOf(kr.VerifyTicket(pass, "vaccine")), ErrWrongKind},
		{"ticket other room", errOf(kr.VerifyTicket(ticket, "concert")), ErrWrongRoom},
		{"pass other room", errOf(kr.VerifyPass(pass, "concert", t0)), ErrWrongRoom},
		{"pass no room", errOf(kr.VerifyPass(pass, "", t0)), ErrWrongRoom},
		{"ticket no room", errOf(kr.VerifyTicket(ticket, "")), ErrWrongRoom},
		{"pass one second before expiry", errOf(kr.VerifyPass(pass, "vaccine", exp.Add(-time.Second))), nil},
		{"pass one ns before expiry", errOf(kr.VerifyPass(pass, "vaccine", exp.Add(-1))), nil},
		{"pass exactly at expiry", errOf(kr.VerifyPass(pass, "vaccine", exp)), ErrExpired},
		{"pass after expiry", errOf(kr.VerifyPass(pass, "vaccine", exp.Add(time.Hour))), ErrExpired},
		{"tickets do not expire", errOf(kr.VerifyTicket(kr.IssueTicket(Ticket{Room: "vaccine", Issued: time.Unix(0, 0)}), "vaccine")), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil && tc.err != nil {
				t.Fatalf("got %v, want success", tc.err)
			}
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestTokenKeys(t *testing.T) {
	a := testKeyring(t, "a", 1)
	b := testKeyring(t, "b", 2)
	aForged := testKeyring(t, "a", 3) // same id, another secret
	ticket := a.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 1, Issued: t0})
	pass := a.IssuePass(Pass{Room: "vaccine", Position: 1, Issued: t0, Expires: t0.Add(time.Hour)})

	if _, err := b.VerifyTicket(ticket, "vaccine"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("ticket of key a checked by key b: got %v, want ErrUnknownKey", err)
	}
	if _, err := b.VerifyPass(pass, "vaccine", t0); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("pass of key a checked by key b: got %v, want ErrUnknownKey", err)
	}
	if _, err := aForged.VerifyTicket(ticket, "vaccine"); !errors.Is(err, ErrForged) {
		t.Errorf("ticket checked by another secret under the same id: got %v, want ErrForged", err)
	}
	if _, err := a.VerifyTicket(aForged.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 1, Issued: t0}), "vaccine"); !errors.Is(err, ErrForged) {
		t.Errorf("ticket forged under key id a: got %v, want ErrForged", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey := Key{ID: "2021a", Secret: testSecret(10)}
	newKey := Key{ID: "2021b", Secret: testSecret(11)}
	oldRing, err := NewKeyring(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	oldTicket := oldRing.IssueTicket(Ticket{Room: "vaccine", Phase: PhasePrequeue, Seq: 3, Issued: t0})
	oldPass := oldRing.IssuePass(Pass{Room: "vaccine", Position: 3, Issued: t0, Expires: t0.Add(time.Hour)})
	if got, err := rotated.VerifyTicket(oldTicket, "vaccine"); err != nil || got.Seq != 3 {
		t.Errorf("old ticket under rotated keyring: %+v, %v", got, err)
	}
	if _, err := rotated.VerifyPass(oldPass, "vaccine", t0); err != nil {
		t.Errorf("old pass under rotated keyring: %v", err)
	}
	newTicket := rotated.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 4, Issued: t0})
	if kid := tokenKeyID(t, newTicket); kid != "2021b" {
		t.Errorf("new ticket carries key id %q, want 2021b", kid)
	}
	if kid := tokenKeyID(t, oldTicket); kid != "2021a" {
		t.Errorf("old ticket carries key id %q, want 2021a", kid)
	}
	if rotated.CurrentKeyID() != "2021b" {
		t.Errorf("CurrentKeyID = %q", rotated.CurrentKeyID())
	}
	if _, err := oldRing.VerifyTicket(newTicket, "vaccine"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("new ticket under old keyring: got %v, want ErrUnknownKey", err)
	}
	// Once the old key is dropped, its tokens stop verifying.
	newOnly, _ := NewKeyring(newKey)
	if _, err := newOnly.VerifyTicket(oldTicket, "vaccine"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ticket after dropping the old key: got %v, want ErrUnknownKey", err)
	}
}

func TestNewKeyringValidation(t *testing.T) {
	good := testSecret(1)
	tests := []struct {
		name  string
		keys  []Key
		valid bool
	}{
		{"ok", []Key{{ID: "k", Secret: good}}, true},
		{"ok max id", []Key{{ID: strings.Repeat("k", maxKeyID), Secret: good}}, true},
		{"two keys", []Key{{ID: "a", Secret: good}, {ID: "b", Secret: testSecret(2)}}, true},
		{"empty id", []Key{{ID: "", Secret: good}}, false},
		{"long id", []Key{{ID: strings.Repeat("k", maxKeyID+1), Secret: good}}, false},
		{"id with colon", []Key{{ID: "a:b", Secret: good}}, false},
		{"id with comma", []Key{{ID: "a,b", Secret: good}}, false},
		{"id with space", []Key{{ID: "a b", Secret: good}}, false},
		{"short secret", []Key{{ID: "k", Secret: good[:MinSecretLen-1]}}, false},
		{"nil secret", []Key{{ID: "k", Secret: nil}}, false},
		{"duplicate id", []Key{{ID: "k", Secret: good}, {ID: "k", Secret: testSecret(2)}}, false},
		{"bad older key", []Key{{ID: "a", Secret: good}, {ID: "b", Secret: []byte("short")}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := NewKeyring(tc.keys[0], tc.keys[1:]...)
			if tc.valid != (err == nil) {
				t.Fatalf("NewKeyring: err = %v, want valid=%v", err, tc.valid)
			}
			if err != nil {
				for _, k := range tc.keys {
					if len(k.Secret) > 0 && strings.Contains(err.Error(), string(k.Secret)) {
						t.Errorf("error %q contains a secret", err)
					}
				}
				return
			}
			if kr.CurrentKeyID() != tc.keys[0].ID {
				t.Errorf("CurrentKeyID %q, want %q", kr.CurrentKeyID(), tc.keys[0].ID)
			}
		})
	}
	t.Run("secret is copied", func(t *testing.T) {
		s := append([]byte(nil), good...)
		kr, err := NewKeyring(Key{ID: "k", Secret: s})
		if err != nil {
			t.Fatal(err)
		}
		tok := kr.IssueTicket(Ticket{Room: "r", Issued: t0})
		s[0] ^= 1 // the caller reuses its buffer
		if _, err := kr.VerifyTicket(tok, "r"); err != nil {
			t.Errorf("keyring shares the caller's secret buffer: %v", err)
		}
	})
}

func TestParseKeys(t *testing.T) {
	s1, s2 := testSecret(21), testSecret(22)
	hex1 := hex.EncodeToString(s1)
	std2 := base64.StdEncoding.EncodeToString(s2)
	url1 := base64.RawURLEncoding.EncodeToString(s1)
	short24 := testSecret(23)[:24]
	hexShort := hex.EncodeToString(short24) // 48 hex digits: also valid base64 of 36 bytes
	secretsOf := []string{hex1, std2, url1, hexShort, base64.StdEncoding.EncodeToString(short24),
		base64.RawURLEncoding.EncodeToString(s2), hex.EncodeToString(s2)}

	type want struct {
		ok      bool
		current string
		ids     []string
	}
	tests := []struct {
		name string
		spec string
		want want
	}{
		{"hex", "k1:" + hex1, want{true, "k1", []string{"k1"}}},
		{"hex upper", "k1:" + strings.ToUpper(hex1), want{true, "k1", []string{"k1"}}},
		{"base64 std padded", "k2:" + std2, want{true, "k2", []string{"k2"}}},
		{"base64 std unpadded", "k2:" + strings.TrimRight(std2, "="), want{true, "k2", []string{"k2"}}},
		{"base64 url", "k1:" + url1, want{true, "k1", []string{"k1"}}},
		{"two keys, first signs", "new:" + std2 + ", old:" + hex1, want{true, "new", []string{"new", "old"}}},
		{"spaces and empty parts", "  new:" + std2 + " ,, old:" + hex1 + " ,", want{true, "new", []string{"new", "old"}}},
		{"empty", "", want{}},
		{"only commas", " , ,", want{}},
		{"no colon (bare secret)", hex1, want{}},
		{"bad secret", "k1:!!!not-a-secret!!!", want{}},
		{"short base64", "k1:" + base64.StdEncoding.EncodeToString(short24), want{}},
		{"short hex", "k1:" + hexShort, want{}},
		{"empty secret", "k1:", want{}},
		{"empty id", ":" + hex1, want{}},
		{"duplicate", "k1:" + hex1 + ",k1:" + std2, want{}},
		{"duplicate same secret", "k1:" + hex1 + ",k1:" + hex1, want{}},
		{"bad second key", "k1:" + hex1 + ",k2:zz", want{}},
		{"id with space", "k 1:" + hex1, want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := ParseKeys(tc.spec)
			if tc.want.ok != (err == nil) {
				t.Fatalf("ParseKeys: err = %v, want ok=%v", err, tc.want.ok)
			}
			if err != nil {
				msg := err.Error()
				for _, sec := range secretsOf {
					// Not the secret, nor any 4-character piece of it.
					for i := 0; i+4 <= len(sec); i++ {
						if strings.Contains(msg, sec[i:i+4]) {
							t.Fatalf("error %q reveals part of a secret (%q)", msg, sec[i:i+4])
						}
					}
				}
				return
			}
			if kr.CurrentKeyID() != tc.want.current {
				t.Errorf("current key %q, want %q", kr.CurrentKeyID(), tc.want.current)
			}
			for _, id := range tc.want.ids {
				if _, ok := kr.byID[id]; !ok {
					t.Errorf("key %q missing", id)
				}
			}
			if len(kr.byID) != len(tc.want.ids) {
				t.Errorf("%d keys, want %d", len(kr.byID), len(tc.want.ids))
			}
		})
	}
	t.Run("hex and base64 of one secret are one key", func(t *testing.T) {
		a, err1 := ParseKeys("k:" + hex1)
		b, err2 := ParseKeys("k:" + url1)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		tok := a.IssueTicket(Ticket{Room: "r", Issued: t0})
		if _, err := b.VerifyTicket(tok, "r"); err != nil {
			t.Errorf("same secret in hex and base64 gives different keys: %v", err)
		}
	})
}

func TestLoadKeys(t *testing.T) {
	secret := hex.EncodeToString(testSecret(31))
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	if err := os.WriteFile(file, []byte("new:"+secret+"\r\nold:"+hex.EncodeToString(testSecret(32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		wantNil bool
		wantErr bool
		current string
	}{
		{"unset", nil, true, false, ""},
		{"env", map[string]string{"SLUICE_SIGNING_KEYS": "k:" + secret}, false, false, "k"},
		{"file", map[string]string{"SLUICE_SIGNING_KEYS_FILE": file}, false, false, "new"},
		{"env wins over file", map[string]string{"SLUICE_SIGNING_KEYS": "k:" + secret, "SLUICE_SIGNING_KEYS_FILE": file}, false, false, "k"},
		{"missing file", map[string]string{"SLUICE_SIGNING_KEYS_FILE": filepath.Join(dir, "nope")}, false, true, ""},
		{"bad env", map[string]string{"SLUICE_SIGNING_KEYS": "k:short"}, false, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := LoadKeys(env(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if (kr == nil) != tc.wantNil {
				t.Fatalf("keyring %v, want nil %v", kr, tc.wantNil)
			}
			if kr != nil && kr.CurrentKeyID() != tc.current {
				t.Errorf("current %q, want %q", kr.CurrentKeyID(), tc.current)
			}
		})
	}
}

func TestGenerateKeyring(t *testing.T) {
	a, b := GenerateKeyring("demo"), GenerateKeyring("demo")
	tok := a.IssueTicket(Ticket{Room: "r", Issued: t0})
	if _, err := a.VerifyTicket(tok, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.VerifyTicket(tok, "r"); !errors.Is(err, ErrForged) {
		t.Errorf("two generated keyrings share a secret: %v", err)
	}
}
