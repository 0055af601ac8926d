package ovn

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// nbSchemaJSON is the OVN 26.03 Northbound schema. row() reads a table's
// columns and their types from it at evaluation, when no NB is connected
// (a dry-run, `ovnrun plan` offline); the connected server's own schema is
// checked at plan time (checkColumns), so a column an older OVN lacks is
// still refused, naming that server's schema version. The file is the one
// the tests also start a 26.03 NB with.
//
//go:embed testdata/ovn-nb-v26.03.0.ovsschema
var nbSchemaJSON []byte

// nbSchemaVersion is the OVN release of nbSchemaJSON, for messages.
const nbSchemaVersion = "OVN 26.03"

// refSchema is the parsed schema: libovsdb's, plus what libovsdb does not
// keep (maxRows).
type refSchema struct {
	ovsdb.DatabaseSchema
	maxRows map[string]int
}

// nbSchema parses the embedded schema once; it is never modified.
var nbSchema = sync.OnceValue(func() *refSchema {
	s := &refSchema{maxRows: map[string]int{}}
	if err := json.Unmarshal(nbSchemaJSON, &s.DatabaseSchema); err != nil {
		panic(fmt.Sprintf("ovn: the embedded NB schema: %v", err))
	}
	var raw struct {
		Tables map[string]struct {
			MaxRows int `json:"maxRows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(nbSchemaJSON, &raw); err != nil {
		panic(fmt.Sprintf("ovn: the embedded NB schema: %v", err))
	}
	for name, t := range raw.Tables {
		s.maxRows[name] = t.MaxRows
	}
	return s
})

// schemaRef is a column of the schema that references rows of a table.
type schemaRef struct{ table, column string }

func (r schemaRef) String() string { return r.table + "." + r.column }

// referrers lists, sorted, the columns of the schema that reference rows
// of table.
func (s *refSchema) referrers(table string) []schemaRef {
	var out []schemaRef
	for name, ts := range s.Tables {
		for c, cs := range ts.Columns {
			if refTable(cs) == table {
				out = append(out, schemaRef{name, c})
			}
		}
	}
	slices.SortFunc(out, func(a, b schemaRef) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// declarable reports whether rows of table can be declared by a runbook,
// and if not, why: ovnrun must be able to tag a row (external_ids) and to
// make and delete it (not the one row of a single-row table).
func (s *refSchema) declarable(table string) string {
	ts, ok := s.Tables[table]
	switch {
	case !ok:
		return "is not a table of the " + nbSchemaVersion + " Northbound schema"
	case s.maxRows[table] == 1:
		return "holds a single row, which ovn-northd or ovn-nbctl init makes: ovnrun neither creates nor owns it"
	case ts.Column("external_ids") == nil:
		return "has no external_ids column, where ovnrun tags the rows it owns (to find them again and destroy them)"
	}
	return ""
}

// refTable is the table a uuid column references, "" for other columns.
func refTable(cs *ovsdb.ColumnSchema) string {
	if cs.TypeObj == nil || cs.TypeObj.Key == nil || cs.TypeObj.Key.Type != ovsdb.TypeUUID {
		return ""
	}
	t, _ := cs.TypeObj.Key.RefTable()
	return t
}

// columnNames lists the columns of a table, sorted.
func columnNames(ts *ovsdb.TableSchema) []string {
	var out []string
	for c := range ts.Columns {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
