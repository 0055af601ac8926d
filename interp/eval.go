package interp

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Options configure one evaluation.
type Options struct {
	Registry *Registry
	// Vars are the -D name=value settings, read by var().
	Vars map[string]string
	// LibDirs are searched, in order, for load() paths not found relative to
	// the loading file.
	LibDirs []string
	// Stdlib holds the embedded @stdlib// libraries.
	Stdlib fs.FS
	// Sources reads versioned library sources (load("git+...")); without
	// it, loading one is an error.
	Sources Sources
	// ReadFile reads runbook and library files; os.ReadFile by default.
	ReadFile func(path string) ([]byte, error)
	// Print receives the output of print(); discarded when nil.
	Print func(msg string)
	// Predeclared adds values to every file's environment; tests use it for
	// their assertion helpers. Builtins of the registry take precedence.
	Predeclared starlark.StringDict
	// MaxSteps bounds the Starlark computation steps of the whole
	// evaluation, every loaded file included (0: no bound), so that a loop
	// that never ends stops with an error at its position.
	MaxSteps uint64
	// MaxMemory bounds the heap while the runbook is evaluated (0: no
	// bound): past it the evaluation stops with an error at the position it
	// had reached, instead of the kernel killing the process.
	MaxMemory uint64
	// OnStart, when set, is called with the evaluation before it runs; script
	// tests use it to inspect the plan being built.
	OnStart func(*Eval)
	// Inputs are what the run brings to evaluation beside the runbook:
	// how hosts are reached (an inventory), what a VM is in a lab (a guest
	// kit). Each key belongs to the domain that reads it, through its own
	// typed accessor (Eval.Input), so interp knows none of them. The plan
	// is then right from the start: nothing rewrites it afterwards.
	Inputs map[string]any
}

// fileOptions are the Starlark dialect of runbooks: top-level for loops and
// sets are allowed (labs build switches in loops); recursion and while stay
// off so evaluation always terminates.
var fileOptions = &syntax.FileOptions{Set: true, TopLevelControl: true}

// Eval is the state of one runbook evaluation. Builtins reach it through Call.
type Eval struct {
	opts Options
	plan *Plan
	step *Step
	// inStep is true while a step() function runs.
	inStep bool
	root   string // directory of the runbook, for //path loads
	loads  *loader

	varDefaults map[string]string
	domain      map[string]any
	globals     starlark.StringDict
	ports       map[string]LogicalPort
	atEnd       []deferred
	bounds      bounds
}

// deferred is a check that needs the whole runbook, run after evaluation
// with errors reported at the call that registered it.
type deferred struct {
	stack []Pos
	name  string
	fn    func() error
}

// Evaluate runs the runbook at path (with src as its text when non-nil) and
// returns its plan. Errors are *Error values carrying the runbook position.
func Evaluate(path string, src []byte, opts Options) (*Plan, error) {
	return EvaluateContext(context.Background(), path, src, opts)
}

// EvaluateContext is Evaluate stopped, with an error at the position it had
// reached, when ctx ends.
func EvaluateContext(ctx context.Context, path string, src []byte, opts Options) (*Plan, error) {
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	ev := &Eval{
		opts:        opts,
		plan:        newPlan(path),
		root:        filepath.Dir(path),
		varDefaults: map[string]string{},
		domain:      map[string]any{},
		ports:       map[string]LogicalPort{},
	}
	ev.loads = newLoader(ev)
	ev.globals = modules()
	for k, v := range opts.Predeclared {
		ev.globals[k] = v
	}
	for k, v := range opts.Registry.globals(ev) {
		ev.globals[k] = v
	}
	if opts.OnStart != nil {
		opts.OnStart(ev)
	}
	if src == nil {
		b, err := opts.ReadFile(path)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("cannot read runbook: %v", err)}
		}
		src = b
	}
	stop := ev.watch(ctx, opts.MaxMemory)
	_, err := ev.loads.exec(path, src)
	stop()
	if err != nil {
		return nil, wrapError(err)
	}
	if err := ev.checkVars(); err != nil {
		return nil, err
	}
	for _, d := range ev.atEnd {
		if err := d.fn(); err != nil {
			return nil, &Error{Pos: d.stack[0], Msg: fmt.Sprintf("%s: %v", d.name, err), Backtrace: stackString(d.stack)}
		}
	}
	return ev.plan, nil
}

// checkVars refuses -D settings that no var() read: a typo in a variable name
// must not silently fall back to the seed's default address. It is a mistake
// on the command line, not in the runbook: an *UnreadVarsError.
func (ev *Eval) checkVars() error {
	var unread []string
	for name := range ev.opts.Vars {
		if _, ok := ev.varDefaults[name]; !ok {
			unread = append(unread, name)
		}
	}
	if len(unread) == 0 {
		return nil
	}
	sort.Strings(unread)
	known := make([]string, 0, len(ev.varDefaults))
	for n := range ev.varDefaults {
		known = append(known, n)
	}
	sort.Strings(known)
	return &UnreadVarsError{Names: unread, Known: known}
}

