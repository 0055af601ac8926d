package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// The lock tests run a second process: this test binary again, with
// lockHelperEnv set to "<mode> <journal path>", running TestLockHelperProcess.
const lockHelperEnv = "OVNRUN_TEST_LOCK_HELPER"

// TestLockHelperProcess is the second process, not a test. Modes:
//
//	hold  take the lock, say "ready", hold it until stdin closes
//	run   also open the journal, begin a run and record a0, then as hold
//	exit  exit at once (a pid that is certainly dead once waited for)
func TestLockHelperProcess(t *testing.T) {
	mode, path, ok := strings.Cut(os.Getenv(lockHelperEnv), " ")
	if !ok {
		t.Skip("helper process for the lock tests")
	}
	if mode == "exit" {
		os.Exit(0)
	}
	l, err := AcquireLock(LockPath(path))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if mode == "run" {
		j, err := OpenJournal(path)
		if err == nil {
			_, err = j.Begin("lab.star")
		}
		if err == nil {
			err = j.Record(journalRec("a0", "h", interp.OpCreate, map[string]string{"uuid": "u0"}))
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	l.Release()
	os.Exit(0)
}

type lockHelper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startLockHelper starts the helper process and waits until it is ready.
func startLockHelper(t *testing.T, mode, journal string) *lockHelper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+mode+" "+journal)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &lockHelper{cmd, stdin}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	return h
}

func lockHeldBy(t *testing.T, path string, pid int) {
	t.Helper()
	l, err := AcquireLock(path)
	var locked *LockedError
	if !errors.As(err, &locked) {
		l.Release()
		t.Fatalf("AcquireLock = %v, want a *LockedError", err)
	}
	if locked.Holder == nil || locked.Holder.Pid != pid {
		t.Fatalf("holder = %+v, want pid %d", locked.Holder, pid)
	}
	if want := fmt.Sprintf("this runbook is being applied by another ovnrun (pid %d on ", pid); !strings.HasPrefix(err.Error(), want) ||
		!strings.HasSuffix(err.Error(), path+" is locked; wait for it to finish or stop it") {
		t.Errorf("err = %v", err)
	}
	if alive, known := locked.Holder.Alive(); !alive || !known {
		t.Errorf("holder alive = %v, %v", alive, known)
	}
}

// flock locks belong to open file descriptions: a second open of the file in
// the same process conflicts with the first.
func TestLockTwiceInOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.lock")
	l, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Previous(); ok {
		t.Errorf("a new lock file has a previous holder")
	}
	lockHeldBy(t, path, os.Getpid())
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l, err = AcquireLock(path)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	defer l.Release()
	if h, ok := l.Previous(); ok {
		t.Errorf("a released lock names a previous holder: %+v", h)
	}
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "j")
	h := startLockHelper(t, "hold", journal)
	lockHeldBy(t, LockPath(journal), h.cmd.Process.Pid)
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err := AcquireLock(LockPath(journal))
	if err != nil {
		t.Fatalf("after the holder released: %v", err)
	}
	defer l.Release()
	if _, ok := l.Previous(); ok {
		t.Errorf("clean release left a previous holder")
	}
}

// A run killed with SIGKILL: the kernel drops its lock, its lock file and
// journal remain, and the next run is told what happened and what to do.
func TestLockAndJournalAfterSIGKILL(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "j")
	h := startLockHelper(t, "run", journal)
	pid := h.cmd.Process.Pid
	lockHeldBy(t, LockPath(journal), pid)
	h.cmd.Process.Signal(syscall.SIGKILL)
	h.cmd.Wait() // reaped: a zombie would still answer kill(pid, 0)

	l, err := AcquireLock(LockPath(journal))
	if err != nil {
		t.Fatalf("lock of a killed process: %v", err)
	}
	defer l.Release()
	prev, ok := l.Previous()
	if alive, known := prev.Alive(); !ok || prev.Pid != pid || alive || !known {
		t.Errorf("Previous = %+v, %v; alive %v, %v", prev, ok, alive, known)
	}
	j, err := OpenJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	err = CheckPreviousRun(j, l)
	var ir *InterruptedRunError
	if !errors.As(err, &ir) || ir.Run.Pid != pid {
		t.Fatalf("CheckPreviousRun = %v", err)
	}
	want := fmt.Sprintf("a previous run (pid %d on %s, started %s) died without finishing; its journal %s is intact; run with --resume to continue",
		pid, ir.Run.Host, humanTime(ir.Run.Start), journal)
	if err.Error() != want {
		t.Errorf("err = %s\nwant  %s", err, want)
	}
	if got := j.Outputs(); got["a0"]["uuid"] != "u0" {
		t.Errorf("outputs of the killed run = %v", got)
	}
	// Once a resumed run ends, the dead one is history for the next.
	j.Begin("lab.star")
	j.End(RunOK, nil)
	j.Close()
	if j, err = OpenJournal(journal); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := CheckPreviousRun(j, l); err != nil {
		t.Errorf("after a run that ended: %v", err)
	}
}

// A lock file naming a process that no longer exists: the lock is free
// (flock went with the process) and the dead holder is reported.
func TestStaleLockFileOfDeadProcess(t *testing.T) {
	dead := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	dead.Env = append(os.Environ(), lockHelperEnv+"=exit -")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	started := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	stale, _ := json.Marshal(LockHolder{Pid: dead.Process.Pid, Host: host, Started: started})
	path := filepath.Join(t.TempDir(), "j.lock")
	os.WriteFile(path, stale, 0o644)
	l, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	prev, ok := l.Previous()
	if !ok || prev.Pid != dead.Process.Pid || !prev.Started.Equal(started) {
		t.Fatalf("Previous = %+v, %v", prev, ok)
	}
	if alive, known := prev.Alive(); alive || !known {
		t.Errorf("dead pid %d: alive = %v, known = %v", prev.Pid, alive, known)
	}
	if alive, known := (LockHolder{Pid: prev.Pid, Host: host + ".elsewhere"}).Alive(); alive || known {
		t.Errorf("holder on another host: alive = %v, known = %v", alive, known)
	}
	// The file now names this process.
	data, _ := os.ReadFile(path)
	var me LockHolder
	if json.Unmarshal(data, &me) != nil || me.Pid != os.Getpid() || me.Host != host {
		t.Errorf("lock file = %s", data)
	}
}

func TestCheckPreviousRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(j *Journal)
		want  string // "" for no error
	}{
		{"new journal", func(*Journal) {}, ""},
		{"last run ended", func(j *Journal) { j.Begin("x"); j.End(RunFailed, errors.New("boom")) }, ""},
		{"last run never ended", func(j *Journal) { j.Begin("x") }, "died without finishing"},
		{"ended, then one that did not", func(j *Journal) {
			j.Begin("x")
			j.End(RunOK, nil)
			j.Close()
			j2, _ := OpenJournal(j.Path())
			j2.Begin("x")
			j2.Close()
		}, "died without finishing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			j, err := OpenJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(j)
			j.Close()
			l, err := AcquireLock(LockPath(path))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			j, _ = OpenJournal(path)
			defer j.Close()
			err = CheckPreviousRun(j, l)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckPreviousRunNeedsTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, _ := OpenJournal(path)
	defer j.Close()
	j.Begin("x")
	l, _ := AcquireLock(LockPath(path))
	l.Release()
	for _, lk := range []*Lock{nil, l} {
		if err := CheckPreviousRun(j, lk); err == nil || !strings.Contains(err.Error(), "needs its lock held") {
			t.Errorf("err = %v", err)
		}
	}
}
