package interp

import (
	"fmt"
	"os"
	"path/filepath"

	"go.starlark.net/syntax"
)

// WalkLoads reads every file the runbook at path loads, transitively,
// without executing any of them: load() statements are top-level and name
// their module with a literal, so parsing finds them all, and no -D or
// live state is needed. ovnrun get walks with Sources that fetch; it
// returns the versioned sources met, in load order. Errors are *Error
// values at the load() that failed.
func WalkLoads(path string, opts Options) ([]Library, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	ev := &Eval{opts: opts, plan: newPlan(path), root: filepath.Dir(path)}
	l := newLoader(ev)
	src, err := opts.ReadFile(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read runbook: %v", err)}
	}
	seen := map[string]bool{}
	var walk func(key string, src []byte) error
	walk = func(key string, src []byte) error {
		if seen[key] {
			return nil
		}
		seen[key] = true
		f, err := fileOptions.Parse(key, src, 0)
		if err != nil {
			return wrapError(err)
		}
		for _, st := range f.Stmts {
			ld, ok := st.(*syntax.LoadStmt)
			if !ok {
				continue
			}
			k, b, err := l.resolve(ld.ModuleName(), key)
			if err != nil {
				p := ld.Load
				return &Error{Pos: Pos{p.Filename(), p.Line, p.Col}, Msg: fmt.Sprintf("cannot load %s: %v", ld.ModuleName(), err)}
			}
			if err := walk(k, b); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(path, src); err != nil {
		return nil, err
	}
	return ev.plan.Libraries, nil
}
