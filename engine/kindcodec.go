package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/interp"
)

// KindCodec is the saved-plan codec of a domain whose actions are structs
// of exported fields (docs/saved-plans.md): each action is written as its
// kind, the name of its Go type, and its fields by name, as JSON. A value
// an interface-typed field holds (an address or a future where either may
// stand) is written with a tag naming its type, from the closed list of
// savedValueTypes, so that it reads back as the same Go value and the
// action as the same ActionHash.
//
// kinds are one value of each action type the domain saves; a type given
// twice, or two types of one name, is a programming error and panics.
func KindCodec(kinds ...interp.Action) *ActionCodec {
	c := &kindCodec{byType: map[reflect.Type]string{}, byName: map[string]reflect.Type{}}
	for _, k := range kinds {
		t := reflect.TypeOf(k)
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("KindCodec: %T is not a pointer to a struct", k))
		}
		name := t.Elem().Name()
		if _, dup := c.byName[name]; dup {
			panic(fmt.Sprintf("KindCodec: the kind %s is given twice", name))
		}
		c.byType[t], c.byName[name] = name, t
	}
	return &ActionCodec{Encode: c.encode, Decode: c.decode}
}

type kindCodec struct {
	byType map[reflect.Type]string
	byName map[string]reflect.Type
}

// savedKind is one action in a saved plan.
type savedKind struct {
	Kind   string                     `json:"kind"`
	Fields map[string]json.RawMessage `json:"fields"`
}

func (c *kindCodec) encode(a interp.Action) (json.RawMessage, bool, error) {
	name, ok := c.byType[reflect.TypeOf(a)]
	if !ok {
		return nil, false, nil
	}
	fields, err := encodeStruct(reflect.ValueOf(a).Elem())
	if err != nil {
		m := a.Meta()
		return nil, true, fmt.Errorf("%s: %s %s: %v", m.Pos(), m.Kind, m.Name, err)
	}
	b, err := json.Marshal(savedKind{Kind: name, Fields: fields})
	return b, true, err
}

func (c *kindCodec) decode(data json.RawMessage) (interp.Action, error) {
	var s savedKind
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	t, ok := c.byName[s.Kind]
	if !ok {
		return nil, fmt.Errorf("no action kind %q; this domain saves %s", s.Kind, strings.Join(slices.Sorted(maps.Keys(c.byName)), ", "))
	}
	v := reflect.New(t.Elem())
	if err := decodeStruct(s.Fields, v.Elem()); err != nil {
		return nil, fmt.Errorf("%s: %v", s.Kind, err)
	}
	return v.Interface().(interp.Action), nil
}

// savedValueTypes are the types an interface-typed field may hold in a
// saved plan, by tag. A future is written as its reference, the network
// values as their text.
var savedValueTypes = map[string]reflect.Type{
	"string":  reflect.TypeFor[string](),
	"int":     reflect.TypeFor[int](),
	"bool":    reflect.TypeFor[bool](),
	"strings": reflect.TypeFor[[]string](),
	"map":     reflect.TypeFor[map[string]string](),
	"future":  reflect.TypeFor[*interp.Future](),
	"ip":      reflect.TypeFor[interp.IP](),
	"cidr":    reflect.TypeFor[interp.CIDR](),
	"mac":     reflect.TypeFor[interp.MAC](),
	"ifaddr":  reflect.TypeFor[interp.IfAddr](),
}

// taggedValue is what an interface-typed field holds, with its type.
type taggedValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func encodeStruct(v reflect.Value) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			// It would read back as its zero value: another action.
			return nil, fmt.Errorf("%s.%s is not exported: a saved plan cannot hold it", v.Type().Name(), f.Name)
		}
		b, err := encodeValue(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out, nil
}

