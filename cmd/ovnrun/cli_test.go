package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The command line as cobra builds it: help, version, completion.

// commandPaths lists every command of the tree under cmd that help shows,
// as the arguments naming it.
func commandPaths(cmd *cobra.Command, path []string) [][]string {
	out := [][]string{path}
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			out = append(out, commandPaths(c, append(slices.Clone(path), c.Name()))...)
		}
	}
	return out
}

// TestHelpListsEveryFlag runs --help and help for every command: both
// print the same on stdout and exit 0, and the text names every flag the
// command parses, with its shorthand.
func TestHelpListsEveryFlag(t *testing.T) {
	root := newRootCommand(&cli{args: []string{}, stdout: io.Discard, stderr: io.Discard})
	paths := commandPaths(root, nil)
	if len(paths) < 12 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(strings.Join(append([]string{"ovnrun"}, path...), " "), func(t *testing.T) {
			cmd, _, err := root.Find(path)
			if err != nil {
				t.Fatal(err)
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			help, stderr, code := ovnrun(t, append(slices.Clone(path), "--help")...)
			if code != exitOK || stderr != "" || !strings.Contains(help, "Usage:\n") {
				t.Fatalf("--help: exit %d, stderr %q, stdout:\n%s", code, stderr, help)
			}
			if other, stderr, code := ovnrun(t, append([]string{"help"}, path...)...); code != exitOK || stderr != "" || other != help {
				t.Errorf("help %s: exit %d, stderr %q, and a text that differs from --help's:\n%s", strings.Join(path, " "), code, stderr, other)
			}
			check := func(f *pflag.Flag) {
				name := "    --" + f.Name
				if f.Shorthand != "" {
					name = "-" + f.Shorthand + ", --" + f.Name
				}
				if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `( |$)`).MatchString(help) {
					t.Errorf("the help lacks the flag %s:\n%s", strings.TrimSpace(name), help)
				}
			}
			cmd.LocalFlags().VisitAll(check)
			cmd.InheritedFlags().VisitAll(check)
		})
	}
}

func TestHelpMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "grpah"}, `help: unknown command "grpah": did you mean "graph"?`},
		{[]string{"help", "lab", "dwon"}, `help: unknown command "dwon": did you mean "down"?`},
		{[]string{"version", "extra"}, `unknown command "extra"`},
		{[]string{"-q", "-v", "--dry-run", "--offline", "runbooks/dgp.star"}, "-q and -v cannot be combined"},
	} {
		stdout, stderr, code := ovnrun(t, tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.HasSuffix(stderr, "Run 'ovnrun --help' for usage.\n") {
			t.Errorf("ovnrun %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, exitUsage, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	want := versionText(bi, ok) + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if stdout, stderr, code := ovnrun(t, args...); code != exitOK || stdout != want || stderr != "" {
			t.Errorf("ovnrun %s: exit %d, stdout %q, stderr %q; want %q", args[0], code, stdout, stderr, want)
		}
	}
	build := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ovnrun/ovnrun", Version: version}}
		for i := 0; i < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{build("v1.2.0", "vcs.revision", rev, "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "false"),
			"ovnrun v1.2.0, revision " + rev + ", committed 2026-01-02T03:04:05Z, go1.26.8"},
		{build("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "ovnrun (devel), revision " + rev + "+dirty, go1.26.8"},
		{build(""), "ovnrun (devel), revision unknown (built without VCS information), go1.26.8"},
	} {
		if got := versionText(tc.bi, true); got != tc.want {
			t.Errorf("versionText = %q, want %q", got, tc.want)
		}
	}
}

// complete asks ovnrun for completions as the shell scripts do, and returns
// them (without descriptions) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	stdout, stderr, code := ovnrun(t, append([]string{"__complete"}, args...)...)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitOK || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
	}
	var got []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		got = append(got, name)
	}
	return got, lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	steps := []string{"topology", "vms", "compute", "server", "outside", "verify"}
	var builtinsL []string
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range reg.All() {
		if strings.HasPrefix(b.Name, "l") {
			builtinsL = append(builtinsL, b.Name)
		}
	}
	// The standard library's functions are documented too.
	builtinsL = append(builtinsL, "link")
	const noFiles, starFiles = ":4", ":8"
	for _, tc := range []struct {
		args      []string
		want      []string
		directive string
	}{
		// Subcommands, and runbooks.
		{[]string{""}, []string{"apply", "completion", "convert", "doc", "get", "graph", "help", "import", "lab", "star", "trace", "version"}, starFiles},
		{[]string{"im"}, []string{"import"}, noFiles},
		{[]string{"import", ""}, nil, noFiles}, // it reads --nb, no file
		{[]string{"import", "--in"}, []string{"--include-owned"}, noFiles},
		{[]string{"gr"}, []string{"graph"}, noFiles},
		{[]string{"lab", ""}, []string{"capture", "down", "exec", "shell", "status", "up"}, noFiles},
		{[]string{"help", "l"}, []string{"lab"}, noFiles},
		// Flags.
		{[]string{"--dry-r"}, []string{"--dry-run"}, noFiles},
		{[]string{"graph", "--fo"}, []string{"--format"}, noFiles},
		// Flag values.
		{[]string{"graph", "--format", ""}, graphFormats, noFiles},
		{[]string{"--output", ""}, []string{"text", "json"}, noFiles},
		// The runbook's steps, for --only and --from.
		{[]string{"runbooks/dgp.star", "--only", ""}, steps, noFiles},
		{[]string{"runbooks/dgp.star", "--only", "topology,"},
			[]string{"topology,vms", "topology,compute", "topology,server", "topology,outside", "topology,verify"}, noFiles},
		{[]string{"-D", "h0_address=10.0.0.1", "runbooks/dgp.star", "--from", "o"}, []string{"outside"}, noFiles},
		{[]string{"apply", "runbooks/dgp.star", "--from=v"}, []string{"vms", "verify"}, noFiles},
		{[]string{"runbooks/nope.star", "--only", ""}, nil, noFiles},
		{[]string{"cmd/ovnrun/testdata/errors/bad_mac.star", "--from", ""}, nil, noFiles},
		// Builtins and @stdlib// functions, for doc.
		{[]string{"doc", "l"}, builtinsL, noFiles},
	} {
		got, directive := complete(t, tc.args...)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) || directive != tc.directive {
			t.Errorf("__complete %q = %q %s, want %q %s", tc.args, got, directive, want, tc.directive)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		stdout, stderr, code := ovnrun(t, "completion", shell)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, "__complete") {
			t.Errorf("completion %s: exit %d, stderr %q, %d bytes", shell, code, stderr, len(stdout))
		}
	}
}

