package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// Every command takes flags only: a stray argument (a flag without its
// dashes, a file name) is refused by name before anything starts.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	for _, cmd := range []string{"demo", "serve", "proxy", "keygen", "loadtest", "simulate"} {
		var stdout, stderr bytes.Buffer
		code := run([]string{cmd, "stray"}, &stdout, &stderr, os.Getenv)
		if want := "sluice " + cmd + `: unexpected argument "stray"`; code != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s stray: exit %d, stderr %q; want 2 and %q", cmd, code, stderr.String(), want)
		}
	}
}
