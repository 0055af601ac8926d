package interp

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SummaryLine is the closing line of a plan.
func (s Summary) Line() string {
	if s.Add == 0 && s.Change == 0 && s.Destroy == 0 {
		return "No changes."
	}
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
}

// TextOptions change how WriteTextWith prints a plan; the zero value
// prints what WriteText does.
type TextOptions struct {
	// Colour paints the op markers (+ ~ - >) with ANSI colours, for a
	// terminal; the rest of the text is the same byte for byte.
	Colour bool
}

// WriteText prints the plan as a lab engineer reads it: settings, then each
// step with one block per action (op marker, kind, name, position, then the
// salient fields), and the summary line last.
func WriteText(w io.Writer, p *Plan, steps []StepChanges) error {
	return WriteTextWith(w, p, steps, TextOptions{})
}

// WriteTextWith is WriteText with options.
func WriteTextWith(w io.Writer, p *Plan, steps []StepChanges, opts TextOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Runbook %s\n", p.Runbook)
	for _, f := range p.Settings {
		fmt.Fprintf(&b, "  %s = %s\n", f.Key, FormatValue(f.Value))
	}
	for _, h := range p.HostList() {
		fmt.Fprintf(&b, "  host %s = %s\n", h.Name, hostLine(h))
	}
	for _, l := range p.Libraries {
		fmt.Fprintf(&b, "  library %s = commit %s\n", l.Source, l.Commit)
	}
	for _, f := range p.Files {
		fmt.Fprintf(&b, "  read %s sha256:%s  (%s)\n", f.Path, f.SHA256, f.Pos)
	}
	n := 0
	for _, st := range steps {
		n += len(st.Changes)
	}
	// A port of the bulk runbook takes ~120 bytes; grown by doubling, its
	// plan's 1.3 MB were allocated and copied a dozen times over.
	b.Grow(b.Len() + 160*n)
	for _, st := range steps {
		fmt.Fprintf(&b, "\nStep %s (%s)\n", st.Step.Name, st.Step.Pos)
		if len(st.Changes) == 0 {
			b.WriteString("  (no actions)\n")
		}
		for _, c := range st.Changes {
			writeChange(&b, p.Runbook, c, opts)
		}
	}
	s := Summarize(steps)
	b.WriteString("\n")
	if s.Run > 0 {
		fmt.Fprintf(&b, "%d command(s) will run.\n", s.Run)
	}
	b.WriteString(s.Line() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func hostLine(h *Host) string {
	var parts []string
	if h.Local {
		parts = append(parts, "local")
	} else {
		parts = append(parts, fmt.Sprintf("%s@%s:%d", h.User, h.Address, h.Port))
	}
	if h.SystemID != "" {
		parts = append(parts, "chassis "+h.SystemID)
	}
	if h.Become && !h.Local {
		parts = append(parts, "commands as root through sudo")
	}
	line := strings.Join(parts, ", ")
	if h.Via != "" {
		line += fmt.Sprintf(" (%s; the runbook says %s)", h.Via, h.Declared)
	}
	return line
}

func writeChange(b *strings.Builder, runbook string, c Change, opts TextOptions) {
	m := c.Action.Meta()
	marker := c.Op.Symbol()
	if opts.Colour {
		marker = colourMarker(c.Op)
	}
	// WriteString, not Fprintf: the plan of a large runbook has tens of
	// thousands of these lines.
	for _, s := range []string{"  ", marker, " ", m.Kind, " ", m.Name} {
		b.WriteString(s)
	}
	if len(m.Stack) > 0 { // none: a leftover no line declares any more
		for _, s := range []string{"  (", where(m, runbook), ")"} {
			b.WriteString(s)
		}
	}
	b.WriteString("\n")
	if c.Note != "" {
		fmt.Fprintf(b, "      # %s\n", c.Note)
	}
	if c.Op == OpUpdate {
		for _, d := range c.Diffs {
			fmt.Fprintf(b, "      %s: %s -> %s\n", d.Key, FormatValue(d.Old), FormatValue(d.New))
		}
		return
	}
	if c.Op == OpUnchanged || c.Op == OpSkip {
		return
	}
	for _, f := range c.Action.Fields() {
		if IsEmpty(f.Value) {
			continue
		}
		for _, s := range []string{"      ", f.Key, ": ", FormatValue(f.Value), "\n"} {
			b.WriteString(s)
		}
	}
}

// markerColours are the ANSI SGR colours of the op markers that change
// something: green adds, yellow changes, red destroys, cyan runs.
var markerColours = map[Op]string{OpCreate: "32", OpUpdate: "33", OpDelete: "31", OpRun: "36"}

// colourMarker is op's marker in its colour, or plain when it changes
// nothing.
func colourMarker(op Op) string {
	if c, ok := markerColours[op]; ok {
		return "\x1b[" + c + "m" + op.Symbol() + "\x1b[0m"
	}
	return op.Symbol()
}

// where is the action's position, and when it was declared inside a
// library, also the nearest line of the runbook itself that led there: the
// line a lab engineer edits.
func where(m *Meta, runbook string) string {
	pos := m.Pos()
	if pos.File == runbook || len(m.Stack) < 2 {
		return pos.String()
	}
	for _, p := range m.Stack[1:] {
		if p.File == runbook {
			return pos.String() + " via " + p.String()
		}
	}
	return pos.String()
}

// The JSON plan. Field names are part of ovnrun's interface and documented
// in docs/plan-json.md; add fields, never rename them.
type jsonPlan struct {
	FormatVersion int               `json:"format_version"`
	Runbook       string            `json:"runbook"`
	Settings      map[string]any    `json:"settings"`
	Hosts         []jsonHost        `json:"hosts"`
	Vars          map[string]string `json:"vars"`
	Libraries     []jsonLibrary     `json:"libraries,omitempty"`
	Files         []jsonFile        `json:"files,omitempty"`
	Steps         []jsonStep        `json:"steps"`
	Summary       jsonSummary       `json:"summary"`
}

type jsonHost struct {
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"`
	User     string `json:"user,omitempty"`
	Port     int    `json:"port,omitempty"`
	Local    bool   `json:"local,omitempty"`
	SystemID any    `json:"system_id"`
	Pos      string `json:"pos"`
	// Via and Declared: see Host.
	Via      string `json:"via,omitempty"`
	Declared string `json:"declared,omitempty"`
}

// jsonLibrary is a versioned source the runbook loaded (Library).
type jsonLibrary struct {
	Source string `json:"source"`
	Commit string `json:"commit"`
}

type jsonFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Pos    string `json:"pos"`
}

type jsonStep struct {
	Name    string       `json:"name"`
	Pos     string       `json:"pos"`
	Actions []jsonAction `json:"actions"`
}

type jsonAction struct {
	ID        string         `json:"id"`
	Op        Op             `json:"op"`
	Kind      string         `json:"kind"`
	Name      string         `json:"name"`
	Driver    string         `json:"driver"`
	Host      string         `json:"host,omitempty"`
	Pos       string         `json:"pos"`
	Trace     []string       `json:"trace,omitempty"`
	DependsOn []string       `json:"depends_on,omitempty"`
	Fields    map[string]any `json:"fields"`
	Diffs     []jsonDiff     `json:"diffs,omitempty"`
	Note      string         `json:"note,omitempty"`
}

type jsonDiff struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

type jsonSummary struct {
	Add       int    `json:"add"`
	Change    int    `json:"change"`
	Destroy   int    `json:"destroy"`
	Run       int    `json:"run"`
	Unchanged int    `json:"unchanged"`
	Skip      int    `json:"skip"`
	Line      string `json:"line"`
}

// WriteJSON prints the same plan as WriteText in JSON.
func WriteJSON(w io.Writer, p *Plan, steps []StepChanges) error {
	out := jsonPlan{FormatVersion: 1, Runbook: p.Runbook, Settings: map[string]any{}, Vars: p.Vars,
		Hosts: []jsonHost{}, Steps: []jsonStep{}}
	for _, f := range p.Settings {
		out.Settings[f.Key] = JSONValue(f.Value)
	}
	for _, h := range p.HostList() {
		out.Hosts = append(out.Hosts, jsonHost{Name: h.Name, Address: h.Address, User: h.User, Port: h.Port,
			Local: h.Local, SystemID: JSONValue(h.ChassisField()), Pos: h.Pos.String(), Via: h.Via, Declared: h.Declared})
	}
	for _, l := range p.Libraries {
		out.Libraries = append(out.Libraries, jsonLibrary{l.Source, l.Commit})
	}
	for _, f := range p.Files {
		out.Files = append(out.Files, jsonFile{f.Path, f.SHA256, f.Pos.String()})
	}
	for _, st := range steps {
		js := jsonStep{Name: st.Step.Name, Pos: st.Step.Pos.String(), Actions: []jsonAction{}}
		for _, c := range st.Changes {
			js.Actions = append(js.Actions, actionJSON(c))
		}
		out.Steps = append(out.Steps, js)
	}
	s := Summarize(steps)
	out.Summary = jsonSummary{s.Add, s.Change, s.Destroy, s.Run, s.Unchanged, s.Skip, s.Line()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func actionJSON(c Change) jsonAction {
	m := c.Action.Meta()
	ja := jsonAction{ID: m.ID, Op: c.Op, Kind: m.Kind, Name: m.Name, Driver: m.Driver, Host: m.Host,
		DependsOn: m.DependsOn, Fields: map[string]any{}, Note: c.Note}
	if len(m.Stack) > 0 { // none: a leftover no line declares any more
		ja.Pos = m.Pos().String()
	}
	if len(m.Stack) > 1 {
		for _, p := range m.Stack[1:] {
			ja.Trace = append(ja.Trace, p.String())
		}
	}
	for _, f := range c.Action.Fields() {
		if !IsEmpty(f.Value) {
			ja.Fields[f.Key] = JSONValue(f.Value)
		}
	}
	for _, d := range c.Diffs {
		ja.Diffs = append(ja.Diffs, jsonDiff{d.Key, JSONValue(d.Old), JSONValue(d.New)})
	}
	return ja
}
