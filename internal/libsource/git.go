package libsource

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// git runs the git binary on the bare repository at dir and returns its
// standard output; an error carries git's own message. It never prompts:
// a source needing a password fails instead of hanging a run.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

// initBare creates the bare clone of a repository in the cache.
func initBare(dir string) error {
	if exists(filepath.Join(dir, "HEAD")) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("git", "init", "--quiet", "--bare", "--template=", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git init: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// fetchRefs brings every branch and tag of url into the bare clone, moving
// those that moved: resolving a ref needs the repository's current ones.
func fetchRefs(dir, url string) error {
	_, err := git(dir, "fetch", "--quiet", "--force", "--no-tags", url,
		"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
	return err
}

// fetchCommit brings one commit (a locked one the refs may no longer reach).
func fetchCommit(dir, url, commit string) error {
	_, err := git(dir, "fetch", "--quiet", "--no-tags", url, commit)
	return err
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{4,64}$`)

// resolve returns the commit ref names in the bare clone: a tag first,
// then a branch, then a commit (full or abbreviated).
func resolve(dir, ref string) (string, error) {
	candidates := []string{"refs/tags/" + ref, "refs/heads/" + ref}
	if hexRE.MatchString(ref) {
		candidates = append(candidates, ref)
	}
	for _, c := range candidates {
		out, err := git(dir, "rev-parse", "--verify", "--quiet", "--end-of-options", c+"^{commit}")
		if err == nil {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "", fmt.Errorf("no tag, branch or commit %q", ref)
}

// hasCommit says whether the bare clone holds commit.
func hasCommit(dir, commit string) bool {
	_, err := git(dir, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// extract writes the files of commit to dst, replacing what is there,
// through a temporary directory renamed at the end so that dst is always
// whole. Only directories and regular files are written: a symbolic link
// could reach outside the tree.
func extract(bare, commit, dst string) error {
	out, err := git(bare, "archive", "--format=tar", commit)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".extract-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := untar(bytes.NewReader(out), tmp); err != nil {
		return fmt.Errorf("extracting commit %s: %w", commit, err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("bad path %q in the archive", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			mode := os.FileMode(0o644)
			if h.Mode&0o100 != 0 {
				mode = 0o755
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
