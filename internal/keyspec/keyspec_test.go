package keyspec

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	secret := bytes.Repeat([]byte{0xab, 0x01}, 16)
	hx, b64 := hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)
	tests := []struct {
		spec string
		ids  []string // nil: an error
	}{
		{"k1:" + hx, []string{"k1"}},
		{"k1:" + b64 + ",k2:" + hx, []string{"k1", "k2"}},
		{"k1:" + b64 + "\nk2:" + hx + "\n", []string{"k1", "k2"}},
		{" k1 : " + hx + " ,, ", []string{"k1"}},
		{"", nil},
		{" , \n", nil},
		{hx, nil},
		{"k1:!!", nil},
	}
	for _, tc := range tests {
		keys, err := Parse(tc.spec)
		if (err == nil) != (tc.ids != nil) {
			t.Errorf("Parse(%q) = %v, want ids %v", tc.spec, err, tc.ids)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), hx[:8]) {
				t.Errorf("Parse(%q): error %q quotes the secret", tc.spec, err)
			}
			continue
		}
		for i, k := range keys {
			if k.ID != tc.ids[i] || !bytes.Equal(k.Secret, secret) {
				t.Errorf("Parse(%q)[%d] = %q %x", tc.spec, i, k.ID, k.Secret)
			}
		}
	}
}

// FuzzParse: key lists come from the environment and files; whatever they
// hold, Parse answers keys or an error that quotes no secret.
func FuzzParse(f *testing.F) {
	f.Add("k1:" + strings.Repeat("ab", 32))
	f.Add("a:,b:zz\n:c")
	f.Fuzz(func(t *testing.T, spec string) {
		keys, err := Parse(spec)
		if err == nil && len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		if err != nil && !strings.Contains(spec, ":") && len(spec) >= 8 && strings.Contains(err.Error(), spec) {
			t.Fatalf("error %q quotes a bare secret", err)
		}
	})
}

// TestIndex: the first key is current, every key is found by its id, and
// an id listed twice or a key its user refuses is an error.
func TestIndex(t *testing.T) {
	keys := []Key{{ID: "a", Secret: []byte{1}}, {ID: "b", Secret: []byte{2}}}
	id := func(_ int, k Key) (string, error) { return k.ID, nil }
	current, byID, err := Index(keys, id)
	if err != nil || current != "a" || len(byID) != 2 || byID["b"] != "b" {
		t.Errorf("Index = %q %v %v", current, byID, err)
	}
	if _, _, err := Index(append(keys, Key{ID: "a"}), id); err == nil {
		t.Error("an id listed twice was accepted")
	}
	refuse := func(i int, k Key) (string, error) {
		if i == 1 {
			return "", errors.New("refused")
		}
		return k.ID, nil
	}
	if _, _, err := Index(keys, refuse); err == nil {
		t.Error("a refused key was accepted")
	}
}
