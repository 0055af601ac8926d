// Package startest runs Starlark script tests: testdata/*.star files split
// into chunks by lines of three dashes, each chunk evaluated as its own
// runbook. A chunk passes when it evaluates cleanly, or, when one of its lines
// carries a marker comment `### "regexp"`, when evaluation fails at exactly
// that line with a message matching regexp. Chunks keep their line numbers,
// so the markers and failures name real lines of the file.
//
// Scripts get an `assert` module (eq, ne, true, contains) and
// `planned(id)`, which returns a struct of the planned action with that ID
// (kind, name, step, fields), for checking what builtins put in the plan.
package startest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/ovnrun/ovnrun/interp"
)

var markerRE = regexp.MustCompile(`###\s*"((?:[^"\\]|\\.)*)"`)

// Chunk is one independently evaluated part of a script file.
type Chunk struct {
	Start    int    // first line, 1-based
	Src      string // the whole file's line count, with other chunks blanked
	WantLine int    // line of the ### marker, 0 if the chunk must succeed
	WantErr  *regexp.Regexp
}

// Split cuts a script into chunks at lines consisting of "---".
func Split(src string) ([]Chunk, error) {
	lines := strings.Split(src, "\n")
	var chunks []Chunk
	start := 0
	flush := func(end int) error {
		blank := make([]string, len(lines))
		copy(blank[start:end], lines[start:end])
		c := Chunk{Start: start + 1, Src: strings.Join(blank, "\n")}
		for i := start; i < end; i++ {
			m := markerRE.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			if c.WantErr != nil {
				return fmt.Errorf("line %d: a chunk may hold one ### marker (another at line %d)", i+1, c.WantLine)
			}
			re, err := regexp.Compile(strings.ReplaceAll(m[1], `\"`, `"`))
			if err != nil {
				return fmt.Errorf("line %d: bad marker: %v", i+1, err)
			}
			c.WantLine, c.WantErr = i+1, re
		}
		chunks = append(chunks, c)
		return nil
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "---" {
			if err := flush(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := flush(len(lines)); err != nil {
		return nil, err
	}
	return chunks, nil
}

// Run runs every file matching pattern (such as "testdata/*.star") with the
// builtins newRegistry returns plus the test helpers.
func Run(t *testing.T, pattern string, newRegistry func() (*interp.Registry, error), opts interp.Options) {
	t.Helper()
	eachChunk(t, pattern, func(file string, c Chunk) {
		t.Run(fmt.Sprintf("%s:%d", filepath.Base(file), c.Start), func(t *testing.T) {
			_, err := evaluate(t, file, c, newRegistry, opts)
			check(t, file, c, err)
		})
	})
}

// eachChunk calls fn with every chunk of the files matching pattern.
func eachChunk(t *testing.T, pattern string, fn func(file string, c Chunk)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no script tests match %s", pattern)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := Split(string(src))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range chunks {
			fn(file, c)
		}
	}
}

// evaluate evaluates chunk c of file with a registry of its own and the
// script tests' predeclared helpers.
func evaluate(t *testing.T, file string, c Chunk, newRegistry func() (*interp.Registry, error), opts interp.Options) (*interp.Plan, error) {
	t.Helper()
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	opts.Registry = reg
	var ev *interp.Eval
	opts.OnStart = func(e *interp.Eval) { ev = e }
	opts.Predeclared = predeclared(func() *interp.Plan { return ev.Plan() })
	return interp.Evaluate(file, []byte(c.Src), opts)
}

// Plans evaluates, as Run does, every chunk of the files matching pattern
// that expects no error, and returns their plans: for tests of what every
// action the script tests declare goes through (saved plans).
func Plans(t *testing.T, pattern string, newRegistry func() (*interp.Registry, error), opts interp.Options) []*interp.Plan {
	t.Helper()
	var plans []*interp.Plan
	eachChunk(t, pattern, func(file string, c Chunk) {
		if c.WantErr != nil {
			return
		}
		p, err := evaluate(t, file, c, newRegistry, opts)
		if err != nil {
			t.Fatalf("%s:%d: %s", file, c.Start, detail(err))
		}
		plans = append(plans, p)
	})
	return plans
}

func check(t *testing.T, file string, c Chunk, err error) {
	t.Helper()
	if c.WantErr == nil {
		if err != nil {
			t.Fatalf("unexpected error:\n%s", detail(err))
		}
		return
	}
	if err == nil {
		t.Fatalf("line %d: evaluation succeeded, want error matching %q", c.WantLine, c.WantErr)
	}
	e, ok := err.(*interp.Error)
	if !ok {
		t.Fatalf("error is %T, want *interp.Error: %v", err, err)
	}
	// An error raised inside a loaded library is positioned there; the
	// marker then names the script line in its backtrace.
	inTrace := strings.Contains(e.Backtrace, fmt.Sprintf("%s:%d:", file, c.WantLine))
	if int(e.Pos.Line) != c.WantLine && !inTrace {
		t.Errorf("error at line %d, want line %d:\n%s", e.Pos.Line, c.WantLine, e.Detail())
	}
	if !c.WantErr.MatchString(e.Msg) {
		t.Errorf("line %d: error %q does not match %q", c.WantLine, e.Msg, c.WantErr)
	}
}

func detail(err error) string {
	if e, ok := err.(*interp.Error); ok {
		return e.Detail()
	}
	return err.Error()
}

// Predeclared returns the test helpers: the assert module and planned().
// planned needs the evaluation, so it is bound per run through ev.
func predeclared(plan func() *interp.Plan) starlark.StringDict {
	fail := func(format string, args ...any) error { return fmt.Errorf(format, args...) }
	eq := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var x, y starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 2, &x, &y); err != nil {
			return nil, err
		}
		ok, err := starlark.Equal(x, y)
		if err != nil {
			return nil, err
		}
		if (b.Name() == "assert.eq") != ok {
			return nil, fail("%s: %s vs %s", b.Name(), x, y)
		}
		return starlark.None, nil
	}
	truth := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		msg := "assertion failed"
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &x, &msg); err != nil {
			return nil, err
		}
		if !x.Truth() {
			return nil, fail("%s: %s", b.Name(), msg)
		}
		return starlark.None, nil
	}
	contains := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var c, x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 2, &c, &x); err != nil {
			return nil, err
		}
		ok, err := starlark.Binary(syntax.IN, x, c)
		if err != nil {
			return nil, err
		}
		if !ok.Truth() {
			return nil, fail("%s: %s not in %s", b.Name(), x, c)
		}
		return starlark.None, nil
	}
	return starlark.StringDict{
		"assert": starlarkstruct.FromStringDict(starlark.String("assert"), starlark.StringDict{
			"eq":       starlark.NewBuiltin("assert.eq", eq),
			"ne":       starlark.NewBuiltin("assert.ne", eq),
			"true":     starlark.NewBuiltin("assert.true", truth),
			"contains": starlark.NewBuiltin("assert.contains", contains),
		}),
		"planned": starlark.NewBuiltin("planned", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var id string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &id); err != nil {
				return nil, err
			}
			return plannedAction(plan(), id)
		}),
	}
}

