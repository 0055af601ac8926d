package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
)

// interruptWithin is how soon ovnrun must exit after SIGINT or SIGTERM.
const interruptWithin = time.Second

// startOvnrun starts the test binary as ovnrun (see TestMain) with stderr
// on a pipe, which the caller reads.
func startOvnrun(t *testing.T, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stderr
}

// interrupt sends sig to cmd and waits for it to exit, returning how long
// that took, its exit status and the rest of its stderr.
func interrupt(t *testing.T, cmd *exec.Cmd, stderr io.Reader, sig syscall.Signal) (time.Duration, int, string) {
	t.Helper()
	t0 := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	cmd.Wait()
	took := time.Since(t0)
	t.Logf("%v: exited %s after the signal", sig, took)
	return took, cmd.ProcessState.ExitCode(), string(rest)
}

// TestInterruptEvaluation signals ovnrun while its runbook loops for ever
// (no step limit): it must stop at once, saying where and that nothing
// was changed.
func TestInterruptEvaluation(t *testing.T) {
	runbook := filepath.Join(t.TempDir(), "spin.star")
	src := "def spin():\n    print(\"spinning\")\n    for i in range(1 << 62):\n        pass\n\nspin()\n"
	if err := os.WriteFile(runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, stderr := startOvnrun(t, "--max-steps", "0", "--dry-run", "--offline", runbook)
			r := bufio.NewReader(stderr)
			if line, err := r.ReadString('\n'); line != "spinning\n" {
				t.Fatalf("got %q, %v before the loop, want spinning", line, err)
			}
			took, code, out := interrupt(t, cmd, r, sig)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if took > interruptWithin {
				t.Errorf("took %s to exit, want at most %s", took, interruptWithin)
			}
			if want := "ovnrun: interrupted while evaluating " + runbook + " at " + runbook + ":3:"; !strings.Contains(out, want) || !strings.Contains(out, "nothing was changed") {
				t.Errorf("stderr lacks %q and nothing was changed:\n%s", want, out)
			}
		})
	}
}

// interruptRunbook writes one NB step, then runs a command on this machine
// that waits until the test creates GO (it records that it started in
// STARTED, and that it finished in DONE, its guard), then writes another.
const interruptRunbook = `
me = host("me", local = True)

def switches(lo, hi):
    for i in range(lo, hi):
        s = ls("ls%d" % i)
        lsp(s, "p%d" % i)

step("one", lambda: switches(0, 5))
step("wait", lambda: sh(me, "touch STARTED; while [ ! -e GO ]; do sleep 0.01; done; touch DONE", creates = "DONE", name = "wait"))
step("two", lambda: switches(5, 10))
`

// TestInterruptApply sends SIGINT while an apply against a real NB runs a
// long command: ovnrun must stop within a second, end the journal's run as
// interrupted, release the lock, and say how to resume; the resumed run
// then finishes the lab.
func TestInterruptApply(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	dir := t.TempDir()
	runbook := filepath.Join(dir, "nap.star")
	src := strings.ReplaceAll(interruptRunbook, `"touch STARTED; while [ ! -e GO ]; do sleep 0.01; done; touch DONE", creates = "DONE"`,
		`"cd `+dir+` && touch STARTED; while [ ! -e GO ]; do sleep 0.01; done; touch DONE", creates = "`+dir+`/DONE"`)
	if err := os.WriteFile(runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal")
	args := []string{"--yes", "--nb", nb.Sock, "--journal", journal, runbook}

	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for started := false; !started; {
		select {
		case <-exited:
			t.Fatalf("ovnrun ended before the command started:\n%s", errb.String())
		case <-time.After(5 * time.Millisecond):
		}
		_, err := os.Stat(filepath.Join(dir, "STARTED"))
		started = err == nil
	}
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	<-exited
	took := time.Since(t0)
	t.Logf("SIGINT: exited %s after the signal", took)
	out := errb.String()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure {
		t.Errorf("exit %d, want %d\n%s", code, exitFailure, out)
	}
	if took > interruptWithin {
		t.Errorf("took %s to exit, want at most %s", took, interruptWithin)
	}
	if want := "the journal " + journal + " records what was done: run again with --resume to continue"; !strings.Contains(out, "ovnrun: interrupted: ") || !strings.Contains(out, want) {
		t.Errorf("stderr lacks %q after ovnrun: interrupted:\n%s", want, out)
	}

	j, err := engine.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if last, ok := j.LastRun(); !ok || last.Status != engine.RunInterrupted {
		t.Errorf("journal's last run: %+v, want status %s", last, engine.RunInterrupted)
	}
	if _, ok := j.Unfinished()["sh/me/wait"]; !ok {
		t.Errorf("journal does not record sh/me/wait as started and unfinished: %v", j.Unfinished())
	}
	lock, err := engine.AcquireLock(engine.LockPath(journal))
	if err != nil {
		t.Fatalf("lock still held: %v", err)
	}
	if h, held := lock.Previous(); held {
		t.Errorf("lock was not released: it names %v", h)
	}
	lock.Release()

	if err := os.WriteFile(filepath.Join(dir, "GO"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resume := exec.Command(os.Args[0], append([]string{"--resume"}, args...)...)
	resume.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	if b, err := resume.CombinedOutput(); err != nil {
		t.Fatalf("--resume: %v\n%s", err, b)
	}
	got, err := nb.NBCtl("--format=csv", "--no-headings", "--columns=name", "list", "Logical_Switch")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(got)); n != 10 {
		t.Errorf("after --resume the NB has %d switches, want 10:\n%s", n, got)
	}
}
