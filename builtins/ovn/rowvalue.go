package ovn

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// columnValue converts v, what a runbook gives column col of table in
// row(), into the canonical form of Row.Cols by the column's type in the
// schema: string, int, bool, rowRef (a declared row), sets of them, maps.
// It also returns the actions v references, which the row depends on.
type columnValue struct {
	c          *interp.Call
	table, col string
	cs         *ovsdb.ColumnSchema
	deps       []string
}

func (cv *columnValue) errorf(format string, args ...any) error {
	return cv.c.Errorf("column %s of %s: %s", cv.col, cv.table, fmt.Sprintf(format, args...))
}

// wrong is the error for a value of the wrong type.
func (cv *columnValue) wrong(v starlark.Value) error {
	return cv.errorf("got %s, want %s", v.Type(), typeText(cv.cs))
}

func (cv *columnValue) convert(v starlark.Value) (any, error) {
	ty := cv.cs.TypeObj
	switch {
	case ty.Value != nil:
		return cv.mapValue(v)
	case ty.Max() != 1:
		return cv.setValue(v)
	case v == starlark.None && ty.Min() == 0:
		return nil, nil
	}
	return cv.atom(ty.Key, v)
}

func (cv *columnValue) mapValue(v starlark.Value) (any, error) {
	ty := cv.cs.TypeObj
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, cv.wrong(v)
	}
	if err := cv.count(d.Len()); err != nil {
		return nil, err
	}
	if ty.Key.Type != ovsdb.TypeString || (ty.Value.Type != ovsdb.TypeString && ty.Value.Type != ovsdb.TypeInteger) {
		return nil, cv.errorf("row() does not write maps of %s to %s", ty.Key.Type, ty.Value.Type)
	}
	strs, ints := map[string]string{}, map[string]int{}
	for _, kv := range d.Items() {
		k, err := cv.atom(ty.Key, kv[0])
		if err != nil {
			return nil, err
		}
		x, err := cv.atom(ty.Value, kv[1])
		if err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case string:
			strs[k.(string)] = x
		case int:
			ints[k.(string)] = x
		}
	}
	if ty.Value.Type == ovsdb.TypeInteger {
		return ints, nil
	}
	return strs, nil
}

func (cv *columnValue) setValue(v starlark.Value) (any, error) {
	ty := cv.cs.TypeObj
	var elems []starlark.Value
	switch l := v.(type) {
	case *starlark.List:
		elems = slices.Collect(func(yield func(starlark.Value) bool) {
			for i := range l.Len() {
				if !yield(l.Index(i)) {
					return
				}
			}
		})
	case starlark.Tuple:
		elems = l
	default:
		return nil, cv.wrong(v)
	}
	if err := cv.count(len(elems)); err != nil {
		return nil, err
	}
	var (
		strs []string
		ints []int
		refs []rowRef
	)
	seen := map[any]bool{}
	for _, e := range elems {
		x, err := cv.atom(ty.Key, e)
		if err != nil {
			return nil, err
		}
		if seen[x] {
			return nil, cv.errorf("%v is in the set twice", x)
		}
		seen[x] = true
		switch x := x.(type) {
		case string:
			strs = append(strs, x)
		case int:
			ints = append(ints, x)
		case rowRef:
			refs = append(refs, x)
		default:
			return nil, cv.errorf("row() does not write sets of %s", ty.Key.Type)
		}
	}
	switch ty.Key.Type {
	case ovsdb.TypeUUID:
		return refs, nil
	case ovsdb.TypeInteger:
		return ints, nil
	}
	return strs, nil
}

// count checks the number of elements of a set or map against the schema.
func (cv *columnValue) count(n int) error {
	ty := cv.cs.TypeObj
	if n < ty.Min() || (ty.Max() != ovsdb.Unlimited && n > ty.Max()) {
		return cv.errorf("%d elements, want %s", n, typeText(cv.cs))
	}
	return nil
}