// TestColourMarkers: the plan's markers are coloured only when stdout is a
// terminal and neither --no-color nor NO_COLOR forbids it; without the
// colours, the plan is its golden text byte for byte.
func TestColourMarkers(t *testing.T) {
	defer func(f func(io.Writer) bool) { isTerminal = f }(isTerminal)
	isTerminal = func(io.Writer) bool { return true }
	golden := func(name string) string {
		data, err := os.ReadFile(filepath.Join(repoRoot, "cmd/ovnrun/testdata/golden", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	plan, _, code := ovnrun(t, "--dry-run", "--offline", "runbooks/dgp.star")
	destroy, _, _ := ovnrun(t, "--dry-run", "--offline", "--destroy", "runbooks/dgp.star")
	for _, marker := range []string{"\x1b[32m+\x1b[0m", "\x1b[36m>\x1b[0m"} {
		if code != exitOK || !strings.Contains(plan, "  "+marker+" ") {
			t.Errorf("on a terminal the plan lacks the marker %q:\n%s", marker, plan)
		}
	}
	if !strings.Contains(destroy, "  \x1b[31m-\x1b[0m ") {
		t.Errorf("on a terminal the destroy plan lacks a red -:\n%s", destroy)
	}
	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	if got := ansi.ReplaceAllString(plan, ""); got != golden("dgp.text") {
		t.Errorf("without its colours the plan differs from dgp.text:\n%s", lineDiff(golden("dgp.text"), got))
	}
	if got := ansi.ReplaceAllString(destroy, ""); got != golden("dgp.destroy.text") {
		t.Errorf("without its colours the destroy plan differs:\n%s", lineDiff(golden("dgp.destroy.text"), got))
	}
	if got, _, _ := ovnrun(t, "--dry-run", "--offline", "--no-color", "runbooks/dgp.star"); got != golden("dgp.text") {
		t.Errorf("--no-color: the plan is not its golden text:\n%s", lineDiff(golden("dgp.text"), got))
	}
	if got, _, _ := ovnrun(t, "--dry-run", "--offline", "--output", "json", "runbooks/dgp.star"); got != golden("dgp.json") {
		t.Errorf("the JSON plan on a terminal is not its golden text")
	}
	t.Setenv("NO_COLOR", "1")
	if got, _, _ := ovnrun(t, "--dry-run", "--offline", "runbooks/dgp.star"); got != golden("dgp.text") {
		t.Errorf("NO_COLOR=1: the plan is not its golden text:\n%s", lineDiff(golden("dgp.text"), got))
	}
}

// TestVersionOfGitBuild builds ovnrun in a clone of this repository, as a
// release is built, and checks that --version names the commit, then
// +dirty once a file is changed. (Go stamps no revision in a git worktree
// whose .git is a file, so the test clones; -trimpath lets the build
// reuse the cache whatever the clone's directory.)
func TestVersionOfGitBuild(t *testing.T) {
	git := func(dir string, args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	clone := filepath.Join(t.TempDir(), "ovnrun")
	git(repoRoot, "clone", "-q", "--shared", repoRoot, clone)
	head := git(clone, "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "ovnrun")
	version := func() string {
		t.Helper()
		build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/ovnrun")
		build.Dir, build.Env = clone, append(os.Environ(), "GOFLAGS=-buildvcs=true")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if got := version(); !strings.Contains(got, ", revision "+head+", committed ") {
		t.Errorf("--version of a clean build = %q, want revision %s", got, head)
	}
	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := version(); !strings.Contains(got, ", revision "+head+"+dirty, ") {
		t.Errorf("--version of a build with a changed file = %q, want revision %s+dirty", got, head)
	}
}
