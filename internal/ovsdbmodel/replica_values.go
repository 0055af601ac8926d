package ovsdbmodel

import "reflect"

// The differences of update2, applied to native values.

// setDifference returns the members of old or diff that are not in both
// (old is not modified): old's order first, then diff's.
func setDifference(old, diff any) any {
	ov, dv := reflect.ValueOf(old), reflect.ValueOf(diff)
	in := make(map[any]bool, dv.Len())
	for i := range dv.Len() {
		in[dv.Index(i).Interface()] = true
	}
	out := reflect.MakeSlice(ov.Type(), 0, ov.Len()+dv.Len())
	for i := range ov.Len() {
		e := ov.Index(i)
		if in[e.Interface()] {
			delete(in, e.Interface())
			continue
		}
		out = reflect.Append(out, e)
	}
	for i := range dv.Len() {
		if e := dv.Index(i); in[e.Interface()] {
			out = reflect.Append(out, e)
		}
	}
	if out.Len() == 0 {
		return reflect.Zero(ov.Type()).Interface()
	}
	return out.Interface()
}

// applyMapDifference returns old with diff applied (old is not modified): a
// key old lacks is added, a key with the same value is removed, a key with
// another value takes diff's value.
func applyMapDifference(old, diff any) any {
	ov, dv := reflect.ValueOf(old), reflect.ValueOf(diff)
	out := reflect.MakeMapWithSize(ov.Type(), ov.Len()+dv.Len())
	for it := ov.MapRange(); it.Next(); {
		out.SetMapIndex(it.Key(), it.Value())
	}
	for it := dv.MapRange(); it.Next(); {
		cur := out.MapIndex(it.Key())
		if cur.IsValid() && cur.Interface() == it.Value().Interface() {
			out.SetMapIndex(it.Key(), reflect.Value{})
		} else {
			out.SetMapIndex(it.Key(), it.Value())
		}
	}
	if out.Len() == 0 {
		return reflect.Zero(ov.Type()).Interface()
	}
	return out.Interface()
}
