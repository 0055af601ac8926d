// Package gittest makes git repositories for tests of versioned library
// sources and serves them over file:// or a git daemon on 127.0.0.1. It runs
// the real git binary and imports nothing of ovnrun.
package gittest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a git repository with a work tree, made by New.
type Repo struct {
	t   *testing.T
	Dir string
}

// New makes an empty repository named name (name.git) under a temporary
// base directory, on branch main.
func New(t *testing.T, name string) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: filepath.Join(t.TempDir(), name+".git")}
	r.Git("init", "--quiet", "--template=", "-b", "main", r.Dir)
	return r
}

// Git runs git in the repository and returns its output; failing fails
// the test.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = filepath.Dir(r.Dir)
	if args[0] != "init" {
		cmd.Dir = r.Dir
	}
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.invalid",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (slash path -> content) and commits them, returning
// the commit.
func (r *Repo) Commit(files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("add", "-A")
	r.Git("commit", "--quiet", "-m", "change")
	return r.Git("rev-parse", "HEAD")
}

// Tag points tag at HEAD, moving it if it exists.
func (r *Repo) Tag(tag string) { r.t.Helper(); r.Git("tag", "-f", tag) }

// FileURL is the repository's file:// URL.
func (r *Repo) FileURL() string { return "file://" + r.Dir }

// Daemon serves every repository under base (the parent of r.Dir) with
// git daemon on 127.0.0.1 and returns the git:// URL of r and a function
// stopping the daemon (also called at cleanup).
func (r *Repo) Daemon() (url string, stop func()) {
	r.t.Helper()
	base := filepath.Dir(r.Dir)
	for range 5 {
		port := freePort(r.t)
		cmd := exec.Command("git", "daemon", "--verbose", "--export-all", "--reuseaddr",
			"--listen=127.0.0.1", "--port="+port, "--base-path="+base, base)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			r.t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		stop := func() {
			if cmd.Process != nil && cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}
		// git daemon says it is ready once it listens; it exits when the
		// port was taken since freePort.
		sc := bufio.NewScanner(stderr)
		ready := false
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to rumble") {
				ready = true
				break
			}
		}
		if !ready {
			stop()
			continue
		}
		go func() {
			for sc.Scan() {
			}
		}()
		r.t.Cleanup(stop)
		return "git://127.0.0.1:" + port + "/" + filepath.Base(r.Dir), stop
	}
	r.t.Fatal("git daemon did not start")
	return "", nil
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
