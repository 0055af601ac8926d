package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `ovnrun lab shell` driven as a user at a terminal drives it: ovnrun runs
// with a pty (openPTY) for its stdin, stdout and stderr, as its controlling terminal.

// shellSession is ovnrun args running on a pty.
type shellSession struct {
	cmd    *exec.Cmd
	master *os.File
	out    bytes.Buffer // everything ovnrun wrote to the terminal
	seen   chan []byte  // what it writes, as it comes
	done   chan struct{}
}

// startOnPTY starts ovnrun args on a new pty.
func startOnPTY(t *testing.T, args ...string) *shellSession {
	t.Helper()
	master, tty := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	cmd.Dir = repoRoot
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the master reads EIO once ovnrun and its children have closed it too
	s := &shellSession{cmd: cmd, master: master, seen: make(chan []byte, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.seen)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				s.seen <- bytes.Clone(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	// A shell that never shows what a test waits for would hold the test
	// until go test's -timeout panics with no word of the terminal: before
	// that, ovnrun is killed, the terminal closes, and the test fails
	// showing what it got.
	if d, ok := t.Deadline(); ok {
		guard := time.AfterFunc(time.Until(d)*9/10, func() { cmd.Process.Kill() })
		t.Cleanup(func() { guard.Stop() })
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	return s
}

// waitFor reads the terminal until it shows want, and says whether it did
// before ovnrun closed the terminal.
func (s *shellSession) waitFor(want string) bool {
	for !strings.Contains(s.out.String(), want) {
		b, ok := <-s.seen
		if !ok {
			return false
		}
		s.out.Write(b)
	}
	return true
}

// wait waits until ovnrun exits and returns its exit status.
func (s *shellSession) wait(t *testing.T) int {
	t.Helper()
	err := s.cmd.Wait()
	for b := range s.seen {
		s.out.Write(b)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (s *shellSession) send(t *testing.T, text string) {
	t.Helper()
	if _, err := io.WriteString(s.master, text); err != nil {
		t.Fatal(err)
	}
}

// testShellOnHost runs `lab shell` on place of lab name: the shell's
// prompt names it, a command's output comes back and `exit 3` is ovnrun's
// exit status.
func testShellOnHost(t *testing.T, name, place string) {
	s := startOnPTY(t, "lab", "shell", name, place)
	prompt := "[" + name + " " + place + "]"
	if !s.waitFor(prompt) {
		t.Fatalf("lab shell %s %s showed no prompt %q: %q", name, place, prompt, s.out.String())
	}
	s.send(t, "echo $((6*7)); exit 3\n")
	code := s.wait(t)
	// The terminal echoes the line typed; only the shell writes 42, on a
	// line of its own (after bash's bracketed-paste escape, if any).
	if code != 3 || !regexp.MustCompile(`[\r\n]42\r\n`).MatchString(s.out.String()) {
		t.Errorf("lab shell %s %s: exit %d, terminal %q; want exit 3 and 42 on a line", name, place, code, s.out.String())
	}
}