// newThread returns a thread for executing one file of the runbook.
func (ev *Eval) newThread(name string) *starlark.Thread {
	th := &starlark.Thread{
		Name: name,
		Load: ev.loads.load,
		Print: func(_ *starlark.Thread, msg string) {
			if ev.opts.Print != nil {
				ev.opts.Print(msg)
			}
		},
	}
	return th
}

// Plan returns the plan being built.
func (ev *Eval) Plan() *Plan { return ev.plan }

// Domain returns the state a domain package keeps for this evaluation,
// creating it with init on first use. Keys are domain names.
func (ev *Eval) Domain(key string, init func() any) any {
	s, ok := ev.domain[key]
	if !ok {
		s = init()
		ev.domain[key] = s
	}
	return s
}

// Input returns the input set under key in Options.Inputs, or nil.
func (ev *Eval) Input(key string) any { return ev.opts.Inputs[key] }

// Call is one invocation of a builtin.
type Call struct {
	Ev      *Eval
	Thread  *starlark.Thread
	Builtin *starlark.Builtin
	Args    starlark.Tuple
	Kwargs  []starlark.Tuple
}

// Name is the builtin's name, for messages.
func (c *Call) Name() string { return c.Builtin.Name() }

// Unpack unpacks the arguments; see UnpackArgs.
func (c *Call) Unpack(npos int, pairs ...any) error {
	return UnpackArgs(c.Builtin, c.Args, c.Kwargs, npos, pairs...)
}

// Errorf returns an error prefixed with the builtin's name.
func (c *Call) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", c.Name(), fmt.Sprintf(format, args...))
}

// Stack returns the runbook call stack of this call, innermost first.
func (c *Call) Stack() []Pos {
	depth := c.Thread.CallStackDepth()
	stack := make([]Pos, 0, depth-1)
	for i := 1; i < depth; i++ {
		fr := c.Thread.CallFrame(i)
		stack = append(stack, Pos{fr.Pos.Filename(), fr.Pos.Line, fr.Pos.Col})
	}
	return stack
}

// Pos returns the position of this call in the runbook.
func (c *Call) Pos() Pos {
	fr := c.Thread.CallFrame(1)
	return Pos{fr.Pos.Filename(), fr.Pos.Line, fr.Pos.Col}
}

// Add appends a to the current step, refusing a duplicate ID.
func (c *Call) Add(a Action) error {
	ev := c.Ev
	m := a.Meta()
	if m.ID == "" {
		m.ID = m.Kind + "/" + m.Name
	}
	if old, ok := ev.plan.byID[m.ID]; ok {
		return c.Errorf("%s %q is already declared at %s", strings.ReplaceAll(m.Kind, "_", " "), m.Name, old.Meta().Pos())
	}
	m.Stack = c.Stack()
	if ev.step == nil {
		// Actions declared outside any step() form an implicit first step.
		ev.step = &Step{Name: "main", Pos: m.Pos()}
		ev.plan.Steps = append(ev.plan.Steps, ev.step)
	}
	m.Step = ev.step.Name
	ev.step.Actions = append(ev.step.Actions, a)
	ev.plan.byID[m.ID] = a
	return nil
}

// Lookup returns the action with id, or an error naming what kind of object
// was expected, for resolving references by name.
func (c *Call) Lookup(id, what, name string) (Action, error) {
	a, ok := c.Ev.plan.byID[id]
	if !ok {
		return nil, c.Errorf("no %s %q is declared (declare it before referring to it)", what, name)
	}
	return a, nil
}

// AddHost declares a host.
func (c *Call) AddHost(h *Host) error {
	if old, ok := c.Ev.plan.Hosts[h.Name]; ok {
		return c.Errorf("host %q is already declared at %s", h.Name, old.Pos)
	}
	h.Pos = c.Pos()
	c.Ev.plan.Hosts[h.Name] = h
	return nil
}

// SetSetting records a runbook-wide setting once.
func (c *Call) SetSetting(key string, v any) error {
	if _, ok := c.Ev.plan.Setting(key); ok {
		return c.Errorf("%s is already set", key)
	}
	c.Ev.plan.Settings = append(c.Ev.plan.Settings, F(key, v))
	return nil
}

// AtEnd registers fn to run once the whole runbook has been evaluated, for
// references that may point forward (attach() in a step before the one that
// declares the port). An error is reported at this call's position.
func (c *Call) AtEnd(fn func() error) {
	c.Ev.atEnd = append(c.Ev.atEnd, deferred{stack: c.Stack(), name: c.Name(), fn: fn})
}

// DeclarePort makes a logical switch port findable by name from any domain.
func (ev *Eval) DeclarePort(p LogicalPort) { ev.ports[p.PortName()] = p }

// Port returns the logical switch port called name, if declared.
func (ev *Eval) Port(name string) (LogicalPort, bool) {
	p, ok := ev.ports[name]
	return p, ok
}

// stackString renders a call stack, innermost first, as a traceback.
func stackString(stack []Pos) string {
	if len(stack) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):")
	for i := len(stack) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "\n  %s", stack[i])
	}
	return b.String()
}