// atom converts one value of base type bt.
func (cv *columnValue) atom(bt *ovsdb.BaseType, v starlark.Value) (any, error) {
	switch bt.Type {
	case ovsdb.TypeString:
		s, ok := starlark.AsString(v)
		if !ok {
			return nil, cv.errorf("got %s, want %s", v.Type(), baseText(bt, false))
		}
		if bt.Enum != nil && !slices.Contains(bt.Enum, any(s)) {
			return nil, cv.errorf("%q is not %s", s, baseText(bt, false))
		}
		return s, nil
	case ovsdb.TypeInteger:
		i, ok := v.(starlark.Int)
		if !ok {
			return nil, cv.errorf("got %s, want %s", v.Type(), baseText(bt, false))
		}
		lo, _ := bt.MinInteger()
		hi, _ := bt.MaxInteger()
		n, ok := i.Int64()
		if !ok || n < int64(lo) || n > int64(hi) {
			return nil, cv.errorf("%s is not %s", i, baseText(bt, false))
		}
		return int(n), nil
	case ovsdb.TypeBoolean:
		b, ok := v.(starlark.Bool)
		if !ok {
			return nil, cv.errorf("got %s, want %s", v.Type(), baseText(bt, false))
		}
		return bool(b), nil
	case ovsdb.TypeUUID:
		table, _ := bt.RefTable()
		r, err := declaredRow(cv.c, v, table)
		if err != nil {
			return nil, cv.errorf("%v", err)
		}
		cv.deps = append(cv.deps, r.M.ID)
		return rowRef{r.M.ID}, nil
	}
	return nil, cv.errorf("row() does not write %s values", bt.Type)
}

// declaredRow returns the row a handle (any value with an id attribute)
// or the name of a named row refers to; it must be of table.
func declaredRow(c *interp.Call, v starlark.Value, table string) (*Row, error) {
	what := fmt.Sprintf("%s row", table)
	var a interp.Action
	if name, ok := v.(starlark.String); ok {
		var found bool
		if a, found = c.Ev.Plan().Action(strings.ToLower(table) + "/" + string(name)); !found {
			return nil, fmt.Errorf("no %s named %q is declared (declare it before referring to it)", what, string(name))
		}
	} else if h, ok := v.(starlark.HasAttrs); ok {
		idv, _ := h.Attr("id")
		id, isString := starlark.AsString(idv)
		if !isString {
			return nil, fmt.Errorf("got %s, want a %s (its handle or name)", v.Type(), what)
		}
		a, _ = c.Ev.Plan().Action(id)
	} else {
		return nil, fmt.Errorf("got %s, want a %s (its handle or name)", v.Type(), what)
	}
	r, ok := a.(*Row)
	if !ok {
		return nil, fmt.Errorf("got %s, want a %s", v, what)
	}
	if r.T.Name != table {
		return nil, fmt.Errorf("got a %s row (%s), want a %s", r.T.Name, r.M.Name, what)
	}
	return r, nil
}

// typeText says in words what a column takes.
func typeText(cs *ovsdb.ColumnSchema) string {
	ty := cs.TypeObj
	if ty.Value != nil {
		return fmt.Sprintf("a dict of %s to %s", baseText(ty.Key, true), baseText(ty.Value, true)) + countText(ty)
	}
	if ty.Max() != 1 {
		return "a list of " + baseText(ty.Key, true) + countText(ty)
	}
	if ty.Min() == 0 {
		return baseText(ty.Key, false) + " or None"
	}
	return baseText(ty.Key, false)
}

func countText(ty *ovsdb.ColumnType) string {
	switch {
	case ty.Max() == ovsdb.Unlimited && ty.Min() == 0:
		return ""
	case ty.Max() == ovsdb.Unlimited:
		return fmt.Sprintf(" (at least %d)", ty.Min())
	}
	return fmt.Sprintf(" (%d to %d)", ty.Min(), ty.Max())
}

// baseText says in words what one value of bt is ("an integer from 1 to
// 255"), or several ("integers from 1 to 255").
func baseText(bt *ovsdb.BaseType, many bool) string {
	one, what, more := "a ", bt.Type, ""
	switch bt.Type {
	case ovsdb.TypeString:
		what = "string"
		if bt.Enum != nil {
			q := make([]string, len(bt.Enum))
			for i, e := range bt.Enum {
				q[i] = fmt.Sprintf("%q", e)
			}
			if many {
				return "strings, each one of " + strings.Join(q, ", ")
			}
			return "one of " + strings.Join(q, ", ")
		}
	case ovsdb.TypeInteger:
		one, what = "an ", "integer"
		lo, _ := bt.MinInteger()
		hi, _ := bt.MaxInteger()
		switch {
		case lo == math.MinInt64 && hi == math.MaxInt64:
		case hi == math.MaxInt64:
			more = fmt.Sprintf(" from %d", lo)
		default:
			more = fmt.Sprintf(" from %d to %d", lo, hi)
		}
	case ovsdb.TypeBoolean:
		what = "bool"
	case ovsdb.TypeUUID:
		t, _ := bt.RefTable()
		what, more = t+" row", " (its handle or name)"
		if many {
			more = " (handles or names)"
		}
	}
	if many {
		return what + "s" + more
	}
	return one + what + more
}
