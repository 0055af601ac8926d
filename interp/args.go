package interp

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// UnpackArgs is starlark.UnpackArgs with ovnrun's calling convention added:
// only the first npos parameters may be passed positionally, the rest are
// keyword-only, so a runbook always names optional settings.
func UnpackArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, npos int, pairs ...any) error {
	if len(args) > npos {
		return fmt.Errorf("%s: got %d positional arguments, want at most %d; pass the others by keyword", b.Name(), len(args), npos)
	}
	return starlark.UnpackArgs(b.Name(), args, kwargs, pairs...)
}

// StringMap is an Unpacker for a dict of string keys to scalar values (string,
// int, bool), as OVSDB map columns such as options and external_ids want.
// Ints and bools are stored in their Starlark text form ("36000", "true").
type StringMap map[string]string

// Unpack implements starlark.Unpacker.
func (m *StringMap) Unpack(v starlark.Value) error {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("got %s, want dict", v.Type())
	}
	out := make(StringMap, d.Len())
	for _, item := range d.Items() {
		k, ok := starlark.AsString(item[0])
		if !ok {
			return fmt.Errorf("key %s: got %s, want string", item[0], item[0].Type())
		}
		if k == "" {
			return fmt.Errorf("empty key")
		}
		s, err := ScalarString(item[1])
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = s
	}
	*m = out
	return nil
}

// Keys returns the keys of m in sorted order.
func (m StringMap) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ScalarString converts a string, int or bool to the text OVSDB stores.
func ScalarString(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), nil
	case starlark.Int:
		return v.String(), nil
	case starlark.Bool:
		if v {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("got %s, want string, int or bool", v.Type())
}

// StringList is an Unpacker for a list or tuple of strings; a single string is
// accepted as a list of one.
type StringList []string

// Unpack implements starlark.Unpacker.
func (l *StringList) Unpack(v starlark.Value) error {
	if s, ok := starlark.AsString(v); ok {
		*l = StringList{s}
		return nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok || isMapping(v) {
		return fmt.Errorf("got %s, want list of strings", v.Type())
	}
	var out StringList
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		s, ok := starlark.AsString(x)
		if !ok {
			return fmt.Errorf("element %d: got %s, want string", len(out), x.Type())
		}
		out = append(out, s)
	}
	*l = out
	return nil
}

func isMapping(v starlark.Value) bool {
	_, ok := v.(starlark.IterableMapping)
	return ok
}

// Name is an Unpacker for an OVN or host object name: non-empty, printable,
// no whitespace, at most 255 bytes.
type Name string

// Unpack implements starlark.Unpacker.
func (n *Name) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	if err := CheckName(s); err != nil {
		return err
	}
	*n = Name(s)
	return nil
}

// CheckName validates an object name.
func CheckName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	if len(s) > 255 {
		return fmt.Errorf("name %.20q... is longer than 255 bytes", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("name %q contains whitespace or a control character", s)
	}
	return nil
}
