package ovn

import (
	"slices"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// A Mirror (OVN 22.12 and later) is a named root row; the switch ports
// whose traffic it copies reference it through mirror_rules, and one mirror
// may serve many ports.
var (
	portMirrors = &Ref{Table: "Logical_Switch_Port", Column: "mirror_rules", Field: "ports", Many: true}
	tableMirror = describe(&Table{Name: "Mirror", Builtin: "mirror()", Key: []string{"name"},
		Columns: []string{"type", "sink", "filter", "index", "external_ids"}, In: []*Ref{portMirrors}})
)

var _ = family(interp.Builtin{Domain: "ovn", Name: "mirror", Signature: "mirror(name, type, sink, filter=, index=0, ports=[], external_ids=)", Fn: mirrorBuiltin,
	Doc: `Declares a Mirror named name, as ovn-nbctl mirror-add NAME TYPE INDEX FILTER SINK does, and attaches
it to each of ports= (switch ports or their names, declared before), as ovn-nbctl lsp-attach-mirror
PORT NAME does. type is gre or erspan; sink the address of the remote end of the tunnel the copies go
to; filter= is from-lport (what the ports send) or to-lport (what they receive); index= is the GRE key
(0 to 4294967295) or the ERSPAN session index (0 to 1048575). Needs OVN 22.12 or later: on an older
NB, planning fails naming the table.`})

// mirror(name, type, sink, filter=, index=, ports=, external_ids=)
func mirrorBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        interp.Name
		typ, filter string
		sink        interp.IP
		indexv      starlark.Value = starlark.MakeInt(0)
		ports       *starlark.List
		externalIDs interp.StringMap
	)
	if err := c.Unpack(3, "name", &name, "type", &typ, "sink", &sink, "filter", &filter, "index?", &indexv,
		"ports?", &ports, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	maxIndex := int64(1<<32 - 1)
	switch typ {
	case "gre":
	case "erspan":
		maxIndex = 1<<20 - 1 // the ERSPAN header's 20-bit index
	default:
		return nil, c.Errorf("type %q: want gre or erspan", typ)
	}
	if filter != "from-lport" && filter != "to-lport" {
		return nil, c.Errorf("filter %q: want from-lport or to-lport", filter)
	}
	index, err := intArg(c, "index", indexv, 0, maxIndex)
	if err != nil {
		return nil, err
	}
	a := newRow(tableMirror, string(name), map[string]any{"type": typ, "sink": sink, "filter": filter,
		"index": index, "external_ids": externalIDs})
	if ports != nil {
		st := stateOf(c)
		var names []string
		for i := range ports.Len() {
			p, err := st.portRef(c, "ports", ports.Index(i))
			if err != nil {
				return nil, err
			}
			if slices.Contains(names, p.name) {
				return nil, c.Errorf("ports: %s is given twice", p.name)
			}
			names = append(names, p.name)
			a.M.DependsOn = append(a.M.DependsOn, p.a.M.ID)
			a.link(portMirrors, p.name)
		}
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
