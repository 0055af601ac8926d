package topo

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// mermaidLinks are the Mermaid link operators by link kind: thick for
// patches and uplinks, dotted for what is configuration rather than a wire.
var mermaidLinks = map[LinkKind]string{
	LinkPeer:           "===",
	LinkVIF:            "---",
	LinkLocalnet:       "===",
	LinkBridgeMapping:  "-.-",
	LinkGatewayChassis: "-.-",
	LinkGatewayRouter:  "-.-",
	LinkRoute:          "-.-",
}

// WriteMermaid writes the topology as a Mermaid flowchart: a switch, router
// or VM with ports that edges end at is a subgraph of port nodes, anything
// else one node, and each host a subgraph.
func WriteMermaid(w io.Writer, t *Topology) error {
	sc := newScene(t)
	m := &mermaid{ends: sc.endpoints(), ids: map[Ref]string{}, used: map[string]bool{}}
	m.b.WriteString("flowchart TB\n")
	m.b.WriteString("  %% The topology of " + strings.ReplaceAll(sc.title, "\n", " ") + ", drawn by ovnrun graph.\n")
	for _, kind := range []string{"switch", "router", "network", "chassis", "host", "vm", "bridge"} {
		fmt.Fprintf(&m.b, "  classDef %s fill:%s,stroke:#666,color:#000\n", kind, headerColor[kind])
	}
	m.b.WriteString("  classDef muted fill:#f4f4f4,stroke:#bbb,color:#999\n")
	for _, bl := range sc.blocks {
		m.block("  ", bl)
	}
	for _, c := range sc.clusters {
		fmt.Fprintf(&m.b, "  subgraph %s [%s]\n", m.id(c.ref), mermaidText(c.title))
		for _, bl := range c.blocks {
			m.block("    ", bl)
		}
		m.b.WriteString("  end\n")
	}
	var red []string
	for i, e := range sc.edges {
		op := mermaidLinks[e.kind]
		if e.label != "" {
			op += "|" + mermaidText(e.label) + "|"
		}
		fmt.Fprintf(&m.b, "  %s %s %s\n", m.id(e.from), op, m.id(e.to))
		if e.kind == LinkGatewayChassis || e.kind == LinkGatewayRouter {
			red = append(red, fmt.Sprint(i))
		}
	}
	if len(red) > 0 {
		fmt.Fprintf(&m.b, "  linkStyle %s stroke:#cc0000,color:#cc0000\n", strings.Join(red, ","))
	}
	_, err := io.WriteString(w, m.b.String())
	return err
}

type mermaid struct {
	b    strings.Builder
	ends map[Ref]bool
	ids  map[Ref]string
	used map[string]bool
}

// block writes a block as one node, or, when edges end at its ports, as a
// subgraph with a node per port (and a header node if edges end at the block
// itself).
func (m *mermaid) block(indent string, bl *block) {
	expand := false
	for _, p := range bl.ports {
		expand = expand || m.ends[p.ref]
	}
	if !expand {
		lines := slices.Clone(bl.title)
		for _, p := range bl.ports {
			lines = append(lines, strings.Join(p.lines, " "))
		}
		lines = append(lines, bl.notes...)
		fmt.Fprintf(&m.b, "%s%s%s:::%s\n", indent, m.id(bl.ref), shape(bl.kind, mermaidText(strings.Join(lines, "\n"))), bl.kind)
		return
	}
	fmt.Fprintf(&m.b, "%ssubgraph %s [%s]\n", indent, m.id(Ref("group:"+string(bl.ref))), mermaidText(strings.Join(bl.title, "\n")))
	if m.ends[bl.ref] {
		fmt.Fprintf(&m.b, "%s  %s[%s]:::%s\n", indent, m.id(bl.ref), mermaidText(bl.title[0]), bl.kind)
	}
	for i, p := range bl.ports {
		class := bl.kind
		if p.muted {
			class = "muted"
		}
		ref := p.ref
		if ref == "" {
			ref = Ref(fmt.Sprintf("%s#%d", bl.ref, i))
		}
		fmt.Fprintf(&m.b, "%s  %s[%s]:::%s\n", indent, m.id(ref), mermaidText(strings.Join(p.lines, "\n")), class)
	}
	if len(bl.notes) > 0 {
		fmt.Fprintf(&m.b, "%s  %s[%s]:::%s\n", indent, m.id(Ref("notes:"+string(bl.ref))), mermaidText(strings.Join(bl.notes, "\n")), bl.kind)
	}
	m.b.WriteString(indent + "end\n")
}

// shape wraps a node's text in the shape of its kind.
func shape(kind, text string) string {
	switch kind {
	case "network":
		return "([" + text + "])"
	case "chassis", "host":
		return "{{" + text + "}}"
	}
	return "[" + text + "]"
}

// id returns the Mermaid identifier of ref: letters, digits and '_' only,
// unique, and the same on every run (refs are met in a fixed order).
func (m *mermaid) id(ref Ref) string {
	if id, ok := m.ids[ref]; ok {
		return id
	}
	var b strings.Builder
	for _, r := range string(ref) {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	for base, i := id, 2; m.used[id]; i++ {
		id = fmt.Sprintf("%s_%d", base, i)
	}
	m.used[id] = true
	m.ids[ref] = id
	return id
}

// mermaidText quotes s as a Mermaid label: lines joined with <br/>, and the
// characters Mermaid would read as syntax written as entity codes.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", "<br/>")
	return `"` + r.Replace(s) + `"`
}
