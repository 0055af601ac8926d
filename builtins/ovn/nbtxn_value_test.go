package ovn

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// ovsValue's direct conversions must give what toNative and libovsdb's
// NativeToOvs give, and fail where they fail, for every column of the NB
// schema and every shape of canonical value.
func TestOVSValueLikeLibovsdb(t *testing.T) {
	values := []any{nil, "s", "", "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5d", []string{}, []string{"a", "b"},
		[]string{"8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5d"}, 7, 0, true, false, 1.5,
		map[string]string{}, map[string]string{"k": "v", "a": "b"}, map[string]int{"x": 1}, []int{1, 2}}
	s := nbSchema()
	checked := 0
	for _, tn := range slices.Sorted(mapsKeys(s.Tables)) {
		ts := s.Tables[tn]
		for _, cn := range slices.Sorted(mapsKeys(ts.Columns)) {
			cs := ts.Columns[cn]
			for _, v := range values {
				got, gerr := ovsValue(cs, v)
				want, werr := slowOVSValue(cs, v)
				if (gerr == nil) != (werr == nil) {
					t.Errorf("%s.%s = %#v: error %v, libovsdb's %v", tn, cn, v, gerr, werr)
					continue
				}
				if gerr == nil && !reflect.DeepEqual(got, want) {
					t.Errorf("%s.%s = %#v: %#v, libovsdb's %#v", tn, cn, v, got, want)
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d conversions checked", checked)
	}
}

func slowOVSValue(cs *ovsdb.ColumnSchema, v any) (any, error) {
	native, err := toNative(cs, v)
	if err != nil {
		return nil, err
	}
	return ovsdb.NativeToOvs(cs, native)
}

func mapsKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
