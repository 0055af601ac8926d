package ovn

import "github.com/ovnrun/ovnrun/internal/ovsdbmodel"

// What other packages (nbimport) may read of the table descriptions, without
// reaching into the driver.

// TableInfo is the public face of a described table.
type TableInfo struct {
	Name    string   // NB table: "Logical_Switch"
	Builtin string   // the builtins that declare its rows: "lsp() or localnet()"
	Key     []string // the columns that identify a row
	Columns []string // the columns ovnrun writes
	// Parents are the referencing columns through which a runbook's row is
	// linked to its parent: "Logical_Switch.ports".
	Parents []RefInfo
}

// RefInfo is a column of Table that references rows of a described table.
type RefInfo struct{ Table, Column string }

// Described returns the described tables in plan order: each after the
// tables that reference it.
func Described() []TableInfo {
	out := make([]TableInfo, len(tables))
	for i, t := range tables {
		out[i] = TableInfo{Name: t.Name, Builtin: t.Builtin, Key: t.Key, Columns: t.Columns}
		for _, r := range t.In {
			out[i].Parents = append(out[i].Parents, RefInfo{r.Table, r.Column})
		}
	}
	return out
}

// Owners returns what says which runbook owns a row of st (native column
// values, as a Replica holds them): its ownership tag, or for a table
// without external_ids the ledger's entry for its key; "" when no ovnrun
// runbook owns it.
func Owners(st *ovsdbmodel.ReplicaState) func(table string, cols map[string]any) string {
	l := readLedger(st)
	return func(table string, cols map[string]any) string {
		if ext, ok := cols["external_ids"].(map[string]string); ok {
			return ext[TagRunbook]
		}
		t := tableNamed(table)
		if t == nil || t.Key == nil {
			return ""
		}
		return l[table][keyOf(t, cols)].Runbook
	}
}

// IsTag reports whether an external_ids key is one of ovnrun's ownership
// tags, which an imported runbook must not copy.
func IsTag(key string) bool { return key == TagRunbook || key == TagAction }

// DHCPOptionKind says how dhcp() takes a DHCP option as a keyword argument:
// "ip", "ips" (one address or a list), "mac", "uint", "bool" or "text"; ""
// when dhcp() does not know the option for that family.
func DHCPOptionKind(ipv4 bool, key string) string {
	known := dhcpv6Options
	if ipv4 {
		known = dhcpv4Options
	}
	k, ok := known[key]
	if !ok {
		return ""
	}
	return [...]string{optText: "text", optIP: "ip", optIPs: "ips", optMAC: "mac", optUint: "uint", optBool: "bool"}[k]
}