func plannedAction(p *interp.Plan, id string) (starlark.Value, error) {
	a, ok := p.Action(id)
	if !ok {
		return nil, fmt.Errorf("planned: no action %q in the plan", id)
	}
	m := a.Meta()
	fields := starlark.NewDict(len(a.Fields()))
	for _, f := range a.Fields() {
		if interp.IsEmpty(f.Value) {
			continue
		}
		v, err := toStarlark(interp.JSONValue(f.Value))
		if err != nil {
			return nil, err
		}
		if err := fields.SetKey(starlark.String(f.Key), v); err != nil {
			return nil, err
		}
	}
	deps := make([]starlark.Value, len(m.DependsOn))
	for i, d := range m.DependsOn {
		deps[i] = starlark.String(d)
	}
	return starlarkstruct.FromStringDict(starlark.String("action"), starlark.StringDict{
		"id": starlark.String(m.ID), "kind": starlark.String(m.Kind), "name": starlark.String(m.Name),
		"step": starlark.String(m.Step), "driver": starlark.String(m.Driver), "host": starlark.String(m.Host),
		"fields": fields, "depends_on": starlark.NewList(deps),
	}), nil
}

func toStarlark(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case string:
		return starlark.String(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case bool:
		return starlark.Bool(v), nil
	case []string:
		l := make([]starlark.Value, len(v))
		for i, s := range v {
			l[i] = starlark.String(s)
		}
		return starlark.NewList(l), nil
	case map[string]string:
		d := starlark.NewDict(len(v))
		for k, s := range v {
			_ = d.SetKey(starlark.String(k), starlark.String(s))
		}
		return d, nil
	case map[string]int:
		d := starlark.NewDict(len(v))
		for k, n := range v {
			_ = d.SetKey(starlark.String(k), starlark.MakeInt(n))
		}
		return d, nil
	}
	return nil, fmt.Errorf("planned: field value of type %T", v)
}
