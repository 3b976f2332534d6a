package booking

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestEveryErrorHasACode reads the package's source: every exported error
// it declares (var ErrX = errors.New(...)) must have a code and sentences
// in errorTable, so that a new error cannot reach a person without its
// code, its HTTP status (web) and its message.
func TestEveryErrorHasACode(t *testing.T) {
	byMessage := map[string]errorInfo{}
	codes := map[string]bool{}
	for _, e := range errorTable {
		if e.code == "" || e.ko == "" || e.en == "" {
			t.Errorf("%v: incomplete entry %+v", e.err, e)
		}
		if codes[e.code] {
			t.Errorf("code %q used twice", e.code)
		}
		codes[e.code] = true
		byMessage[e.err.Error()] = e
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := 0
	for _, de := range entries {
		name := de.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !id.IsExported() || i >= len(vs.Values) {
					continue
				}
				msg, ok := errorsNewMessage(vs.Values[i])
				if !ok {
					continue
				}
				declared++
				if _, ok := byMessage[msg]; !ok {
					t.Errorf("%s (%s) has no entry in errorTable: give it a code and messages there, and a status in web's table", id.Name, fset.Position(id.Pos()))
				}
			}
			return true
		})
	}
	if declared != len(errorTable) {
		t.Errorf("%d exported errors declared, %d in errorTable", declared, len(errorTable))
	}
}

// errorsNewMessage returns the message of an errors.New("...") expression.
func errorsNewMessage(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "New" {
		return "", false
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "errors" {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	msg, err := strconv.Unquote(lit.Value)
	return msg, err == nil
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
	if len(seen) != len(errorTable) {
		t.Errorf("Errors() gives %d codes, errorTable has %d", len(seen), len(errorTable))
	}
}
