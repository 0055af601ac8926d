package libsource

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Cache is the directory holding fetched sources: for each repository, a
// bare clone (repo.git) and the files of each commit used (trees/COMMIT).
type Cache struct{ Dir string }

// DefaultCache is $XDG_CACHE_HOME/ovnrun, or ~/.cache/ovnrun.
func DefaultCache() (Cache, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return Cache{filepath.Join(d, "ovnrun")}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return Cache{}, fmt.Errorf("no cache directory: set XDG_CACHE_HOME or HOME: %w", err)
	}
	return Cache{filepath.Join(home, ".cache", "ovnrun")}, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// repoDir is the cache directory of the repository at url: readable, and
// unique through a hash of the whole URL.
func (c Cache) repoDir(url string) string {
	name := unsafeChars.ReplaceAllString(url, "_")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.Dir, "git", name+"-"+hex.EncodeToString(sum[:6]))
}

func (c Cache) bare(url string) string { return filepath.Join(c.repoDir(url), "repo.git") }

// tree is where the files of commit are.
func (c Cache) tree(url, commit string) string {
	return filepath.Join(c.repoDir(url), "trees", commit)
}

// treeHash is the content hash of the files under dir: SHA-256 over each
// regular file's slash path, mode (executable or not) and content, in path
// order. Symbolic links are not extracted (extract), so none is hashed.
func treeHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		mode := "644"
		if info.Mode()&0o100 != 0 {
			mode = "755"
		}
		h.Write([]byte(filepath.ToSlash(rel) + "\x00" + mode + "\x00" + strconv.Itoa(len(b)) + "\x00"))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// exists says whether p exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
