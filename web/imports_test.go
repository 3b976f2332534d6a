package web

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebDoesNotImportConfig: the HTTP layer does not depend on the
// configuration package, directly or through another of the module's
// packages; the admin API takes a room in the shape internal/roomspec
// declares, which the configuration file shares.
func TestWebDoesNotImportConfig(t *testing.T) {
	const module = "github.com/sluicehq/sluice/"
	seen := map[string]bool{}
	var walk func(dir, via string)
	walk = func(dir, via string) {
		if seen[dir] {
			return
		}
		seen[dir] = true
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range p.Imports {
			rest, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if rest == "config" {
				t.Errorf("web imports %s (via %s)", imp, via)
				continue
			}
			walk(filepath.Join("..", filepath.FromSlash(rest)), via+" -> "+rest)
		}
	}
	walk(".", "web")
	if len(seen) < 3 {
		t.Fatalf("walked only %d packages: the walk is broken", len(seen))
	}
}
