package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// scriptDir holds the seed's scripts, seedDir the goldens of their
// conversion.
var (
	scriptDir = filepath.Join("runbooks", "seed")
	seedDir   = filepath.Join("convert", "testdata", "seed")
)

var convertHeader = regexp.MustCompile(`(?m)^(# Converted from shell scripts by ovnrun convert), [^:]+:\d\d:\d\dZ:`)

// TestConvertCommand is ovnrun convert on the seed's scripts: the runbook
// it writes is the golden one of package convert (but for the time in its
// header), and it evaluates.
func TestConvertCommand(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "unshare")
	out := filepath.Join(t.TempDir(), "seed.star")
	s := func(name string) string { return filepath.Join(scriptDir, name) }
	_, stderr, code := ovnrun(t, "convert", "--host", "h0="+s("vms.sh"), "--host", "h1="+s("vms.sh"),
		"--host", "h1="+s("compute.sh"), "--host", "h0="+s("server.sh"), s("topology.sh"), "-o", out)
	if code != exitOK {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(repoRoot, seedDir, "converted.star"))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := convertHeader.ReplaceAllString(string(got), "$1, TIME:"), convertHeader.ReplaceAllString(string(want), "$1, TIME:"); g != w {
		t.Errorf("ovnrun convert wrote another runbook than %s/converted.star:\n%s", seedDir, g)
	}
	stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", out)
	if code != exitOK || !strings.Contains(stdout, "Plan: 43 to add, 0 to change, 0 to destroy.") {
		t.Errorf("the converted seed does not evaluate to its 43 actions: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestConvertFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"convert"}, "convert: want a script"},
		{[]string{"convert", "--host", "h0"}, `--host "h0": want NAME=SCRIPT`},
		{[]string{"convert", "--host", "h0=no-such.sh"}, "no-such.sh: no such file"},
	} {
		_, stderr, code := ovnrun(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("ovnrun %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, exitUsage, tc.want)
		}
	}
}

// TestLabConvertedSeed runs the converted seed, with the edits its TODO
// lines ask for (edited.star: the outside host, its address and route, the
// seed's pings), end to end in an emulated lab: the pings pass.
func TestLabConvertedSeed(t *testing.T) {
	labhost.RequireLab(t)
	converted, err := os.ReadFile(filepath.Join(repoRoot, seedDir, "converted.star"))
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(repoRoot, seedDir, "edited.star")
	text, err := os.ReadFile(edited)
	if err != nil {
		t.Fatal(err)
	}
	// edited.star is converted.star with lines marked EDIT added: the
	// others are converted.star's, in order, all but the one moved route.
	conv := strings.Split(string(converted), "\n")
	var kept, edits int
	for _, l := range strings.Split(string(text), "\n") {
		if l == "" {
			continue
		}
		if strings.Contains(l, "EDIT") {
			edits++
			continue
		}
		for kept < len(conv) && conv[kept] != l {
			kept++
		}
		if kept == len(conv) {
			t.Fatalf("edited.star has a line that is neither converted.star's nor marked EDIT: %q", l)
		}
		kept++
	}
	t.Logf("edited.star: %d lines marked EDIT", edits)

	path, _ := labRunbookFrom(t, edited, "convseed")
	out, _ := ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	if !strings.Contains(out, "Applied 8 step(s) in ") {
		t.Errorf("the converted seed did not apply its 8 steps:\n%s", out)
	}
}
