package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// confirmRunbook declares one switch with one port: an apply to an empty NB
// changes something, so it asks.
const confirmRunbook = `
def net():
    s = ls("ls1", subnet = "10.0.0.0/24")
    lsp(s, "p1", mac = "00:00:00:00:00:01", ips = ["10.0.0.1"])

step("net", net)
`

// openPTY opens a pseudo-terminal: its controlling side, where a test types,
// and the terminal a process reads as its stdin.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { control.Close() })
	fd := int(control.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pty: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return control, term
}

// confirmProcess runs ovnrun (the test binary, TestMain) on runbook against
// nb with stdin, returning its output and exit code.
func confirmProcess(t *testing.T, stdin *os.File, nb, runbook string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(append([]string{"--nb", nb, "--journal", filepath.Join(filepath.Dir(runbook), "journal")}, args...), runbook)...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &out
	err := cmd.Run()
	code := 0
	if e, ok := err.(*exec.ExitError); ok {
		code = e.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// TestConfirmApply applies to a real NB that is not an emulated lab: on a
// terminal the apply asks, and changes nothing unless the answer is "yes";
// with no terminal it is refused unless --yes, and a run with nothing to
// change, or a dry run, never asks.
func TestConfirmApply(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	runbook := filepath.Join(t.TempDir(), "confirm.star")
	if err := os.WriteFile(runbook, []byte(confirmRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	switches := func() string {
		out, err := nb.NBCtl("--bare", "--columns=name", "list", "Logical_Switch")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	journal := filepath.Join(filepath.Dir(runbook), "journal")
	unchanged := func(what string) {
		t.Helper()
		if got := switches(); got != "" {
			t.Fatalf("%s: the NB has switches %q, want none", what, got)
		}
		if _, err := os.Stat(journal); !os.IsNotExist(err) {
			t.Fatalf("%s: a journal was written (%v)", what, err)
		}
	}

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	out, code := confirmProcess(t, devNull, nb.Sock, runbook)
	if code != exitUsage || !strings.Contains(out, "no terminal to ask on: pass --yes") || !strings.Contains(out, "the NB "+nb.Sock) {
		t.Errorf("no terminal, no --yes: exit %d, want %d and a refusal naming --yes and the NB:\n%s", code, exitUsage, out)
	}
	unchanged("no terminal")

	for _, answer := range []string{"no", "y", ""} {
		control, term := openPTY(t)
		fmt.Fprintf(control, "%s\n", answer)
		out, code := confirmProcess(t, term, nb.Sock, runbook)
		if code != exitFailure || !strings.Contains(out, confirmPrompt) || !strings.Contains(out, "+ logical_switch ls1") ||
			!strings.Contains(out, "the answer was not 'yes'; nothing was changed") {
			t.Errorf("answer %q: exit %d, want %d after the plan and the question:\n%s", answer, code, exitFailure, out)
		}
		unchanged(fmt.Sprintf("answer %q", answer))
	}
	if out, code := confirmProcess(t, devNull, nb.Sock, runbook, "--dry-run"); code != exitOK || strings.Contains(out, confirmPrompt) {
		t.Errorf("--dry-run: exit %d, want 0 without a question:\n%s", code, out)
	}

	control, term := openPTY(t)
	fmt.Fprintln(control, "yes")
	out, code = confirmProcess(t, term, nb.Sock, runbook)
	if code != exitOK || !strings.Contains(out, confirmPrompt) || switches() != "ls1" {
		t.Fatalf("answer yes: exit %d, switches %q; want 0 and ls1:\n%s", code, switches(), out)
	}
	// Nothing to change: no question, also with no terminal.
	if out, code := confirmProcess(t, devNull, nb.Sock, runbook); code != exitOK || strings.Contains(out, confirmPrompt) {
		t.Errorf("no-op apply: exit %d, want 0 without a question:\n%s", code, out)
	}
	// --yes applies with no terminal: a destroy, here.
	if out, code := confirmProcess(t, devNull, nb.Sock, runbook, "--destroy"); code != exitUsage || switches() != "ls1" {
		t.Errorf("--destroy with no terminal: exit %d, want %d and ls1 kept:\n%s", code, exitUsage, out)
	}
	if out, code := confirmProcess(t, devNull, nb.Sock, runbook, "--destroy", "--yes"); code != exitOK || switches() != "" {
		t.Errorf("--destroy --yes: exit %d, switches %q; want 0 and none:\n%s", code, switches(), out)
	}
}
