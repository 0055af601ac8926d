package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	startime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// modules are go.starlark.net's library modules, predeclared in every file
// of a runbook: json (a NIC table read with read_file), math, time (dates
// and durations) and struct.
func modules() starlark.StringDict {
	return starlark.StringDict{
		"json":   json.Module,
		"math":   math.Module,
		"time":   deterministicTime(),
		"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
	}
}

// deterministicTime is the time module without a clock. A plan must be a
// function of the runbook, its variables and the files it reads: a time
// read during evaluation would make every plan differ from the last, so a
// runbook that put it in a row would never reach "No changes." Recording
// the time in the plan would not help, since the next run records another.
// A runbook that needs a date takes it as a var().
func deterministicTime() *starlarkstruct.Module {
	members := make(starlark.StringDict, len(startime.Module.Members))
	for k, v := range startime.Module.Members {
		members[k] = v
	}
	members["now"] = starlark.NewBuiltin("time.now", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return nil, errors.New("time.now: the clock is not available to runbooks, whose plan must not depend on when it is made; " +
			`pass the time in as a variable: var("stamp", "2026-01-01T00:00:00Z") and time.parse_time()`)
	})
	m := &starlarkstruct.Module{Name: "time", Members: members}
	m.Freeze()
	return m
}

// FileRead is one file a runbook read with read_file(), recorded in the plan
// with a hash of its content: the plan says everything the run depends on,
// and a changed file changes the plan.
type FileRead struct {
	// Path is the file as read: relative to the working directory when the
	// runbook was named so.
	Path   string
	SHA256 string
	Pos    Pos // the first read_file() of it
}

// maxReadFile bounds a file read by read_file(): it is a table for the
// runbook (NICs, MACs), not data to move.
const maxReadFile = 16 << 20

func readFileBuiltin(c *Call) (starlark.Value, error) {
	var name string
	if err := c.Unpack(1, "path", &name); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, c.Errorf("empty path")
	}
	p := c.FilePath(name)
	b, err := c.Ev.opts.ReadFile(p)
	if err != nil {
		return nil, c.Errorf("%v", err)
	}
	if len(b) > maxReadFile {
		return nil, c.Errorf("%s: %d bytes, more than the %d a runbook may read", p, len(b), maxReadFile)
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	plan := c.Ev.plan
	for _, f := range plan.Files {
		if f.Path == p {
			if f.SHA256 != h {
				// Read twice with different content: the plan would name one.
				return nil, c.Errorf("%s changed while the runbook was evaluated (read first at %s)", p, f.Pos)
			}
			return starlark.String(b), nil
		}
	}
	plan.Files = append(plan.Files, FileRead{Path: p, SHA256: h, Pos: c.Pos()})
	return starlark.String(b), nil
}

// FilePath resolves a path a runbook names, for read_file() and for
// builtins that name files on this machine (ovn_nb's certificates): a
// relative path is, like load()'s, relative to the directory of the file
// that calls the builtin; a standard library has no directory, so its paths
// are the runbook's.
func (c *Call) FilePath(name string) string {
	p := filepath.FromSlash(name)
	if filepath.IsAbs(p) {
		return p
	}
	dir := c.Ev.root
	if from := c.Pos().File; !strings.HasPrefix(from, StdlibPrefix) {
		dir = filepath.Dir(from)
	}
	return filepath.Join(dir, p)
}

// readFileDoc documents read_file().
var readFileDoc = fmt.Sprintf(`Returns the content of the file at path as a string; a relative path is relative to the
directory of the file that calls read_file (the runbook's, when a standard library calls it). The plan lists every
file read with the sha256 of its content, so a changed file changes the plan. At most %d MiB.
json.decode(read_file("nics.json")) reads a NIC table.`, maxReadFile>>20)
