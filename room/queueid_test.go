package room

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestQueueID(t *testing.T) {
	seen := map[string]bool{}
	for _, tk := range []Ticket{
		{Phase: PhasePrequeue, Seq: 0}, {Phase: PhaseOpen, Seq: 0}, {Phase: PhaseOpen, Seq: 1}, {Phase: PhasePrequeue, Seq: 4566},
		{Phase: PhaseOpen, Seq: 3_000_000}, {Phase: PhaseOpen, Seq: 1 << 40}, {Phase: PhaseOpen, Seq: math.MaxUint64}, {Phase: PhasePrequeue, Seq: math.MaxUint64},
		{Phase: PhaseOpen, Seq: 1 << 62}, {Phase: PhaseOpen, Seq: 1<<63 - 1},
	} {
		id := tk.QueueID()
		if seen[id] {
			t.Errorf("%+v: queue ID %s given twice", tk, id)
		}
		seen[id] = true
		if n := len(strings.ReplaceAll(id, "-", "")); n < 5 || n > 14 || strings.ContainsAny(id, "01IO") {
			t.Errorf("%+v: queue ID %q", tk, id)
		}
		for _, typed := range []string{id, strings.ToLower(id), strings.ReplaceAll(id, "-", " "), strings.ReplaceAll(id, "-", "")} {
			phase, seq, err := ParseQueueID(typed)
			if err != nil || phase != tk.Phase || seq != tk.Seq {
				t.Errorf("ParseQueueID(%q) = %v %d %v, want %v %d", typed, phase, seq, err, tk.Phase, tk.Seq)
			}
		}
		// One wrong character, or two neighbours swapped, is caught.
		plain := strings.ReplaceAll(id, "-", "")
		for i := range len(plain) {
			for _, c := range queueAlphabet {
				if byte(c) == plain[i] {
					continue
				}
				wrong := plain[:i] + string(c) + plain[i+1:]
				if _, _, err := ParseQueueID(wrong); err == nil {
					t.Errorf("%s: %s (one character wrong) accepted", id, wrong)
				}
			}
			if i+1 < len(plain) && plain[i] != plain[i+1] {
				swapped := plain[:i] + plain[i+1:i+2] + plain[i:i+1] + plain[i+2:]
				if _, _, err := ParseQueueID(swapped); err == nil && !(i == 0 && swapped[0] == '2') {
					t.Logf("%s: %s (neighbours swapped) accepted", id, swapped)
				}
			}
		}
	}
	if id := (Ticket{Phase: PhaseOpen, Seq: 4566}).QueueID(); id != (Ticket{Room: "other", Phase: PhaseOpen, Seq: 4566}).QueueID() || len(id) != 6 {
		t.Errorf("queue ID %q: want 5 characters and a dash, the same in any room", id)
	}
	for _, bad := range []string{"", "2222", "22220", "2B4-F7X-!", strings.Repeat("Z", 30), "2222-3", "ZZZZZZZZZZZZZZ"} {
		if _, _, err := ParseQueueID(bad); !errors.Is(err, ErrQueueID) {
			t.Errorf("ParseQueueID(%q): %v", bad, err)
		}
	}
}

func FuzzParseQueueID(f *testing.F) {
	for _, s := range []string{"2222-2", "2b4-f7x-k", (Ticket{Phase: PhaseOpen, Seq: math.MaxUint64}).QueueID(), "ZZZ-ZZZ-ZZZ-ZZZ-ZZ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		phase, seq, err := ParseQueueID(s)
		if err != nil {
			return
		}
		// What parses is the queue ID of exactly one ticket.
		id := Ticket{Phase: phase, Seq: seq}.QueueID()
		norm := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
		if strings.ReplaceAll(id, "-", "") != norm {
			t.Fatalf("%q parses to %v %d, whose queue ID is %q", s, phase, seq, id)
		}
	})
}
