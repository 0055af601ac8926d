package topo

import (
	"fmt"
	"io"
	"strings"
)

// Colours of block headers, by kind; edges by link kind.
var (
	headerColor = map[string]string{
		"switch":  "#cfe2f3",
		"router":  "#f9cb9c",
		"network": "#d9ead3",
		"chassis": "#fff2cc",
		"host":    "#eeeeee",
		"vm":      "#ead1dc",
		"bridge":  "#d0e0e3",
	}
	edgeAttrs = map[LinkKind]string{
		LinkPeer:           `penwidth=2`,
		LinkVIF:            `color="#555555"`,
		LinkLocalnet:       `penwidth=2, color="#38761d"`,
		LinkBridgeMapping:  `style=dashed, color="#38761d", fontcolor="#38761d"`,
		LinkGatewayChassis: `style=dashed, penwidth=1.5, color="#cc0000", fontcolor="#cc0000"`,
		LinkGatewayRouter:  `style=dashed, penwidth=1.5, color="#cc0000", fontcolor="#cc0000"`,
		LinkRoute:          `style=dotted`,
	}
)

// WriteDOT writes the topology as an undirected Graphviz graph: switches and
// routers as tables of their ports, one cluster per host holding its
// chassis, bridges and VMs, and an edge per Link.
func WriteDOT(w io.Writer, t *Topology) error {
	sc := newScene(t)
	var b strings.Builder
	b.WriteString("// The topology of " + sc.title + ", drawn by ovnrun graph.\n")
	b.WriteString("graph ovn {\n")
	fmt.Fprintf(&b, "\tgraph [label=%s, labelloc=t, fontname=\"Helvetica\", fontsize=12, newrank=true, nodesep=0.3, ranksep=0.7];\n", dotQuote(sc.title))
	b.WriteString("\tnode [shape=plain, fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	ports := map[Ref]string{}
	for _, bl := range sc.blocks {
		writeDOTBlock(&b, "\t", bl, ports)
	}
	for _, c := range sc.clusters {
		_, name := c.ref.split()
		fmt.Fprintf(&b, "\tsubgraph %s {\n", dotQuote("cluster_"+name))
		fmt.Fprintf(&b, "\t\tlabel=%s; style=\"rounded,filled\"; fillcolor=\"#f7f7f7\"; color=\"#999999\";\n", dotQuote(c.title))
		for _, bl := range c.blocks {
			writeDOTBlock(&b, "\t\t", bl, ports)
		}
		b.WriteString("\t}\n")
	}
	for _, e := range sc.edges {
		attrs := edgeAttrs[e.kind]
		if e.label != "" {
			attrs += ", label=" + dotQuote(e.label)
		}
		if e.loose {
			attrs += ", constraint=false"
		}
		from, to := dotEnd(e.from, ports), dotEnd(e.to, ports)
		if !e.loose {
			// Leave the upper end at its bottom, enter the lower at its top.
			from, to = from+":s", to+":n"
		}
		fmt.Fprintf(&b, "\t%s -- %s [%s];\n", from, to, attrs)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDOTBlock writes a block as a node whose HTML-like label is a table:
// the title, then a cell per port, then the notes. The port name of each cell
// an edge can end at is recorded in ports.
func writeDOTBlock(b *strings.Builder, indent string, bl *block, ports map[Ref]string) {
	cols := max(1, len(bl.ports))
	style := ""
	if len(bl.ports) == 0 {
		style = ` STYLE="rounded"`
	}
	fmt.Fprintf(b, "%s%s [label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\" BGCOLOR=\"white\"%s>", indent, dotQuote(string(bl.ref)), style)
	row := "\n" + indent + "\t<TR>" // one table row a line, for readable diffs
	fmt.Fprintf(b, "%s<TD COLSPAN=\"%d\" BGCOLOR=\"%s\"><B>%s</B>", row, cols, headerColor[bl.kind], htmlText(bl.title[0]))
	for _, line := range bl.title[1:] {
		b.WriteString("<BR/>" + htmlText(line))
	}
	b.WriteString("</TD></TR>")
	if len(bl.ports) > 0 {
		b.WriteString(row)
		for i, p := range bl.ports {
			attrs := ""
			if p.ref != "" {
				name := fmt.Sprintf("p%d", i)
				ports[p.ref] = dotQuote(string(bl.ref)) + ":" + name
				attrs = ` PORT="` + name + `"`
			}
			text := "<B>" + htmlText(p.lines[0]) + "</B>"
			for _, line := range p.lines[1:] {
				text += "<BR/>" + htmlText(line)
			}
			if p.muted {
				text = `<FONT COLOR="#999999">` + text + `</FONT>`
			}
			fmt.Fprintf(b, "\n%s\t\t<TD%s>%s</TD>", indent, attrs, text) // a port a line
		}
		b.WriteString("\n" + indent + "\t</TR>")
	}
	if len(bl.notes) > 0 {
		fmt.Fprintf(b, "%s<TD COLSPAN=\"%d\" ALIGN=\"LEFT\" BALIGN=\"LEFT\">", row, cols)
		for i, n := range bl.notes {
			if i > 0 {
				b.WriteString("<BR/>")
			}
			b.WriteString(htmlText(n))
		}
		b.WriteString("</TD></TR>")
	}
	b.WriteString("\n" + indent + "</TABLE>>];\n")
}

// dotEnd returns the DOT endpoint of an edge: a row's port, else the node.
func dotEnd(ref Ref, ports map[Ref]string) string {
	if p, ok := ports[ref]; ok {
		return p
	}
	return dotQuote(string(ref))
}

// dotQuote returns s as a DOT quoted string.
func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return `"` + s + `"`
}

// htmlText escapes s for an HTML-like label.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
