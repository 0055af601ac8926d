package interp

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Pos is a position in a runbook or library file.
type Pos struct {
	File      string
	Line, Col int32
}

func (p Pos) String() string {
	// strconv, not fmt: a large plan prints one position per action.
	s := p.File + ":" + strconv.Itoa(int(p.Line))
	if p.Col > 0 {
		s += ":" + strconv.Itoa(int(p.Col))
	}
	return s
}

// Mode says how an action converges.
type Mode int

const (
	// Resource actions describe desired state; they are created, updated,
	// left alone or destroyed.
	Resource Mode = iota
	// Command actions do something each apply (unless a guard says it is
	// already done): shell commands, pings.
	Command
)

// Meta is what every action carries. Domain packages fill Kind, Name, Driver,
// Host and DependsOn; Eval.Add fills ID (unless set), Step and Stack.
type Meta struct {
	// ID is unique in a plan and stable across runs: "<kind>/<name>".
	ID   string
	Kind string // OVN or host vocabulary: logical_switch, vm, ovs_external_ids...
	Name string
	Mode Mode
	// Driver names the driver that applies the action ("nb", "host", "ovs",
	// "libvirt", "check"); Host names the host it runs on, if any.
	Driver string
	Host   string
	// DependsOn lists the IDs of actions that must be applied first.
	DependsOn []string
	Step      string
	// Stack is the runbook call stack that declared the action, innermost
	// first: Stack[0] is the call of the builtin.
	Stack []Pos
}

// Pos returns where the action was declared.
func (m *Meta) Pos() Pos {
	if len(m.Stack) == 0 {
		return Pos{}
	}
	return m.Stack[0]
}

// Action is one unit of desired state or work in a plan. Domain packages
// define the concrete types and embed Meta through ActionMeta.
type Action interface {
	Meta() *Meta
	// Fields returns the salient desired state in display order. It is what
	// the plan prints and what a desired-state hash covers.
	Fields() []Field
}

// ActionMeta implements Action.Meta for embedding.
type ActionMeta struct{ M Meta }

// Meta implements Action.
func (a *ActionMeta) Meta() *Meta { return &a.M }

// Field is one named piece of an action's desired state. Value is one of:
// string, int, bool, []string, map[string]string, a fmt.Stringer (MAC, IP,
// CIDR...), *Future, or nil for unset.
type Field struct {
	Key   string
	Value any
}

// F builds a Field.
func F(key string, value any) Field { return Field{key, value} }

// IsEmpty reports whether a field value is unset and not worth printing.
func IsEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case map[string]string:
		return len(v) == 0
	case map[string]int:
		return len(v) == 0
	case StringMap:
		return len(v) == 0
	case fmt.Stringer:
		return v.String() == ""
	}
	return false
}

// FormatValue renders a field value for the text plan.
func FormatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "(unset)"
	case string:
		return strconv.Quote(v) // as %q, without fmt's cost per value
	case []string:
		// Appended in one buffer: a port's addresses are one of these.
		n := 2
		for _, s := range v {
			n += len(s) + 4 // quotes and separator, escapes aside
		}
		b := append(make([]byte, 0, n), '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendQuote(b, s)
		}
		return string(append(b, ']'))
	case StringMap:
		return FormatValue(map[string]string(v))
	case map[string]string:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%q", k, v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]int:
		// QoS bandwidth and action columns: {burst=20, rate=100}.
		parts := make([]string, 0, len(v))
		for k, n := range v {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case *Future:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// JSONValue converts a field value to its documented JSON form: strings,
// numbers, booleans, arrays and objects as themselves; typed network values
// as their text; a future as {"after_apply": "<action id>.<attribute>"}.
func JSONValue(v any) any {
	switch v := v.(type) {
	case *Future:
		return map[string]string{"after_apply": v.From + "." + v.Attr}
	case StringMap:
		return map[string]string(v)
	case string, int, int64, bool, []string, map[string]string, map[string]int, nil:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}
