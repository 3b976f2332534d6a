package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

var (
	fmtVerbRE     = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)
	placeholderRE = regexp.MustCompile(`\{[a-z]+\}`)
)

// Every entry has both languages, and both take the same arguments: the
// same fmt verbs in the same order, the same {placeholders}.
func TestCatalogueEntriesHaveBothLanguages(t *testing.T) {
	for key, text := range catalogue {
		if strings.TrimSpace(text.KO) == "" || strings.TrimSpace(text.EN) == "" {
			t.Errorf("%q: KO %q, EN %q: both must be set", key, text.KO, text.EN)
			continue
		}
		if ko, en := fmtVerbRE.FindAllString(text.KO, -1), fmtVerbRE.FindAllString(text.EN, -1); !slices.Equal(ko, en) {
			t.Errorf("%q: fmt verbs KO %v, EN %v", key, ko, en)
		}
		ko, en := placeholderRE.FindAllString(text.KO, -1), placeholderRE.FindAllString(text.EN, -1)
		slices.Sort(ko)
		slices.Sort(en)
		if !slices.Equal(ko, en) {
			t.Errorf("%q: placeholders KO %v, EN %v", key, ko, en)
		}
	}
}

// catalogueUse is a key (or, for a computed key, its literal start) found
// in a template or in the code.
type catalogueUse struct {
	where  string
	key    string
	prefix bool
}

var (
	// {{.T "key"}}, {{$.T "key" .X}}, {{.EN "key"}}, {{.With "key"}}.
	templateKeyRE = regexp.MustCompile(`\b(?:T|EN|With) "([^"]+)"`)
	// {{.T (printf "window.%s" .State)}}: a computed key.
	templatePrefixRE = regexp.MustCompile(`\bT \(printf "([^"%]+)%[sd]"`)
)

// templateKeys lists the keys the templates use.
func templateKeys(t *testing.T) []catalogueUse {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	var out []catalogueUse
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			out = append(out, catalogueUse{where: f, key: m[1]})
		}
		for _, m := range templatePrefixRE.FindAllStringSubmatch(string(b), -1) {
			out = append(out, catalogueUse{where: f, key: m[1], prefix: true})
		}
	}
	return out
}

// codeKeys lists the keys the package's code uses: the first argument of a
// T call, the title of newPage, and every string that starts with "dash."
// (the dashboard's keys, which travel through fields and arguments before
// they are translated). A literal joined with something else is the start
// of a computed key.
func codeKeys(t *testing.T) []catalogueUse {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []catalogueUse
	seen := map[token.Pos]bool{}
	add := func(e ast.Expr) {
		prefix := false
		if bin, ok := e.(*ast.BinaryExpr); ok && bin.Op == token.ADD {
			e, prefix = bin.X, true
		}
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || seen[lit.Pos()] {
			return
		}
		seen[lit.Pos()] = true
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, catalogueUse{where: fset.Position(lit.Pos()).String(), key: s, prefix: prefix})
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch {
				case sel.Sel.Name == "T" && len(n.Args) > 0:
					add(n.Args[0])
				case sel.Sel.Name == "newPage" && len(n.Args) > 2:
					add(n.Args[2])
				}
			case *ast.BinaryExpr:
				if lit, ok := n.X.(*ast.BasicLit); ok && n.Op == token.ADD && strings.HasPrefix(lit.Value, `"dash.`) {
					add(n)
					return false
				}
			case *ast.BasicLit:
				if strings.HasPrefix(n.Value, `"dash.`) {
					add(n)
				}
			}
			return true
		})
	}
	return out
}

// Every key the templates and the code use is in the catalogue; a computed
// key's start is the start of some key, and the computed keys themselves
// are checked against the values they are computed from.
func TestCatalogueHasEveryKeyUsed(t *testing.T) {
	uses := append(templateKeys(t), codeKeys(t)...)
	n := 0
	for _, u := range uses {
		n++
		if !u.prefix {
			if _, ok := catalogue[u.key]; !ok {
				t.Errorf("%s: key %q is not in the catalogue", u.where, u.key)
			}
			continue
		}
		found := false
		for key := range catalogue {
			found = found || strings.HasPrefix(key, u.key)
		}
		if !found {
			t.Errorf("%s: no catalogue key starts with %q", u.where, u.key)
		}
	}
	if n < 250 {
		t.Fatalf("found only %d uses of the catalogue; are the patterns right?", n)
	}

	computed := []string{"window.open", "window.later", "window.closed",
		"kind." + string(booking.KindClinic), "kind." + string(booking.KindCentre)}
	for i := range len((&page{}).Steps()) {
		computed = append(computed, "step."+strconv.Itoa(i+1))
	}
	for _, st := range []room.State{room.StateScheduled, room.StatePrequeue, room.StateOpen, room.StatePaused, room.StateClosed} {
		computed = append(computed, "dash.state_"+string(st))
	}
	for _, r := range room.Reasons {
		computed = append(computed, "dash.reason_"+r)
	}
	for _, k := range []string{"confirmation", "change", "cancel", "verification"} {
		computed = append(computed, "dash.kind_"+k)
	}
	for action := range dashActions {
		computed = append(computed, "dash.confirm_"+action, "dash.done_"+action)
	}
	for _, key := range computed {
		if _, ok := catalogue[key]; !ok {
			t.Errorf("computed key %q is not in the catalogue", key)
		}
	}
}