// encodeValue writes v as JSON, walking only what holds interface values;
// the rest is written as encoding/json writes it.
func encodeValue(v reflect.Value) (json.RawMessage, error) {
	if !holdsInterface(v.Type(), nil) {
		return json.Marshal(v.Interface())
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return json.RawMessage("null"), nil
		}
		e := v.Elem()
		for tag, t := range savedValueTypes {
			if e.Type() == t {
				b, err := json.Marshal(e.Interface())
				if err != nil {
					return nil, err
				}
				return json.Marshal(taggedValue{tag, b})
			}
		}
		return nil, fmt.Errorf("a saved plan cannot hold a %s", e.Type())
	case reflect.Pointer:
		if v.IsNil() {
			return json.RawMessage("null"), nil
		}
		return encodeValue(v.Elem())
	case reflect.Struct:
		m, err := encodeStruct(v)
		if err != nil {
			return nil, err
		}
		return json.Marshal(m)
	case reflect.Slice:
		if v.IsNil() {
			return json.RawMessage("null"), nil
		}
		out := make([]json.RawMessage, v.Len())
		for i := range out {
			b, err := encodeValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
		return json.Marshal(out)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("a saved plan cannot hold a %s", v.Type())
		}
		if v.IsNil() {
			return json.RawMessage("null"), nil
		}
		out := map[string]json.RawMessage{}
		for it := v.MapRange(); it.Next(); {
			b, err := encodeValue(it.Value())
			if err != nil {
				return nil, err
			}
			out[it.Key().String()] = b
		}
		return json.Marshal(out)
	}
	return nil, fmt.Errorf("a saved plan cannot hold a %s", v.Type())
}

func decodeStruct(fields map[string]json.RawMessage, v reflect.Value) error {
	for name := range fields {
		if _, ok := v.Type().FieldByName(name); !ok {
			return fmt.Errorf("no field %s in %s", name, v.Type().Name())
		}
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		b, ok := fields[f.Name]
		if !ok {
			continue // a field added since: its zero value
		}
		if err := decodeValue(b, v.Field(i)); err != nil {
			return fmt.Errorf("%s: %v", f.Name, err)
		}
	}
	return nil
}

// decodeValue reads data into v, the mirror of encodeValue.
func decodeValue(data json.RawMessage, v reflect.Value) error {
	if !holdsInterface(v.Type(), nil) {
		return json.Unmarshal(data, v.Addr().Interface())
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		var tv taggedValue
		if err := json.Unmarshal(data, &tv); err != nil {
			return err
		}
		t, ok := savedValueTypes[tv.Type]
		if !ok {
			return fmt.Errorf("no value type %q", tv.Type)
		}
		x := reflect.New(t)
		if err := json.Unmarshal(tv.Value, x.Interface()); err != nil {
			return err
		}
		v.Set(x.Elem())
		return nil
	case reflect.Pointer:
		x := reflect.New(v.Type().Elem())
		if err := decodeValue(data, x.Elem()); err != nil {
			return err
		}
		v.Set(x)
		return nil
	case reflect.Struct:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		return decodeStruct(m, v)
	case reflect.Slice:
		var l []json.RawMessage
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		s := reflect.MakeSlice(v.Type(), len(l), len(l))
		for i, b := range l {
			if err := decodeValue(b, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, b := range m {
			x := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(b, x); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), x)
		}
		v.Set(out)
		return nil
	}
	return fmt.Errorf("a saved plan cannot hold a %s", v.Type())
}

// holdsInterface reports whether a value of t may hold an interface value,
// or a struct field that is not exported (which encodeStruct refuses):
// such values are walked, the others written as encoding/json does.
func holdsInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsInterface(t.Elem(), seen)
	case reflect.Map:
		return holdsInterface(t.Key(), seen) || holdsInterface(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		if seen == nil {
			seen = map[reflect.Type]bool{}
		}
		seen[t] = true
		if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
			return false // written as its text
		}
		for i := range t.NumField() {
			if f := t.Field(i); !f.IsExported() || holdsInterface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

var textMarshaler = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
