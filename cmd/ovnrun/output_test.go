package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestQuietAndVerbose applies the topology step of runbooks/dgp.star to a
// real NB three ways: -q prints only the plan's summary and the final line,
// a plain run the whole plan and progress, -v that and a debug log on stderr.
func TestQuietAndVerbose(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	apply := func(flags ...string) (string, string) {
		t.Helper()
		nb := daemons.StartNB(t)
		args := append([]string{"--yes", "--nb", nb.Sock, "--journal", filepath.Join(t.TempDir(), "journal"), "--only", "topology"}, flags...)
		stdout, stderr, code := ovnrun(t, append(args, "runbooks/dgp.star")...)
		if code != exitOK {
			t.Fatalf("ovnrun %s: exit %d\n%s%s", strings.Join(flags, " "), code, stdout, stderr)
		}
		return stdout, stderr
	}
	stdout, stderr := apply("-q")
	quiet := regexp.MustCompile(`^Plan: 20 to add, 0 to change, 0 to destroy\.\nApplied 1 step\(s\) in \S+: 20 created\.\n$`)
	if !quiet.MatchString(stdout) || stderr != "" {
		t.Errorf("-q: stdout %q, stderr %q; want the plan's summary and the final line", stdout, stderr)
	}

	stdout, stderr = apply()
	for _, want := range []string{"\n  + logical_switch ls1  (runbooks/dgp.star:", "\nStep topology: 20 created (", "\nTiming:\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("a plain run lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "" || strings.Contains(stdout, "level=DEBUG") {
		t.Errorf("a plain run printed a debug log: stderr %q", stderr)
	}

	verbose, stderr := apply("-v")
	// Durations differ from run to run, and so does the padding of the
	// timing table that aligns them.
	if strip := regexp.MustCompile(` *\d+(\.\d+)?(ms|µs|s)`); strip.ReplaceAllString(verbose, " T") != strip.ReplaceAllString(stdout, " T") {
		t.Errorf("-v changed stdout:\n%s", lineDiff(stdout, verbose))
	}
	for _, want := range []string{`level=DEBUG msg="nb connected" endpoint=unix:`, `level=DEBUG msg=planned step=topology driver=nb actions=20 took=`,
		`level=DEBUG msg="applied batch" target=nb driver=nb changes=20 took=`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-v: stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestQuietWriter: what -q keeps of a run that fails, whose error takes
// several lines.
func TestQuietWriter(t *testing.T) {
	var b strings.Builder
	q := &quietWriter{w: &b}
	for _, chunk := range []string{
		"Runbook r.star\n  nb = \"unix:nb\"\n\nStep a (r.star:3:1)\n  + logical_switch ls1  (r.star:4:1)\n",
		"\n2 command(s) will run.\nPlan: 1 to add, 0 to change, 0 to destroy.\n\n",
		"  [h0] sh: ran (1ms)\nStep a: 1 created (2ms)\nStep b: fa", "iled after 3ms\n\nTiming:\n  a  2ms  1 created\n",
		"Stopped after 2 step(s), in 5ms.\n",
		"ovnrun: step \"b\": h0: sh: exit status 1\n  stderr: no such file\nthe journal j records what was done\n",
	} {
		q.Write([]byte(chunk))
	}
	want := "2 command(s) will run.\nPlan: 1 to add, 0 to change, 0 to destroy.\nStep b: failed after 3ms\nStopped after 2 step(s), in 5ms.\n" +
		"ovnrun: step \"b\": h0: sh: exit status 1\n  stderr: no such file\nthe journal j records what was done\n"
	if b.String() != want {
		t.Errorf("-q kept:\n%s\nwant:\n%s", b.String(), want)
	}
}
