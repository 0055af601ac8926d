package ovn

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// The QoS and meter tables. A QoS rule is referenced by its switch; a meter
// is a named root row that holds its bands (Meter_Band rows, which live only
// while a meter references them).
var (
	switchQoS = &Ref{Table: "Logical_Switch", Column: "qos_rules", Field: "switch"}
	// ovn-nbctl qos-add refuses a second rule with the same direction,
	// priority and match on a switch: that is a QoS rule's natural key.
	tableQoS = describe(&Table{Name: "QoS", Builtin: "qos()", Key: []string{"direction", "priority", "match"}, KeyConflicts: true,
		Columns: []string{"direction", "priority", "match", "bandwidth", "action", "external_ids"},
		In:      []*Ref{switchQoS}})
	tableMeter = describe(&Table{Name: "Meter", Builtin: "meter()", Key: []string{"name"},
		Columns: []string{"unit", "fair", "external_ids"}})
	meterBands = &Ref{Table: "Meter", Column: "bands", Field: "meter"}
	// Bands have no name; another tool's band with the same values on the
	// meter is taken over only with --adopt (with the meter).
	tableMeterBand = describe(&Table{Name: "Meter_Band", Builtin: "meter(bands=)", Key: []string{"action", "rate", "burst_size"},
		Columns: []string{"action", "rate", "burst_size", "external_ids"}, In: []*Ref{meterBands}})
)

var _ = family(
	interp.Builtin{Domain: "ovn", Name: "qos", Signature: "qos(switch, direction, priority, match, rate=, burst=, dscp=, external_ids=)", Fn: qosBuiltin,
		Doc: `Declares a QoS rule on switch (a switch or its name), as ovn-nbctl qos-add SWITCH DIRECTION
PRIORITY MATCH [rate=RATE [burst=BURST]] [dscp=DSCP] does. direction is from-lport or to-lport;
priority 0 to 32767; match an OVN logical-flow match, parsed at evaluation (the port groups, address
sets and ports it names must be declared). rate= (kbps, 1 to 4294967295) with optional burst= (kbits,
1 to 4294967295) polices the matching traffic (the bandwidth column); dscp= (0 to 63) marks it (the
action column). At least one of rate= and dscp= is needed. One switch cannot have two rules with the
same direction, priority and match.`},
	interp.Builtin{Domain: "ovn", Name: "meter", Signature: `meter(name, unit, bands=[{"action": "drop", "rate": N, "burst_size": M}], fair=, external_ids=)`, Fn: meterBuiltin,
		Doc: `Declares a Meter named name with its Meter_Band rows, as ovn-nbctl [--fair] meter-add NAME drop RATE
UNIT [BURST] does for one band. unit is kbps or pktps. bands is a list of at least one dict: "rate"
(1 to 4294967295, in unit), "burst_size" (0 to 4294967295, kilobits or packets; 0 when left out) and
"action" ("drop", the only one OVN knows, when left out); two bands of one meter may not share a rate.
fair=True shares the meter fairly among the flows that use it (--fair). Names starting with "__"
are reserved for OVN. Returns a meter with attributes name, unit and id.`},
)

