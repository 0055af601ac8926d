package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// One apply of a runbook at a time: the journal has a lock file beside it,
// held with flock(2) for the whole run. The kernel releases a flock when its
// holder dies, however it dies, so a lock is never left held by a dead
// process. The file also says who holds it (pid, host, start time), for the
// error a second apply gets; a clean release empties it, so content found by
// the next holder means the previous one died while holding it.
//
// The file is never removed: removing it would let a process that opened the
// old file lock it while another locks a new one.

// LockPath returns the lock file of the journal at journal.
func LockPath(journal string) string { return journal + ".lock" }

// LockHolder is what a lock file says about the process holding it.
type LockHolder struct {
	Pid     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

func (h LockHolder) String() string {
	return fmt.Sprintf("pid %d on %s, started %s", h.Pid, h.Host, humanTime(h.Started))
}

// Alive reports whether the holder's process still exists. known is false
// when that cannot be told: the holder ran on another host.
func (h LockHolder) Alive() (alive, known bool) {
	if host, _ := os.Hostname(); h.Pid <= 0 || host != h.Host {
		return false, false
	}
	err := syscall.Kill(h.Pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM), true
}

// Lock is a held lock. Release it when the run ends.
type Lock struct {
	path string
	f    *os.File
	prev *LockHolder
}

// LockedError says that another process holds the lock.
type LockedError struct {
	Path   string
	Holder *LockHolder // nil if the holder has not written itself yet
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder != nil {
		who = "another ovnrun (" + e.Holder.String() + ")"
	}
	return fmt.Sprintf("this runbook is being applied by %s: %s is locked; wait for it to finish or stop it", who, e.Path)
}

// AcquireLock takes the lock at path without waiting, creating the file if
// needed. If another process (or another open file in this one) holds it,
// the error is a *LockedError naming the holder.
func AcquireLock(path string) (*Lock, error) {
	// Go opens files close-on-exec, so a command ovnrun starts does not
	// inherit the lock and keep it after ovnrun dies.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, Holder: holder}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &Lock{path: path, f: f, prev: readHolder(f)}
	host, _ := os.Hostname()
	me, _ := json.Marshal(LockHolder{Pid: os.Getpid(), Host: host, Started: time.Now()})
	if err := l.rewrite(append(me, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// readHolder returns the holder a lock file names, or nil if it is empty or
// unreadable (a holder that died while writing it).
func readHolder(f *os.File) *LockHolder {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	var h LockHolder
	if n == 0 || json.Unmarshal(buf[:n], &h) != nil {
		return nil
	}
	return &h
}

func (l *Lock) rewrite(content []byte) error {
	err := l.f.Truncate(0)
	if err == nil && len(content) > 0 {
		_, err = l.f.WriteAt(content, 0)
	}
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	return nil
}

// Previous returns the holder that the lock file named when this process
// took the lock: a process that died while holding it (or whose release did
// not reach the disk). ok is false after a clean release.
func (l *Lock) Previous() (h LockHolder, ok bool) {
	if l.prev == nil {
		return LockHolder{}, false
	}
	return *l.prev, true
}

// Path returns the lock file's name.
func (l *Lock) Path() string { return l.path }

// Release empties the lock file and releases the lock.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	err := l.rewrite(nil)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
