package interp

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// GitPrefix starts a versioned library source in load():
//
//	git+SCHEME://HOST/REPO//PATH/FILE.star@REF
//
// SCHEME is https, http, ssh, git or file; "//" ends the repository URL and
// starts the file's path inside it; REF is a tag, branch or commit.
const GitPrefix = "git+"

// gitSyntax is the form a versioned source takes, for error messages.
const gitSyntax = "git+SCHEME://HOST/REPO//FILE.star@REF (SCHEME: https, http, ssh, git or file; REF: a tag, branch or commit)"

// GitSource is one file of a git repository at a ref, as named in load().
type GitSource struct {
	Repo string // the repository URL git fetches: https://host/org/repo.git
	Path string // the file inside the repository, slash-separated, relative
	Ref  string // a tag, branch or commit
}

// Key names the repository at its ref: what ovnrun.lock records and what
// every file of the same source shares.
func (s GitSource) Key() string { return GitPrefix + s.Repo + "@" + s.Ref }

// String is the canonical load() name, also the file name in positions.
func (s GitSource) String() string { return GitPrefix + s.Repo + "//" + s.Path + "@" + s.Ref }

// sibling is the file name (relative to s's directory, or to the
// repository's root when it starts with "//") in the same source.
func (s GitSource) sibling(name string) (GitSource, error) {
	var p string
	if rel, ok := strings.CutPrefix(name, "//"); ok {
		p = path.Clean(rel)
	} else if path.IsAbs(name) {
		return GitSource{}, fmt.Errorf("a library in a git repository loads only files of its repository, not the absolute path %s", name)
	} else {
		p = path.Join(path.Dir(s.Path), name)
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return GitSource{}, fmt.Errorf("%s is outside the repository %s", name, s.Repo)
	}
	s.Path = p
	return s, nil
}

var (
	gitSchemes = map[string]bool{"https": true, "http": true, "ssh": true, "git": true, "file": true}
	// A ref is given to git as an argument: no option, no revision syntax.
	gitRef = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/+-]*$`)
)

// ParseGitSource parses a load() name starting with GitPrefix; it says
// false for any other name.
func ParseGitSource(name string) (GitSource, bool, error) {
	rest, ok := strings.CutPrefix(name, GitPrefix)
	if !ok {
		return GitSource{}, false, nil
	}
	bad := func(why string) (GitSource, bool, error) {
		return GitSource{}, true, fmt.Errorf("%s: want %s", why, gitSyntax)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("a versioned source has no spaces or control characters")
	}
	scheme, after, ok := strings.Cut(rest, "://")
	if !ok || after == "" {
		return bad("no SCHEME://")
	}
	if !gitSchemes[scheme] {
		return bad(fmt.Sprintf("unknown scheme %q", scheme))
	}
	// The repository ends at the first "//" past the host (file URLs have
	// no host: their path starts right after "://").
	i := strings.Index(after[1:], "//")
	if i < 0 {
		return bad("no // between the repository and the file")
	}
	repo, file := after[:i+1], after[i+3:]
	if scheme != "file" && (repo == "" || strings.HasPrefix(repo, "/")) {
		return bad("no host")
	}
	if scheme == "file" && !strings.HasPrefix(repo, "/") {
		return bad("a file:// repository is an absolute path (file:///srv/git/lib.git)")
	}
	at := strings.LastIndexByte(file, '@')
	if at < 0 {
		return bad("no @REF")
	}
	p, ref := file[:at], file[at+1:]
	if !gitRef.MatchString(ref) || strings.Contains(ref, "..") {
		return bad(fmt.Sprintf("bad ref %q", ref))
	}
	if !strings.HasSuffix(p, ".star") {
		return bad("library names end in .star")
	}
	if path.Clean(p) != p || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return bad(fmt.Sprintf("the file %q is not a clean path inside the repository", p))
	}
	return GitSource{Repo: scheme + "://" + repo, Path: p, Ref: ref}, true, nil
}

// Sources reads the files of versioned library sources. Evaluation only
// reads: whatever fetches (ovnrun get) does so before, or inside an
// implementation that WalkLoads drives, never while a runbook executes.
type Sources interface {
	// ReadFile returns the file of s and the commit its ref resolved to.
	ReadFile(s GitSource) (data []byte, commit string, err error)
}

// Library is a versioned source a runbook loaded, with the commit used: the
// plan names everything a run depends on.
type Library struct {
	Source string // GitSource.Key
	Commit string
}

// readGit reads the file of a versioned source and records its commit in
// the plan, once per source.
func (l *loader) readGit(s GitSource) (string, []byte, error) {
	if l.ev.opts.Sources == nil {
		return "", nil, fmt.Errorf("load %q: versioned sources are not available here", s)
	}
	b, commit, err := l.ev.opts.Sources.ReadFile(s)
	if err != nil {
		return "", nil, fmt.Errorf("load %q: %w", s, err)
	}
	p := l.ev.plan
	for _, lib := range p.Libraries {
		if lib.Source == s.Key() {
			return s.String(), b, nil
		}
	}
	p.Libraries = append(p.Libraries, Library{Source: s.Key(), Commit: commit})
	return s.String(), b, nil
}
