package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLineMistakes checks that every kind of command-line mistake
// exits with the usage status, says what is wrong, and ends with where the
// usage is; and that nothing is printed on stdout or written.
func TestCommandLineMistakes(t *testing.T) {
	t.Setenv("OVNRUN_LAB_DIR", filepath.Join(t.TempDir(), "labs"))
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string // in stderr, before the hint
		help string // the command whose --help the hint names
	}{
		// Unknown commands, misspelt or not, before or after flags.
		{[]string{"grpah", "runbooks/dgp.star"}, `unknown command "grpah": did you mean "graph"?`, "ovnrun"},
		{[]string{"--dry-run", "tarce", "runbooks/dgp.star", "a", "b"}, `unknown command "tarce": did you mean "trace"?`, "ovnrun"},
		{[]string{"frobnicate"}, `unknown command "frobnicate", and no runbook of that name`, "ovnrun"},
		{[]string{"lab", "dwon"}, `lab: unknown command "dwon": did you mean "down"?`, "ovnrun lab"},
		{[]string{"lab", "frob"}, `lab: unknown command "frob": want up, down, status, exec, shell or capture`, "ovnrun lab"},
		// Unknown flags, in every command.
		{[]string{"--dry-rn", "runbooks/dgp.star"}, "unknown flag: --dry-rn: did you mean --dry-run?", "ovnrun"},
		{[]string{"--frobnicate", "runbooks/dgp.star"}, "unknown flag: --frobnicate", "ovnrun"},
		{[]string{"graph", "--fromat", "svg", "runbooks/dgp.star"}, "unknown flag: --fromat: did you mean --format?", "ovnrun graph"},
		{[]string{"trace", "--frob", "runbooks/dgp.star", "a", "b"}, "unknown flag: --frob", "ovnrun trace"},
		{[]string{"lab", "up", "--frob", "runbooks/dgp.star"}, "unknown flag: --frob", "ovnrun lab"},
		{[]string{"doc", "--markdwon"}, "unknown flag: --markdwon: did you mean --markdown?", "ovnrun doc"},
		// -D naming a variable the runbook never reads, in every command
		// that evaluates a runbook.
		{[]string{"--dry-run", "--offline", "-D", "h0_adress=10.0.0.1", "runbooks/dgp.star"},
			"-D h0_adress: the runbook reads no such variable: did you mean h0_address?", "ovnrun"},
		{[]string{"graph", "-D", "nope=1", "runbooks/dgp.star"}, "-D nope: the runbook reads no such variable", "ovnrun"},
		{[]string{"trace", "-D", "nope=1", "runbooks/dgp.star", "h1/v0", "172.16.3.253"}, "-D nope: the runbook reads no such variable", "ovnrun"},
		{[]string{"lab", "up", "-D", "nope=1", "runbooks/dgp.star"}, "-D nope: the runbook reads no such variable", "ovnrun"},
		// Missing arguments.
		{nil, "no runbook given: ovnrun [flags] RUNBOOK.star", "ovnrun"},
		{[]string{"--dry-run", "--offline"}, "no runbook given", "ovnrun"},
		{[]string{"graph"}, "graph: want a runbook, or --nb ADDR", "ovnrun graph"},
		{[]string{"trace", "runbooks/dgp.star"}, "trace: want RUNBOOK SRC DST, got 1 arguments", "ovnrun trace"},
		{[]string{"lab", "up"}, "lab up takes one runbook", "ovnrun lab"},
		{[]string{"lab"}, "lab: want up, down, status, exec, shell or capture", "ovnrun lab"},
		{[]string{"doc", "ls", "lr"}, "doc: want at most one builtin, got 2 arguments", "ovnrun doc"},
		{[]string{"get"}, "get: want one runbook, got 0 arguments", "ovnrun get"},
		{[]string{"import"}, "import: want --nb ADDR, the Northbound database to read", "ovnrun import"},
		{[]string{"import", "--nb", "unix:/nonexistent", "lab.star"}, `import: takes no arguments, got "lab.star"`, "ovnrun import"},
		{[]string{"import", "--nbb", "unix:/nonexistent"}, "unknown flag: --nbb: did you mean --nb?", "ovnrun import"},
		// Other mistakes.
		{[]string{"--dry-run", "--offline", "--only", "nosuch", "runbooks/dgp.star"}, `no step "nosuch"`, "ovnrun"},
		{[]string{"--dry-run", "--wait", "always", "--nb", "unix:/nonexistent", "runbooks/dgp.star"}, `--wait "always": want sb, hv or none`, "ovnrun"},
		{[]string{"--dry-run", "--parallel", "-1", "--nb", "unix:/nonexistent", "runbooks/dgp.star"}, `--parallel -1: want at least 1`, "ovnrun"},
		{[]string{"doc", "nosuch"}, `doc: no builtin "nosuch"`, "ovnrun doc"},
		// graph never writes a file of one format under another's name.
		{[]string{"graph", "-o", out + "/dgp.jpeg", "runbooks/dgp.star"}, "-o " + out + "/dgp.jpeg: ovnrun draws no .jpeg files", "ovnrun graph"},
		{[]string{"graph", "--format", "dot", "-o", out + "/dgp.pdf", "runbooks/dgp.star"}, "-o " + out + "/dgp.pdf is a pdf file, not dot", "ovnrun graph"},
		{[]string{"graph", "--format", "jpeg", "runbooks/dgp.star"}, `--format "jpeg": want dot, mermaid, svg, png, pdf`, "ovnrun graph"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := ovnrun(t, tc.args...)
			want := "ovnrun: " + tc.want
			hint := "\nRun '" + tc.help + " --help' for usage.\n"
			if code != exitUsage || !strings.HasPrefix(stderr, "ovnrun: ") || !strings.Contains(stderr, tc.want) ||
				!strings.HasSuffix(stderr, hint) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, nothing on stdout, and a stderr with %q ending %q",
					code, stdout, stderr, exitUsage, want, hint)
			}
		})
	}
	if files, _ := os.ReadDir(out); len(files) > 0 {
		t.Errorf("refused graphs were written: %v", files)
	}
}

// TestRunbookArgument: a runbook named without .star is one when the file
// exists, and a missing .star file is an unreadable runbook (exit 3), not an
// unknown command.
func TestRunbookArgument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab")
	if err := os.WriteFile(path, []byte(`ls("ls1")`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", path); code != exitOK || !strings.Contains(stdout, "+ logical_switch ls1") {
		t.Errorf("runbook %s: exit %d, stderr %q", path, code, stderr)
	}
	if _, stderr, code := ovnrun(t, "--dry-run", "--offline", "runbooks/nope.star"); code != exitRunbook || !strings.Contains(stderr, "cannot read runbook") {
		t.Errorf("runbooks/nope.star: exit %d, stderr %q", code, stderr)
	}
}
