package interp

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// coreBuiltins are the builtins every runbook has, whatever domains are
// registered: grouping (step), parameters (var), files beside the runbook
// (read_file) and the address helpers (netBuiltins).
func coreBuiltins() []Builtin {
	return append([]Builtin{
		{
			Name:      "step",
			Signature: "step(name, fn)",
			Domain:    "core",
			Doc: `Declares a step: calls fn() now and puts every action it declares into the step called name.
Steps apply in the order declared; --only and --from select them by name. Steps do not nest. Actions
declared outside any step go to an implicit first step called "main".`,
			Fn: stepBuiltin,
		},
		{
			Name:      "var",
			Signature: "var(name, default)",
			Domain:    "core",
			Doc: `Returns the value of the runbook variable name: the -D name=value given on the command line, else
default. The type of default decides how the command-line text is read: string, int, bool
(true/false) or list of strings (comma-separated). A -D that no var() reads is an error.`,
			Fn: varBuiltin,
		},
		{
			Name:      "read_file",
			Signature: "read_file(path)",
			Domain:    "core",
			Doc:       readFileDoc,
			Fn:        readFileBuiltin,
		},
		{
			Name:      "lab",
			Signature: "lab(name)",
			Domain:    "core",
			Doc: `Names the lab this runbook builds: name becomes its owner identity, the tag ovnrun puts on every NB
row and VM it creates, instead of one derived from the runbook's path (its base name and a hash of its
absolute path). Two runbooks with one lab() name own the same rows; copies of one runbook in two
directories without lab() own different rows. --owner overrides both. Rows, VMs and host settings
that the owner created and the runbook no longer declares are destroyed or undone on apply
(--no-prune keeps them). Call it once, at top level.`,
			Fn: labBuiltin,
		},
	}, netBuiltins()...)
}

func stepBuiltin(c *Call) (starlark.Value, error) {
	var name Name
	var fn starlark.Callable
	if err := c.Unpack(2, "name", &name, "fn", &fn); err != nil {
		return nil, err
	}
	ev := c.Ev
	if ev.step != nil && ev.inStep {
		return nil, c.Errorf("step %q is declared inside step %q; steps do not nest", name, ev.step.Name)
	}
	for _, s := range ev.plan.Steps {
		if s.Name == string(name) {
			return nil, c.Errorf("step %q is already declared at %s", name, s.Pos)
		}
	}
	s := &Step{Name: string(name), Pos: c.Pos()}
	ev.plan.Steps = append(ev.plan.Steps, s)
	prev := ev.step
	ev.step, ev.inStep = s, true
	defer func() { ev.step, ev.inStep = prev, false }()
	if _, err := starlark.Call(c.Thread, fn, nil, nil); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// OwnerSetting is the plan setting lab() records: the runbook's owner
// identity.
const OwnerSetting = "lab"

func labBuiltin(c *Call) (starlark.Value, error) {
	var name Name
	if err := c.Unpack(1, "name", &name); err != nil {
		return nil, err
	}
	if c.Ev.step != nil && c.Ev.inStep {
		return nil, c.Errorf("lab() is called inside step %q; call it at top level", c.Ev.step.Name)
	}
	if err := c.SetSetting(OwnerSetting, string(name)); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func varBuiltin(c *Call) (starlark.Value, error) {
	var name Name
	var def starlark.Value
	if err := c.Unpack(2, "name", &name, "default", &def); err != nil {
		return nil, err
	}
	if !isTyped(def) {
		return nil, c.Errorf("default of type %s cannot be set from the command line; use string, int, bool or list", def.Type())
	}
	ev := c.Ev
	defText := def.String()
	if old, ok := ev.varDefaults[string(name)]; ok && old != defText {
		return nil, c.Errorf("variable %q is read again with a different default (%s, before %s)", name, defText, old)
	}
	ev.varDefaults[string(name)] = defText
	text, given := ev.opts.Vars[string(name)]
	if !given {
		ev.plan.Vars[string(name)] = displayVar(def)
		return def, nil
	}
	v, err := parseVar(text, def)
	if err != nil {
		return nil, c.Errorf("-D %s=%s: %v", name, text, err)
	}
	ev.plan.Vars[string(name)] = text
	return v, nil
}

func displayVar(v starlark.Value) string {
	if s, ok := starlark.AsString(v); ok {
		return s
	}
	return v.String()
}

// isTyped reports whether def is of a type var() can read from text.
func isTyped(def starlark.Value) bool {
	switch def.(type) {
	case starlark.String, starlark.Int, starlark.Bool, *starlark.List:
		return true
	}
	return false
}

// parseVar reads command-line text as the type of def.
func parseVar(text string, def starlark.Value) (starlark.Value, error) {
	switch def.(type) {
	case starlark.String:
		return starlark.String(text), nil
	case starlark.Int:
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer")
		}
		return starlark.MakeInt64(n), nil
	case starlark.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("want true or false")
		}
		return starlark.Bool(b), nil
	case *starlark.List:
		var elems []starlark.Value
		for _, s := range strings.Split(text, ",") {
			if s = strings.TrimSpace(s); s != "" {
				elems = append(elems, starlark.String(s))
			}
		}
		return starlark.NewList(elems), nil
	}
	return nil, fmt.Errorf("default of type %s cannot be set from the command line", def.Type())
}
