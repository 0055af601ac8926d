package libsource

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ovnrun/ovnrun/interp"
)

// Fetcher is the interp.Sources of ovnrun get: it fetches each source into
// the cache and records what it resolved to. A source the old lock holds
// stays at its locked commit unless Update is set, so a tag that moved
// upstream does not move a lab until asked.
type Fetcher struct {
	Cache  Cache
	Locked Lock // the lock as ovnrun get found it (may be empty)
	Update bool // resolve every ref again
	// Log receives one line per source: what its ref resolved to.
	Log io.Writer
	// Result holds each source met, what ovnrun get writes as the new lock.
	Result Lock
}

// ReadFile implements interp.Sources.
func (f *Fetcher) ReadFile(s interp.GitSource) ([]byte, string, error) {
	if f.Result == nil {
		f.Result = Lock{}
	}
	e, ok := f.Result[s.Key()]
	if !ok {
		var err error
		if e, err = f.fetch(s); err != nil {
			return nil, "", err
		}
		f.Result[s.Key()] = e
	}
	b, err := readTreeFile(f.Cache.tree(s.Repo, e.Commit), s, e.Commit)
	return b, e.Commit, err
}

// fetch brings the source's commit into the cache, extracts its files
// afresh (the clone's objects are checked by git; files left in the cache
// are not trusted) and hashes them.
func (f *Fetcher) fetch(s interp.GitSource) (Entry, error) {
	bare := f.Cache.bare(s.Repo)
	if err := initBare(bare); err != nil {
		return Entry{}, err
	}
	old, locked := f.Locked[s.Key()]
	var commit string
	if locked && !f.Update {
		commit = old.Commit
		if !hasCommit(bare, commit) {
			// Fetching one commit needs a server that allows it; the refs
			// may still reach it otherwise.
			if err := fetchCommit(bare, s.Repo, commit); err != nil {
				if err := fetchRefs(bare, s.Repo); err != nil {
					return Entry{}, err
				}
			}
			if !hasCommit(bare, commit) {
				return Entry{}, fmt.Errorf("the locked commit %s is not in %s any more: ovnrun get --update locks what %s is now", commit, s.Repo, s.Ref)
			}
		}
	} else {
		if err := fetchRefs(bare, s.Repo); err != nil {
			return Entry{}, err
		}
		var err error
		if commit, err = resolve(bare, s.Ref); err != nil {
			return Entry{}, fmt.Errorf("%s: %w", s.Repo, err)
		}
	}
	tree := f.Cache.tree(s.Repo, commit)
	if err := extract(bare, commit, tree); err != nil {
		return Entry{}, err
	}
	hash, err := treeHash(tree)
	if err != nil {
		return Entry{}, err
	}
	if locked && old.Commit == commit && old.Hash != hash {
		return Entry{}, fmt.Errorf("the files of commit %s hash to %s, but the lock says %s: was the lock edited?", commit, hash, old.Hash)
	}
	if f.Log != nil {
		fmt.Fprintf(f.Log, "%s: commit %s\n", s.Key(), commit)
	}
	return Entry{Commit: commit, Hash: hash}, nil
}

// readTreeFile reads the file of s from the extracted files of commit.
func readTreeFile(tree string, s interp.GitSource, commit string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(tree, filepath.FromSlash(s.Path)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no file %s in %s at commit %s", s.Path, s.Repo, commit)
	}
	return b, err
}

// Get fetches every versioned source the runbook at path loads, however
// deeply, into cache and writes the runbook's lock with exactly those
// sources. opts gives what load() needs besides them (the stdlib, --lib
// dirs); nothing is executed. Without versioned sources no lock is written
// and the result is empty.
func Get(path string, opts interp.Options, cache Cache, update bool, log io.Writer) ([]interp.Library, error) {
	lockFile := LockPath(path)
	old, err := readLockIfAny(lockFile)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{Cache: cache, Locked: old, Update: update, Log: log}
	opts.Sources = f
	libs, err := interp.WalkLoads(path, opts)
	if err != nil || len(libs) == 0 {
		return nil, err
	}
	return libs, f.Result.Write(lockFile)
}
