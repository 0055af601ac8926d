package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/testtime"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":          "''",
		"ovs-vsctl": "ovs-vsctl",
		"my vm":     "'my vm'",
		"it's":      `'it'\''s'`,
		"a;b":       "'a;b'",
		"$HOME":     "'$HOME'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestLocalRun(t *testing.T) {
	ctx := context.Background()
	l := NewLocal("me")
	names := []string{"my vm", "it's", `say "hi"`, "a;rm -rf /", "$HOME", "tab\there"}
	r, err := l.Run(ctx, Argv(append([]string{"printf", "%s\\n"}, names...)...))
	if err != nil || r.Err() != nil {
		t.Fatalf("run: %v %v", err, r.Err())
	}
	if got, want := r.Stdout, strings.Join(names, "\n")+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	r, err = l.Run(ctx, Script("echo out; echo err >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	var exit *ExitError
	if r.Status != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" || !errors.As(r.Err(), &exit) {
		t.Errorf("result = %+v", r)
	}
	if msg := r.Err().Error(); !strings.Contains(msg, "me: `echo out; echo err >&2; exit 3` exited with status 3") ||
		!strings.Contains(msg, "stderr:\n    err") {
		t.Errorf("error = %s", msg)
	}
	if r, err := l.Run(ctx, Argv("no-such-command-ovnrun")); err != nil || r.Status != 127 {
		t.Errorf("missing command: %+v, %v", r, err)
	}
}

// TestLocalTimeoutKillsGroup checks that a timeout kills what the command
// started, not only the shell.
func TestLocalTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// Killing the group and reaping the shell cost about what running a
	// short command does.
	cost := testtime.Measure(t, "a short local command", func() {
		if _, err := NewLocal("me").Run(context.Background(), Script("true & wait")); err != nil {
			t.Fatal(err)
		}
	})
	start := time.Now()
	_, err := NewLocal("me").Run(context.Background(),
		Script("sleep 600 & echo $! > "+pidFile+"; wait").WithTimeout(300*time.Millisecond))
	took := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v after %s, want a timeout", err, took)
	}
	cost.Within(t, "timed out", took, 300*time.Millisecond)
	if !strings.Contains(err.Error(), "did not finish within 300ms and was killed") {
		t.Errorf("error = %v", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	waitGone(t, pid)
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d survived the timeout", pid)
}

func TestLocalDialUnix(t *testing.T) {
	_, err := NewLocal("me").DialUnix(context.Background(), filepath.Join(t.TempDir(), "none.sock"))
	if !errors.Is(err, ErrNoSocket) {
		t.Errorf("err = %v, want ErrNoSocket", err)
	}
}
