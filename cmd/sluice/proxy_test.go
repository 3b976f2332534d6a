package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProxyPrefixFlag(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"SLUICE_SIGNING_KEYS": "k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="}[k]
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"serve", "--prefix", "/q/"}, 2, "--prefix is for `sluice proxy` only"},
		{[]string{"proxy", "--upstream", "http://127.0.0.1:1", "--prefix", "/"}, 1, "proxy_prefix"},
		{[]string{"proxy", "--upstream", "http://127.0.0.1:1", "--prefix", "/a b/"}, 1, "proxy_prefix"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb, env); code != tc.code || !strings.Contains(errb.String(), tc.says) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", tc.args, code, errb.String(), tc.code, tc.says)
		}
	}
}
