package booking

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestEveryErrorHasACode reads the package's source: every exported error
// it declares (var ErrX = ...) must be declared with def, which gives it a
// code and sentences, so that a new error cannot reach a person without
// its code, its HTTP status (web) and its message.
func TestEveryErrorHasACode(t *testing.T) {
	codes := map[string]bool{}
	for _, e := range declared {
		if e.code == "" || e.msg == "" || e.ko == "" || e.en == "" {
			t.Errorf("%v: incomplete declaration %+v", e, *e)
		}
		if codes[e.code] {
			t.Errorf("code %q declared twice", e.code)
		}
		codes[e.code] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, de := range entries {
		name := de.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			vs, ok := node.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !id.IsExported() || !strings.HasPrefix(id.Name, "Err") {
					continue
				}
				n++
				if i >= len(vs.Values) || !isDefCall(vs.Values[i]) {
					t.Errorf("%s (%s) is not declared with def(code, message, ko, en): give it a code and sentences, and a status in web's table", id.Name, fset.Position(id.Pos()))
				}
			}
			return true
		})
	}
	if n != len(declared) {
		t.Errorf("%d exported errors in the source, %d declared with def", n, len(declared))
	}
}

func isDefCall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == "def"
}

func TestErrorCode(t *testing.T) {
	_, rrnErr := ParseRRN("680132-1234561")
	_, phoneErr := ParsePhone("02-1234-5678")
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrSlotFull, "slot_full"},
		{fmt.Errorf("clinic 1 2021-07-26 block 0: %w", ErrSlotFull), "slot_full"},
		{ErrNotFound, "booking_not_found"},
		{&NotEligibleError{}, CodeNotEligible},
		{fmt.Errorf("wrapped: %w", &NotEligibleError{}), CodeNotEligible},
		{rrnErr, "rrn_date"},
		{phoneErr, "phone"},
		{ErrRRNChecksum, "rrn_checksum"},
		{errors.New("disk on fire"), ""},
	}
	for _, tc := range tests {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	// Every error Errors lists has its own code.
	seen := map[string]bool{}
	for _, err := range Errors() {
		c := ErrorCode(err)
		if c == "" || seen[c] {
			t.Errorf("%v: code %q (empty or repeated)", err, c)
		}
		seen[c] = true
	}
	if len(seen) != len(declared) {
		t.Errorf("Errors() gives %d codes, %d declared", len(seen), len(declared))
	}
}
