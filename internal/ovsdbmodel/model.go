// Package ovsdbmodel builds libovsdb models from a live server's schema, so
// one binary works with every OVN NB version from 22.03 to 26.03.
//
// Generated models (modelgen) pin one schema: a model newer than the server
// fails to connect ("column does not exist"), and an older one monitored with
// MonitorAll silently drops whole row updates that touch columns it lacks.
// Instead, Connect reads the server's schema first, makes one struct type per
// requested table with reflect.StructOf holding exactly the requested columns
// the server has, and monitors exactly those. Requested columns the server
// lacks are reported (Missing, Check) so callers can refuse a plan up front.
//
// For large databases there is a faster pair: Open connects a libovsdb
// client for transactions only, and Replicate keeps a read-only copy of the
// wanted columns in native values, decoded without libovsdb's cache.
//
// All of them reach ssl: endpoints with WithTLS, whose configuration
// TLSFiles.Load reads from the PEM files of OVS's PKI.
//
// It imports libovsdb, internal/dialguard and the standard library.
package ovsdbmodel

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Table is the model of one table: a struct type built at connect time.
type Table struct {
	Name    string
	Columns []string     // modelled columns: "_uuid", then the others in request order
	typ     reflect.Type // pointer to the struct type, as libovsdb wants models
}

// New returns a new, empty row of the table.
func (t *Table) New() model.Model { return reflect.New(t.typ.Elem()).Interface() }

// buildTable makes the model of table name from its live schema, holding
// _uuid, the schema's index columns and the wanted columns the schema has.
// It returns the wanted columns the schema lacks.
func buildTable(name string, ts *ovsdb.TableSchema, want []string) (*Table, []string) {
	// libovsdb's cache keys rows by every schema index and fails on a model
	// that lacks an index column, so those are always modelled.
	cols := []string{"_uuid"}
	for _, index := range ts.Indexes {
		cols = appendNew(cols, index...)
	}
	var missing []string
	for _, c := range want {
		if ts.Column(c) == nil {
			missing = appendNew(missing, c)
			continue
		}
		cols = appendNew(cols, c)
	}

	// Two tables with the same columns would get the identical type from
	// StructOf, and libovsdb finds a model's table by its type: a zero-size
	// first field tagged with the table name keeps every table's type apart.
	fields := []reflect.StructField{{
		Name: "Table_",
		Type: reflect.TypeFor[struct{}](),
		Tag:  reflect.StructTag(fmt.Sprintf(`ovsdbmodel:%q json:"-"`, name)),
	}}
	used := map[string]bool{"Table_": true}
	for _, c := range cols {
		fields = append(fields, reflect.StructField{
			Name: goName(c, used),
			Type: ovsdb.NativeType(ts.Column(c)), // exactly what libovsdb's mapper checks against
			Tag:  reflect.StructTag(fmt.Sprintf(`ovsdb:%q`, c)),
		})
	}
	t := &Table{Name: name, Columns: cols, typ: reflect.PointerTo(reflect.StructOf(fields))}
	return t, missing
}

// appendNew appends the values not yet in s.
func appendNew(s []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// goName turns a column name into a unique exported field name, readable in
// %+v output: "_uuid" -> "UUID", "other_config" -> "OtherConfig".
func goName(column string, used map[string]bool) string {
	name := "UUID"
	if column != "_uuid" {
		var b strings.Builder
		for part := range strings.SplitSeq(column, "_") {
			if part != "" {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		name = b.String()
		if name == "" || name[0] < 'A' || name[0] > 'Z' {
			name = "C" + name // not exported as is, e.g. "2nd"
		}
	}
	for base, i := name, 2; used[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	used[name] = true
	return name
}

// field returns the addressable field of row that maps column.
func field(row model.Model, column string) (reflect.Value, error) {
	v := reflect.ValueOf(row)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("row is %T, want a pointer to a model struct", row)
	}
	v = v.Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).Tag.Get("ovsdb") == column {
			return v.Field(i), nil
		}
	}
	return reflect.Value{}, fmt.Errorf("column %s is not in the model of %s", column, TableName(row))
}

// TableName returns the table a row built by this package belongs to.
func TableName(row model.Model) string {
	t := reflect.TypeOf(row)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().NumField() == 0 {
		return fmt.Sprintf("%T", row)
	}
	return t.Elem().Field(0).Tag.Get("ovsdbmodel")
}

// Get returns the value of a column of row: string, int, float64, bool,
// *T for optional atomics, []T for sets, map[K]V for maps.
func Get(row model.Model, column string) (any, error) {
	f, err := field(row, column)
	if err != nil {
		return nil, err
	}
	return f.Interface(), nil
}

// Ptr returns a pointer to the field of row holding column, as libovsdb's
// Update field lists, Mutation.Field and Condition.Field want.
func Ptr(row model.Model, column string) (any, error) {
	f, err := field(row, column)
	if err != nil {
		return nil, err
	}
	return f.Addr().Interface(), nil
}

// Set sets a column of row. The value must have the column's Go type, except
// that a T is accepted for an optional *T column and nil clears the column.
func Set(row model.Model, column string, value any) error {
	f, err := field(row, column)
	if err != nil {
		return err
	}
	if value == nil {
		f.SetZero()
		return nil
	}
	v := reflect.ValueOf(value)
	switch {
	case v.Type().AssignableTo(f.Type()):
		f.Set(v)
	case f.Kind() == reflect.Pointer && v.Type().AssignableTo(f.Type().Elem()):
		p := reflect.New(f.Type().Elem())
		p.Elem().Set(v)
		f.Set(p)
	default:
		return fmt.Errorf("column %s of table %s is %s, not %T", column, TableName(row), f.Type(), value)
	}
	return nil
}

// UUID returns the _uuid of a row (a named UUID before it is created).
func UUID(row model.Model) string {
	v, err := Get(row, "_uuid")
	if err != nil {
		return ""
	}
	return v.(string)
}
