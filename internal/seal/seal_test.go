package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTripAndContext(t *testing.T) {
	s := Generate("k1")
	plain := []byte("김민수|01012345678|1968-03-15")
	rec := s.Seal(nil, plain, []byte("session\x00abc"))
	if bytes.Contains(rec, plain) || bytes.Contains(rec, []byte("01012345678")) {
		t.Fatal("the sealed record holds the plaintext")
	}
	if len(rec) != len(plain)+s.Overhead() {
		t.Errorf("record of %d bytes for %d of plaintext, want overhead %d", len(rec), len(plain), s.Overhead())
	}
	got, err := s.Open(nil, rec, []byte("session\x00abc"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(nil, rec, []byte("session\x00abd")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("opened in another context: %v, want ErrCorrupt", err)
	}
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x40
		if _, err := s.Open(nil, bad, []byte("session\x00abc")); err == nil {
			t.Errorf("a record changed at byte %d still opens", i)
		}
	}
	if a, b := s.Seal(nil, plain, nil), s.Seal(nil, plain, nil); bytes.Equal(a, b) {
		t.Error("two seals of one plaintext are equal: the nonce is not fresh")
	}
}

func TestRotation(t *testing.T) {
	oldKey := Key{ID: "2021-07", Secret: RandomSecret()}
	newKey := Key{ID: "2021-08", Secret: RandomSecret()}
	before, _ := New(oldKey)
	during, err := New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := New(newKey)

	old := before.Seal(nil, []byte("x"), nil)
	if got, err := during.Open(nil, old, nil); err != nil || string(got) != "x" {
		t.Fatalf("a record of the old key during rotation: %q, %v", got, err)
	}
	fresh := during.Seal(nil, []byte("y"), nil)
	if got, err := after.Open(nil, fresh, nil); err != nil || string(got) != "y" {
		t.Fatalf("a record sealed during rotation, after it: %q, %v", got, err)
	}
	if _, err := after.Open(nil, old, nil); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "2021-07") {
		t.Errorf("an old record once its key is gone: %v, want ErrUnknownKey naming 2021-07", err)
	}
	if during.CurrentID() != "2021-08" {
		t.Errorf("CurrentID = %q", during.CurrentID())
	}
}

func TestParse(t *testing.T) {
	secret := strings.Repeat("ab", 32) // 32 bytes of hex
	s, err := Parse(" k2:" + FormatKey(Key{ID: "x", Secret: RandomSecret()})[2:] + ",\nk1:" + secret + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.CurrentID() != "k2" || len(s.byID) != 2 {
		t.Errorf("parsed %v keys, current %q", len(s.byID), s.CurrentID())
	}
	for _, spec := range []string{
		"", " , ", "k1", "k1:" + strings.Repeat("ab", 31), "k1:!!!!", ":" + secret,
		"k 1:" + secret, "k1:" + secret + ",k1:" + secret, strings.Repeat("k", 33) + ":" + secret,
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghij", // a bare secret
	} {
		_, err := Parse(spec)
		if err == nil {
			t.Errorf("Parse(%q) accepted", spec)
			continue
		}
		if strings.Contains(err.Error(), "abcdefghij") || strings.Contains(err.Error(), strings.Repeat("ab", 31)) {
			t.Errorf("Parse(%q) quotes the secret: %v", spec, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	s := Generate("k1")
	f.Add(s.Seal(nil, []byte("hello"), []byte("c")), []byte("c"))
	f.Add([]byte{1, 2, 'k', '1'}, []byte(nil))
	f.Add([]byte{1, 200}, []byte(nil))
	f.Fuzz(func(t *testing.T, rec, context []byte) {
		got, err := s.Open(nil, rec, context)
		if err == nil {
			// Only a record this Sealer made opens; re-sealing it must
			// round-trip.
			again, err := s.Open(nil, s.Seal(nil, got, context), context)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-sealed record: %q, %v", again, err)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("k1:" + strings.Repeat("ab", 32))
	f.Add("a:b,c:d\n")
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err == nil {
			if _, err := s.Open(nil, s.Seal(nil, []byte("x"), nil), nil); err != nil {
				t.Fatalf("a parsed Sealer does not open its own record: %v", err)
			}
		}
	})
}
