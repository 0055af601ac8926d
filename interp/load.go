package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
)

// StdlibPrefix names the embedded standard libraries in load().
const StdlibPrefix = "@stdlib//"

// loader resolves and executes load() statements. Each module is executed
// once per evaluation; a module that is still executing when it is loaded
// again is a cycle.
type loader struct {
	ev      *Eval
	modules map[string]*module
	stack   []string // modules being executed, outermost first
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

func newLoader(ev *Eval) *loader {
	return &loader{ev: ev, modules: map[string]*module{}}
}

// load implements starlark.Thread.Load.
func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	key, src, err := l.resolve(name, from)
	if err != nil {
		return nil, err
	}
	return l.exec(key, src)
}

// exec executes the file key (already read into src) once.
func (l *loader) exec(key string, src []byte) (starlark.StringDict, error) {
	if m, ok := l.modules[key]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s -> %s", strings.Join(l.stack, " -> "), key)
		}
		return m.globals, m.err
	}
	m := &module{}
	l.modules[key] = m
	sum := sha256.Sum256(src)
	l.ev.plan.Modules = append(l.ev.plan.Modules, Module{Key: key, SHA256: hex.EncodeToString(sum[:])})
	l.stack = append(l.stack, key)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()

	thread := l.ev.newThread(key)
	l.ev.startThread(thread)
	m.globals, m.err = starlark.ExecFileOptions(fileOptions, thread, key, src, l.ev.globals)
	l.ev.endThread(thread)
	m.done = true
	return m.globals, m.err
}

// resolve maps a load() name to a module key (the name shown in positions)
// and its source:
//   - "@stdlib//x.star": the embedded standard library;
//   - "//x.star": relative to the directory of the runbook;
//   - "git+...": a versioned source (GitSource), read through Options.Sources;
//   - anything else: relative to the loading file, then each --lib dir;
//     from a versioned source, relative to that file in its repository
//     ("//x.star": the repository's root).
func (l *loader) resolve(name, from string) (string, []byte, error) {
	if s, ok, err := ParseGitSource(name); ok {
		if err != nil {
			return "", nil, fmt.Errorf("load %q: %v", name, err)
		}
		return l.readGit(s)
	}
	if s, ok, _ := ParseGitSource(from); ok {
		if !strings.HasSuffix(name, ".star") {
			return "", nil, fmt.Errorf("load %q: library names end in .star", name)
		}
		sib, err := s.sibling(name)
		if err != nil {
			return "", nil, fmt.Errorf("load %q: %v", name, err)
		}
		return l.readGit(sib)
	}
	if !strings.HasSuffix(name, ".star") {
		return "", nil, fmt.Errorf("load %q: library names end in .star", name)
	}
	ev := l.ev
	if rel, ok := strings.CutPrefix(name, StdlibPrefix); ok {
		if ev.opts.Stdlib == nil {
			return "", nil, fmt.Errorf("load %q: no standard library in this build", name)
		}
		b, err := fs.ReadFile(ev.opts.Stdlib, path.Clean(rel))
		if err != nil {
			return "", nil, fmt.Errorf("load %q: no such standard library", name)
		}
		return StdlibPrefix + path.Clean(rel), b, nil
	}
	if rel, ok := strings.CutPrefix(name, "//"); ok {
		return l.read(name, []string{filepath.Join(ev.root, filepath.FromSlash(rel))})
	}
	if filepath.IsAbs(name) {
		return l.read(name, []string{name})
	}
	var candidates []string
	if strings.HasPrefix(from, StdlibPrefix) {
		// A standard library loads its siblings from the embedded tree.
		return l.resolve(StdlibPrefix+path.Join(path.Dir(strings.TrimPrefix(from, StdlibPrefix)), name), "")
	}
	candidates = append(candidates, filepath.Join(filepath.Dir(from), filepath.FromSlash(name)))
	for _, dir := range ev.opts.LibDirs {
		candidates = append(candidates, filepath.Join(dir, filepath.FromSlash(name)))
	}
	return l.read(name, candidates)
}

// read returns the first candidate file that exists.
func (l *loader) read(name string, candidates []string) (string, []byte, error) {
	for _, c := range candidates {
		b, err := l.ev.opts.ReadFile(c)
		if err == nil {
			return c, b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("load %q: %v", name, err)
		}
	}
	return "", nil, fmt.Errorf("load %q: file not found (looked in %s)", name, strings.Join(candidates, ", "))
}
