package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/stdlib"
)

// TestRunbookErrors checks that each kind of bad input names its file:line:col,
// exits with the runbook-error status, and prints no plan.
func TestRunbookErrors(t *testing.T) {
	const dir = "cmd/ovnrun/testdata/errors/"
	for _, tc := range []struct {
		file string
		want []string // substrings of stderr, the position first
	}{
		{"bad_mac.star", []string{dir + "bad_mac.star:2:4: lsp: for parameter \"mac\": invalid MAC address \"04:ac:10:ff:01\""}},
		{"bad_cidr.star", []string{dir + "bad_cidr.star:1:3: ls: for parameter \"subnet\": invalid CIDR \"172.16.1.0/40\""}},
		{"unknown_keyword.star", []string{dir + "unknown_keyword.star:1:3: lr: unexpected keyword argument \"gateway\""}},
		{"undeclared_switch.star", []string{dir + "undeclared_switch.star:1:4: lsp: switch: no logical switch \"ls9\" is declared"}},
		{"duplicate_name.star", []string{dir + "duplicate_name.star:3:3: ls: logical switch \"ls1\" is already declared at " + dir + "duplicate_name.star:1:3"}},
		{"wrong_type.star", []string{dir + "wrong_type.star:1:3: ls: for parameter \"other_config\": got list, want dict"}},
		{"missing_load.star", []string{dir + "missing_load.star:1:1:", "load \"lib/missing.star\": file not found"}},
		{"load_cycle.star", []string{dir + "load_cycle.star:1:1:", "load cycle: " + dir + "load_cycle.star -> " + dir + "lib/cycle1.star -> " + dir + "lib/cycle2.star -> " + dir + "lib/cycle1.star"}},
		{"syntax_error.star", []string{dir + "syntax_error.star:2:3: got identifier, want ','"}},
		{"loop_forever.star", []string{dir + "loop_forever.star:3:5: evaluation stopped after 100000000 steps", "--max-steps raises the limit",
			"Traceback (most recent call last):", dir + "loop_forever.star:6:5: in <toplevel>"}},
		{"library_error.star", []string{
			"@stdlib//lab.star:", "lrp: for parameter \"mac\": invalid MAC address \"00:00:00:00:01:zz\"",
			"Traceback (most recent call last):", dir + "library_error.star:8:5: in <toplevel>",
			dir + "library_error.star:6:9: in connect", "@stdlib//lab.star:" + stdlibCall(t, "lab.star", "return lrp(") + ": in link"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", dir+tc.file)
			if code != exitRunbook {
				t.Errorf("exit %d, want %d", code, exitRunbook)
			}
			if stdout != "" {
				t.Errorf("printed a plan:\n%s", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// stdlibCall is the line:column at which Starlark places the call that
// starts with text in the @stdlib// file name (the column of its "("), so
// the test follows the library as it changes.
func stdlibCall(t *testing.T, name, text string) string {
	t.Helper()
	src, err := stdlib.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(src), "\n") {
		if col := strings.Index(line, text); col >= 0 {
			return fmt.Sprintf("%d:%d", i+1, col+strings.Index(text, "(")+1)
		}
	}
	t.Fatalf("@stdlib//%s has no %q", name, text)
	return ""
}
