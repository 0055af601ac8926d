package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

func TestByteSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{"512MiB", 512 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"1000000", 1e6, false},
		{"100B", 100, false},
		{"3MB", 3e6, false},
		{"0", 0, false},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"1PiB", 0, true},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if (err != nil) != tc.err || !tc.err && uint64(b) != tc.want {
			t.Errorf("Set(%q) = %d, %v; want %d, error %v", tc.in, b, err, tc.want, tc.err)
		}
	}
	if got := interp.FormatBytes(interp.DefaultMaxMemory); got != "1GiB" {
		t.Errorf("default --max-memory shows as %q, want 1GiB", got)
	}
}

// evalProcess runs ovnrun --dry-run --offline on runbook in a process of
// its own and returns its stderr, exit status and peak resident memory.
func evalProcess(t *testing.T, runbook string, args ...string) (stderr string, code int, maxRSS int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(append([]string{"--dry-run", "--offline"}, args...), runbook)...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return errb.String(), cmd.ProcessState.ExitCode(), ru.Maxrss << 10 // KiB on Linux
}

// TestEvaluationMemoryLimit runs a runbook that grows to four times
// --max-memory: the watchdog must stop it with an error at its position,
// and the process must stay well under what the runbook would take.
func TestEvaluationMemoryLimit(t *testing.T) {
	const limit = 64 << 20
	runbook := "testdata/errors/grow_memory.star"
	tiny := filepath.Join(t.TempDir(), "tiny.star")
	if err := os.WriteFile(tiny, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, code, base := evalProcess(t, tiny)
	if code != exitOK {
		t.Fatalf("tiny runbook: exit %d", code)
	}
	stderr, code, peak := evalProcess(t, runbook, "--max-memory", "64MiB")
	t.Logf("peak RSS %.1f MiB (a process evaluating nothing: %.1f MiB; limit 64 MiB)", float64(peak)/(1<<20), float64(base)/(1<<20))
	if code != exitRunbook {
		t.Errorf("exit %d, want %d", code, exitRunbook)
	}
	// Starlark sees the cancellation at its next step: in the loop's body
	// (line 6) or at its next turn (line 5).
	if !strings.Contains(stderr, runbook+":6:") && !strings.Contains(stderr, runbook+":5:") {
		t.Errorf("stderr names neither line of the loop that grows (%s:5 or :6):\n%s", runbook, stderr)
	}
	for _, w := range []string{"over the limit of 64MiB (--max-memory raises it)", runbook + ":8:5: in <toplevel>"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	// Unstopped, the runbook reaches base + 4*limit.
	if raceEnabled {
		t.Log("peak RSS not checked: the race detector's shadow memory grows with the heap")
	} else if peak > base+2*limit {
		t.Errorf("peak RSS %d bytes, want at most %d (the process's own %d + twice the limit)", peak, base+2*limit, base)
	}
}
