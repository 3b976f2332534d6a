package room

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// fuzzSeeds are real tokens and edge cases shared by the fuzz targets.
func fuzzSeeds(kr *Keyring) []string {
	var seeds []string
	for _, tk := range []Ticket{
		{Room: "vaccine", Phase: PhasePrequeue, Seq: 0, Issued: t0},
		{Room: "vaccine", Phase: PhaseOpen, Seq: 1, Issued: t0},
		{Room: "vaccine", Phase: PhaseOpen, Seq: 6_000_000, Issued: t0.Add(time.Hour)},
		{Room: "vaccine", Phase: PhaseOpen, Seq: ^uint64(0), Issued: time.Unix(-1, 0)},
		{Room: "concert", Phase: PhasePrequeue, Seq: 5, Issued: t0},
	} {
		seeds = append(seeds, kr.IssueTicket(tk))
	}
	for _, p := range []Pass{
		{Room: "vaccine", Position: 1, Issued: t0, Expires: t0.Add(10 * time.Minute)},
		{Room: "vaccine", Position: 1 << 40, Issued: t0, Expires: t0.Add(time.Second)},
		{Room: "vaccine", Position: 3, Issued: t0, Expires: t0.Add(-time.Hour)},
		{Room: "concert", Position: 2, Issued: t0, Expires: t0.Add(time.Hour)},
	} {
		seeds = append(seeds, kr.IssuePass(p))
	}
	// Each real token with its last character's lowest bit flipped: for
	// lengths with unused trailing bits this spells the same bytes.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, tok := range seeds[:len(seeds):len(seeds)] {
		i := strings.IndexByte(alphabet, tok[len(tok)-1])
		seeds = append(seeds, tok[:len(tok)-1]+string(alphabet[i^1]))
	}
	real := seeds[1]
	raw, _ := base64.RawURLEncoding.DecodeString(real)
	seeds = append(seeds,
		"", "A", "AA", "AAA", "AAAA", "=", "====", " ", "\n", "\x00",
		strings.Repeat("A", MaxTokenLen), strings.Repeat("A", MaxTokenLen+1), strings.Repeat("_", MaxTokenLen-1),
		real+"\n", "\r\n"+real, real[:len(real)-1], real+"A", real+"=", " "+real,
		real[:len(real)-1]+"B", real[:len(real)-1]+"-",
		strings.ToUpper(real), strings.ReplaceAll(real, "-", "+"),
		mustKeyring("k1", 2).IssueTicket(Ticket{Room: "vaccine", Issued: t0}), // forged
		mustKeyring("zz", 1).IssueTicket(Ticket{Room: "vaccine", Issued: t0}), // unknown key
		base64.RawURLEncoding.EncodeToString(raw[:len(raw)-macLen]),           // no MAC
		base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 255}, raw[3:]...)),
		base64.RawURLEncoding.EncodeToString(append([]byte{1, 'P'}, raw[2:]...)),
		base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 2, 'k', '1', 0}, make([]byte, 17)...)),
		base64.RawURLEncoding.EncodeToString(append([]byte{1, 'T', 2, 'k', '1', 200}, make([]byte, 17)...)),
		base64.StdEncoding.EncodeToString(raw),
	)
	return seeds
}

func mustKeyring(id string, seed uint64) *Keyring {
	kr, err := NewKeyring(Key{ID: id, Secret: testSecret(seed)})
	if err != nil {
		panic(err)
	}
	return kr
}

func fuzzRoom(t testing.TB, kr *Keyring) *Room {
	clk := clock.NewManual(t0.Add(time.Minute))
	r, err := New(Settings{Name: "vaccine", Capacity: 2, Rate: 10, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}, kr, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		r.Join()
	}
	r.Tick()
	return r
}

// FuzzVerifyTicket: no input panics; every rejection is one of the token
// errors with a zero ticket; anything accepted is canonical (re-issuing the
// decoded ticket gives back exactly the input), belongs to the room asked
// for, and the room can answer a status for it.
func FuzzVerifyTicket(f *testing.F) {
	kr := testKeyring(f, "k1", 1)
	for _, s := range fuzzSeeds(kr) {
		f.Add(s)
	}
	r := fuzzRoom(f, kr)
	f.Fuzz(func(t *testing.T, tok string) {
		tk, err := kr.VerifyTicket(tok, "vaccine")
		if err != nil {
			if !isRejection(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if tk != (Ticket{}) {
				t.Fatalf("rejected ticket decoded to %+v", tk)
			}
			return
		}
		if again := kr.IssueTicket(tk); again != tok {
			t.Fatalf("accepted %q, which re-encodes as %q", tok, again)
		}
		if tk.Room != "vaccine" || tk.Phase > PhaseOpen {
			t.Fatalf("accepted %+v", tk)
		}
		if _, err := kr.VerifyTicket(tok, "concert"); !errors.Is(err, ErrWrongRoom) {
			t.Fatalf("ticket of vaccine checked for concert: %v", err)
		}
		if _, err := kr.VerifyPass(tok, "vaccine", t0); !errors.Is(err, ErrWrongKind) {
			t.Fatalf("ticket accepted as a pass: %v", err)
		}
		if _, err := r.VerifyTicket(tok); err != nil {
			t.Fatalf("room rejects a ticket the keys accept: %v", err)
		}
		st, err := r.Status(tk)
		if err == nil && st.State == StateWaiting && (st.Position == 0 || st.ETA <= 0 || st.PollAfter <= 0) {
			t.Fatalf("status %+v", st)
		}
	})
}

// FuzzVerifyPass: the same for passes, and the gate never lets an invalid
// one through.
func FuzzVerifyPass(f *testing.F) {
	kr := testKeyring(f, "k1", 1)
	for _, s := range fuzzSeeds(kr) {
		f.Add(s)
	}
	r := fuzzRoom(f, kr)
	now := t0.Add(time.Minute)
	gate := &Gate{Verifier: StatelessVerifier{Keys: kr, Room: "vaccine", Clock: clock.NewManual(now)}}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := kr.VerifyPass(tok, "vaccine", now)
		switch {
		case err == nil, errors.Is(err, ErrExpired):
			if again := kr.IssuePass(p); again != tok {
				t.Fatalf("accepted %q, which re-encodes as %q", tok, again)
			}
			if p.Room != "vaccine" {
				t.Fatalf("accepted %+v", p)
			}
			if (err == nil) != now.Before(p.Expires) {
				t.Fatalf("pass %+v at %v: %v", p, now, err)
			}
		case !isRejection(err):
			t.Fatalf("unexpected error %v", err)
		case p != (Pass{}):
			t.Fatalf("rejected pass decoded to %+v (%v)", p, err)
		}
		if _, err := kr.VerifyTicket(tok, "vaccine"); err == nil && p != (Pass{}) {
			t.Fatalf("one token accepted as ticket and pass")
		}
		if rp, rerr := r.VerifyPass(tok); rerr == nil && err != nil {
			t.Fatalf("room accepts %+v that the keys reject (%v)", rp, err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(PassHeader, tok)
		if _, _, ok := gate.Check(req); ok && err != nil && strings.TrimSpace(tok) == tok {
			t.Fatalf("gate let through a pass the keys reject: %v", err)
		}
	})
}
