package host

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Command is what sh() runs: either a shell script passed verbatim to
// `sh -c`, or an argv whose elements are quoted so the shell sees each as one
// word. Exactly one of Script and Argv is set.
type Command struct {
	Script string
	Argv   []string
}

// IsSet reports whether c holds a command.
func (c Command) IsSet() bool { return c.Script != "" || len(c.Argv) > 0 }

// String returns the shell text that runs c.
func (c Command) String() string {
	if c.Argv == nil {
		return c.Script
	}
	q := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}

// Unpack implements starlark.Unpacker: a string is a script, a list or tuple
// of strings an argv.
func (c *Command) Unpack(v starlark.Value) error {
	if s, ok := starlark.AsString(v); ok {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("empty command")
		}
		if strings.ContainsRune(s, 0) {
			return fmt.Errorf("command contains a NUL byte")
		}
		*c = Command{Script: s}
		return nil
	}
	var elems []starlark.Value
	switch l := v.(type) {
	case *starlark.List:
		for i := range l.Len() {
			elems = append(elems, l.Index(i))
		}
	case starlark.Tuple:
		elems = l
	default:
		return fmt.Errorf("got %s, want string (a script) or list of strings (an argv)", v.Type())
	}
	if len(elems) == 0 {
		return fmt.Errorf("empty argv")
	}
	argv := make([]string, len(elems))
	for i, e := range elems {
		s, ok := starlark.AsString(e)
		if !ok {
			return fmt.Errorf("argv[%d]: got %s, want string", i, e.Type())
		}
		if strings.ContainsRune(s, 0) {
			return fmt.Errorf("argv[%d] contains a NUL byte", i)
		}
		argv[i] = s
	}
	if argv[0] == "" {
		return fmt.Errorf("argv[0] is empty")
	}
	*c = Command{Argv: argv}
	return nil
}

// ShellQuote returns s as one POSIX shell word. Words made only of
// characters the shell never interprets are returned as they are, so plans
// stay readable; anything else is single-quoted, with each ' written '\”.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("@%+=:,./_-", r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Shell runs a command on a host through its shell, every apply unless its
// guard says the work is already done.
type Shell struct {
	interp.ActionMeta
	Cmd Command
	// Creates is a path; the command is skipped when it exists.
	Creates string
	// Unless is a command; the command is skipped when it succeeds.
	Unless Command
}

// Script returns the shell text the driver runs.
func (s *Shell) Script() string { return s.Cmd.String() }

// Guard implements interp.Guarded.
func (s *Shell) Guard() string {
	var conds []string
	if s.Creates != "" {
		conds = append(conds, s.Creates+" exists")
	}
	if s.Unless.IsSet() {
		conds = append(conds, "`"+s.Unless.String()+"` succeeds")
	}
	if len(conds) == 0 {
		return ""
	}
	return "runs unless " + strings.Join(conds, " or ")
}

// Fields implements interp.Action.
func (s *Shell) Fields() []interp.Field {
	return []interp.Field{
		interp.F("cmd", s.Script()),
		interp.F("argv", s.Cmd.Argv),
		interp.F("creates", s.Creates),
		interp.F("unless", s.Unless.String()),
	}
}

// Service is a systemd unit in a wanted state.
type Service struct {
	interp.ActionMeta
	Unit  string
	State string // started, stopped or restarted
}

// StartsService returns the unit the action starts (or restarts), "" when
// it stops it: the NB driver knows by it that a step starts the NB.
func (s *Service) StartsService() string {
	if s.State == "stopped" {
		return ""
	}
	return s.Unit
}

// Fields implements interp.Action.
func (s *Service) Fields() []interp.Field {
	return []interp.Field{interp.F("unit", s.Unit), interp.F("state", s.State)}
}

// ExternalIDs sets keys of the Open_vSwitch table's external_ids column on a
// host, leaving other keys alone.
type ExternalIDs struct {
	interp.ActionMeta
	IDs map[string]string
}

// Fields implements interp.Action.
func (e *ExternalIDs) Fields() []interp.Field {
	return []interp.Field{interp.F("external_ids", e.IDs)}
}

// OVSBridge is an OVS bridge with the ports (system interfaces) it holds.
type OVSBridge struct {
	interp.ActionMeta
	Bridge       string
	Ports        []string
	DatapathType string // "" (OVS default), system or netdev
}

// Fields implements interp.Action.
func (b *OVSBridge) Fields() []interp.Field {
	return []interp.Field{
		interp.F("bridge", b.Bridge),
		interp.F("ports", b.Ports),
		interp.F("datapath_type", b.DatapathType),
	}
}

// DBConnection is the Connection of an OVN database (NB or SB): the remotes
// its ovsdb-server listens on or connects to, as `ovn-nbctl set-connection`
// and `ovn-sbctl set-connection` set them.
type DBConnection struct {
	interp.ActionMeta
	DB      string // "nb" or "sb"
	Targets []string
	// InactivityProbe is the Connection rows' inactivity_probe in ms (0:
	// none); nil leaves what each row has.
	InactivityProbe *int `json:",omitempty"`
}

// OpensDB returns the database ("nb" or "sb") whose connection the action
// opens.
func (d *DBConnection) OpensDB() string { return d.DB }

// Fields implements interp.Action.
func (d *DBConnection) Fields() []interp.Field {
	f := []interp.Field{interp.F("targets", d.Targets)}
	if d.InactivityProbe != nil {
		f = append(f, interp.F("inactivity_probe", *d.InactivityProbe))
	}
	return f
}

// Route is a static route in a host's main routing table.
type Route struct {
	interp.ActionMeta
	Prefix interp.CIDR
	Via    interp.IP
	Dev    string
}

// Fields implements interp.Action.
func (r *Route) Fields() []interp.Field {
	return []interp.Field{interp.F("prefix", r.Prefix), interp.F("via", r.Via), interp.F("dev", r.Dev)}
}
