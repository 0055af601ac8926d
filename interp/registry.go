package interp

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// BuiltinFunc is the Go side of a builtin. The Call carries the evaluation
// it belongs to, so builtins never need package-level state.
type BuiltinFunc func(c *Call) (starlark.Value, error)

// Builtin describes one runbook function: its name, its signature as shown by
// `ovnrun doc`, a paragraph of documentation, and the domain that owns it.
type Builtin struct {
	Name      string
	Signature string
	Doc       string
	Domain    string
	Fn        BuiltinFunc
}

// Registry holds the builtins available to runbooks. It is built explicitly by
// the command (each domain package has a Register function) rather than filled
// by init(), so tests can assemble exactly the builtins they need.
type Registry struct {
	byName map[string]*Builtin
}

// NewRegistry returns a registry holding the core builtins (step, var).
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Builtin{}}
	for _, b := range coreBuiltins() {
		if err := r.Register(b); err != nil {
			panic(err) // the core set is fixed; a failure here is a programming error
		}
	}
	return r
}

// Register adds b, refusing duplicate names, empty docs and missing functions.
func (r *Registry) Register(b Builtin) error {
	switch {
	case b.Name == "":
		return fmt.Errorf("register: builtin with empty name")
	case strings.TrimSpace(b.Doc) == "":
		return fmt.Errorf("register: builtin %q has no documentation", b.Name)
	case strings.TrimSpace(b.Signature) == "":
		return fmt.Errorf("register: builtin %q has no signature", b.Name)
	case b.Fn == nil:
		return fmt.Errorf("register: builtin %q has no function", b.Name)
	}
	if old, ok := r.byName[b.Name]; ok {
		return fmt.Errorf("register: builtin %q already registered by domain %q", b.Name, old.Domain)
	}
	r.byName[b.Name] = &b
	return nil
}

// RegisterAll registers every builtin of a domain, for use by Register
// functions whose builtin tables are fixed at compile time.
func (r *Registry) RegisterAll(bs ...Builtin) error {
	for _, b := range bs {
		if err := r.Register(b); err != nil {
			return err
		}
	}
	return nil
}

// Lookup returns the builtin called name.
func (r *Registry) Lookup(name string) (*Builtin, error) {
	if b, ok := r.byName[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no builtin %q; known builtins: %s", name, strings.Join(r.Names(), ", "))
}

// Names returns the builtin names in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns the builtins sorted by domain, then name.
func (r *Registry) All() []*Builtin {
	all := make([]*Builtin, 0, len(r.byName))
	for _, b := range r.byName {
		all = append(all, b)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Domain != all[j].Domain {
			return all[i].Domain < all[j].Domain
		}
		return all[i].Name < all[j].Name
	})
	return all
}

// globals binds every builtin to ev, producing the predeclared environment of
// one evaluation.
func (r *Registry) globals(ev *Eval) starlark.StringDict {
	g := make(starlark.StringDict, len(r.byName))
	for name, b := range r.byName {
		fn := b.Fn
		g[name] = starlark.NewBuiltin(name, func(th *starlark.Thread, sb *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return fn(&Call{Ev: ev, Thread: th, Builtin: sb, Args: args, Kwargs: kwargs})
		})
	}
	return g
}
