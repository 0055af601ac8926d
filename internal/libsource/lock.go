// Package libsource fetches the versioned library sources runbooks load
// (load("git+...")) into a cache, locks them in ovnrun.lock next to the
// runbook, and reads them back for evaluation from the cache alone, checking
// each against its lock. Fetching runs the git binary, which speaks every
// transport (https, ssh, git, file); nothing here runs while a runbook is
// evaluated but reads of the cache. It imports interp, for the source's
// syntax and the reader interface evaluation uses.
package libsource

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// LockName is the lock file, next to the runbook.
const LockName = "ovnrun.lock"

// LockPath is the lock file of the runbook at path.
func LockPath(runbook string) string { return filepath.Join(filepath.Dir(runbook), LockName) }

// Entry is what the lock records of one source (an interp.GitSource Key).
type Entry struct {
	Commit string // the full commit the ref resolved to
	Hash   string // "sha256:HEX" of the commit's files (treeHash)
}

// Lock maps each source's key to its entry.
type Lock map[string]Entry

const lockHeader = `# ovnrun.lock: the commit and content hash of every versioned library the
# runbook loads, written by ovnrun get. Runs read these commits from the
# cache and refuse files that do not match. Commit this file with the runbook.
`

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	hashRE   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// ReadLock reads the lock at path; a missing file is fs.ErrNotExist.
func ReadLock(path string) (Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lock := Lock{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || !commitRE.MatchString(f[1]) || !hashRE.MatchString(f[2]) {
			return nil, fmt.Errorf("%s:%d: want SOURCE COMMIT sha256:HASH", path, n)
		}
		if _, dup := lock[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is locked twice", path, n, f[0])
		}
		lock[f[0]] = Entry{Commit: f[1], Hash: f[2]}
	}
	return lock, sc.Err()
}

// Write writes the lock to path, sources sorted, through a temporary file
// so a reader never sees half of it.
func (l Lock) Write(path string) error {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(lockHeader)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s %s\n", k, l[k].Commit, l[k].Hash)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readLockIfAny is ReadLock with a missing file an empty lock.
func readLockIfAny(path string) (Lock, error) {
	l, err := ReadLock(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Lock{}, nil
	}
	return l, err
}
