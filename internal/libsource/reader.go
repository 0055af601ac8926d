package libsource

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/ovnrun/ovnrun/interp"
)

// Reader is the interp.Sources of runs (apply, plan, graph, trace): it reads
// each source at its locked commit from the cache, after checking the
// cached files against the lock's hash, and never contacts anything. It
// reads the lock only when the runbook loads a versioned source.
type Reader struct {
	Cache    Cache
	LockFile string
	Runbook  string // named in the hints to run ovnrun get

	lock     Lock
	lockErr  error
	read     bool
	verified map[string]Entry
}

// ReadFile implements interp.Sources.
func (r *Reader) ReadFile(s interp.GitSource) ([]byte, string, error) {
	e, ok := r.verified[s.Key()]
	if !ok {
		var err error
		if e, err = r.verify(s); err != nil {
			return nil, "", err
		}
		if r.verified == nil {
			r.verified = map[string]Entry{}
		}
		r.verified[s.Key()] = e
	}
	b, err := readTreeFile(r.Cache.tree(s.Repo, e.Commit), s, e.Commit)
	return b, e.Commit, err
}

// verify finds the source's lock entry and checks the cached files of its
// commit against the entry's hash. Files missing from the cache while the
// clone holds the commit are extracted again: that needs no network.
func (r *Reader) verify(s interp.GitSource) (Entry, error) {
	if !r.read {
		r.lock, r.lockErr = ReadLock(r.LockFile)
		r.read = true
	}
	get := fmt.Sprintf("run `ovnrun get %s` to fetch and lock the runbook's libraries", r.Runbook)
	if errors.Is(r.lockErr, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("not locked: there is no %s; %s", r.LockFile, get)
	}
	if r.lockErr != nil {
		return Entry{}, r.lockErr
	}
	e, ok := r.lock[s.Key()]
	if !ok {
		return Entry{}, fmt.Errorf("%s is not in %s; %s", s.Key(), r.LockFile, get)
	}
	tree := r.Cache.tree(s.Repo, e.Commit)
	if !exists(tree) {
		bare := r.Cache.bare(s.Repo)
		if !hasCommit(bare, e.Commit) {
			return Entry{}, fmt.Errorf("commit %s is not in the cache (%s); %s", e.Commit, r.Cache.Dir, get)
		}
		if err := extract(bare, e.Commit, tree); err != nil {
			return Entry{}, err
		}
	}
	hash, err := treeHash(tree)
	if err != nil {
		return Entry{}, fmt.Errorf("reading the cached files of commit %s: %w", e.Commit, err)
	}
	if hash != e.Hash {
		return Entry{}, fmt.Errorf("the cached files of commit %s (%s) do not match %s, which says %s: remove %s and run `ovnrun get %s`",
			e.Commit, hash, r.LockFile, e.Hash, tree, r.Runbook)
	}
	return e, nil
}