// qos(switch, direction, priority, match, rate=, burst=, dscp=, external_ids=)
func qosBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		swv, priorityv, ratev, burstv, dscpv starlark.Value
		direction, match                     string
		externalIDs                          interp.StringMap
	)
	if err := c.Unpack(4, "switch", &swv, "direction", &direction, "priority", &priorityv, "match", &match,
		"rate?", &ratev, "burst?", &burstv, "dscp?", &dscpv, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if direction != "from-lport" && direction != "to-lport" {
		return nil, c.Errorf("direction %q: want from-lport or to-lport", direction)
	}
	priority, err := intArg(c, "priority", priorityv, 0, 32767)
	if err != nil {
		return nil, err
	}
	sw, err := stateOf(c).switchRef(c, "switch", swv)
	if err != nil {
		return nil, err
	}
	if err := checkMatch(c, "match", match); err != nil {
		return nil, err
	}
	bandwidth := map[string]int{}
	if ratev != nil {
		if bandwidth["rate"], err = intArg(c, "rate", ratev, 1, 1<<32-1); err != nil {
			return nil, err
		}
	}
	if burstv != nil {
		if ratev == nil {
			return nil, c.Errorf("burst= is the burst of rate=; give rate= too (ovn-nbctl qos-add ignores a burst without a rate)")
		}
		if bandwidth["burst"], err = intArg(c, "burst", burstv, 1, 1<<32-1); err != nil {
			return nil, err
		}
	}
	action := map[string]int{}
	if dscpv != nil {
		if action["dscp"], err = intArg(c, "dscp", dscpv, 0, 63); err != nil {
			return nil, err
		}
	}
	if ratev == nil && dscpv == nil {
		return nil, c.Errorf("give rate= (to police), dscp= (to mark) or both")
	}
	a := newRow(tableQoS, fmt.Sprintf("%s/%s/%d/%s", sw.name, direction, priority, match),
		map[string]any{"direction": direction, "priority": priority, "match": match,
			"bandwidth": bandwidth, "action": action, "external_ids": externalIDs}, sw.a.M.ID)
	a.link(switchQoS, sw.name)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// meter(name, unit, bands=, fair=, external_ids=)
func meterBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        interp.Name
		unit        string
		bands       *starlark.List
		fair        starlark.Value
		externalIDs interp.StringMap
	)
	if err := c.Unpack(2, "name", &name, "unit", &unit, "bands", &bands, "fair?", &fair,
		"external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if len(name) >= 2 && name[:2] == "__" {
		return nil, c.Errorf("name %q: names starting with \"__\" are reserved for OVN's own meters", name)
	}
	if unit != "kbps" && unit != "pktps" {
		return nil, c.Errorf("unit %q: want kbps or pktps", unit)
	}
	if bands.Len() == 0 {
		return nil, c.Errorf("bands: want at least one band, such as {\"rate\": 1000}")
	}
	cols := map[string]any{"unit": unit, "external_ids": externalIDs}
	if fair != nil {
		b, ok := fair.(starlark.Bool)
		if !ok {
			return nil, c.Errorf("fair: got %s, want bool", fair.Type())
		}
		cols["fair"] = bool(b)
	}
	m := newRow(tableMeter, string(name), cols)
	if err := c.Add(m); err != nil {
		return nil, err
	}
	var rates []int
	for i := range bands.Len() {
		b, err := meterBand(c, i, bands.Index(i))
		if err != nil {
			return nil, err
		}
		if slices.Contains(rates, b["rate"].(int)) {
			return nil, c.Errorf("bands[%d]: another band has rate %d; a meter's bands need different rates", i, b["rate"])
		}
		rates = append(rates, b["rate"].(int))
		// A band is identified by its place in the list: changing its
		// rate changes the row rather than making another.
		r := newRow(tableMeterBand, fmt.Sprintf("%s/%d", name, i), b, m.M.ID)
		r.link(meterBands, string(name))
		if err := c.Add(r); err != nil {
			return nil, err
		}
	}
	return &Meter{handle: handle{"meter", string(name)}, a: m}, nil
}

// meterBand checks the dict of one band and returns its columns.
func meterBand(c *interp.Call, i int, v starlark.Value) (map[string]any, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, c.Errorf("bands[%d]: got %s, want a dict such as {\"rate\": 1000, \"burst_size\": 100}", i, v.Type())
	}
	cols := map[string]any{"action": "drop", "burst_size": 0}
	for _, kv := range d.Items() {
		k, _ := starlark.AsString(kv[0])
		param := fmt.Sprintf("bands[%d][%q]", i, k)
		var err error
		switch k {
		case "action":
			if s, _ := starlark.AsString(kv[1]); s != "drop" {
				return nil, c.Errorf("%s: got %s, want \"drop\" (the only meter band action OVN knows)", param, kv[1])
			}
		case "rate":
			cols["rate"], err = intArg(c, param, kv[1], 1, 1<<32-1)
		case "burst_size":
			cols["burst_size"], err = intArg(c, param, kv[1], 0, 1<<32-1)
		default:
			return nil, c.Errorf("bands[%d]: unknown key %s; known: action, burst_size, rate", i, kv[0])
		}
		if err != nil {
			return nil, err
		}
	}
	if _, ok := cols["rate"]; !ok {
		return nil, c.Errorf("bands[%d]: want a \"rate\"", i)
	}
	return cols, nil
}

// Meter is the handle of a meter.
type Meter struct {
	handle
	a *Row
}

func (m *Meter) AttrNames() []string { return []string{"id", "name", "unit"} }

func (m *Meter) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(m.a.M.ID), nil
	case "name":
		return starlark.String(m.name), nil
	case "unit":
		return starlark.String(m.a.str("unit")), nil
	}
	return nil, nil
}
