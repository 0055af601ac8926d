package interp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
)

// hashVersion starts every hashed encoding. Change it whenever the encoding
// below changes, so that journals written by an older ovnrun show their
// actions as changed (re-planned against live state) instead of being
// compared with hashes that mean something else.
const hashVersion = "ovnrun/action-hash/1"

// ActionHash returns the hash of an action's desired state: sha256, in hex,
// over its kind, ID, host and fields. The journal records it with each
// completed action; a resumed run skips an action only when the hash is
// unchanged, so it must change whenever what the action would do changes,
// and must not change otherwise:
//   - where the action is declared (file:line, step, call stack) is not
//     desired state and is not hashed, so editing a runbook around an
//     action, or moving it to another step, keeps its hash;
//   - fields are hashed sorted by key, maps sorted by key, so neither the
//     display order of Fields nor Go's map order matters; list order does
//     (a command's argv);
//   - unset fields (IsEmpty) are left out, so adding an optional field to
//     an action kind in a later ovnrun does not change every hash;
//   - a string and a typed network value with the same text hash alike:
//     both put the same text into the database;
//   - a *Future hashes as the reference (action ID and attribute), not as
//     its value, which a resumed run re-verifies against live state anyway.
//
// Every value is written with a type tag and a length, so no two different
// field lists share an encoding (["a,b"] and ["a", "b"] differ).
func ActionHash(a Action) string {
	m := a.Meta()
	h := sha256.New()
	e := hashEncoder{w: h}
	e.str(hashVersion)
	e.str(m.Kind)
	e.str(m.ID)
	e.str(m.Host)
	fields := append([]Field(nil), a.Fields()...)
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	for _, f := range fields {
		if isNilPointer(f.Value) || IsEmpty(f.Value) {
			continue
		}
		e.str(f.Key)
		e.value(f.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashEncoder writes the canonical encoding of field values. Tags:
// s string (or Stringer text), i integer, b bool, l list, m map, f future,
// n nil, x anything else (its Go type and %v text).
type hashEncoder struct{ w io.Writer }

func (e hashEncoder) tag(t byte, n int) {
	var buf [1 + binary.MaxVarintLen64]byte
	buf[0] = t
	k := binary.PutUvarint(buf[1:], uint64(n))
	e.w.Write(buf[:1+k])
}

func (e hashEncoder) raw(t byte, s string) {
	e.tag(t, len(s))
	e.w.Write([]byte(s))
}

func (e hashEncoder) str(s string) { e.raw('s', s) }

func (e hashEncoder) value(v any) {
	if isNilPointer(v) {
		e.tag('n', 0)
		return
	}
	switch v := v.(type) {
	case nil:
		e.tag('n', 0)
	case *Future:
		e.tag('f', 2)
		e.str(v.From)
		e.str(v.Attr)
	case string:
		e.str(v)
	case bool:
		e.raw('b', strconv.FormatBool(v))
	case int:
		e.raw('i', strconv.FormatInt(int64(v), 10))
	case int64:
		e.raw('i', strconv.FormatInt(v, 10))
	case []string:
		e.tag('l', len(v))
		for _, s := range v {
			e.str(s)
		}
	case map[string]string:
		e.stringMap(v)
	case StringMap:
		e.stringMap(v)
	case fmt.Stringer:
		e.str(v.String())
	default:
		e.reflected(reflect.ValueOf(v))
	}
}

func (e hashEncoder) stringMap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.tag('m', len(keys))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

// reflected encodes values of types Field does not list (other integer
// widths, lists of typed values, pointers to values) by their structure,
// so that even those hash stably.
func (e hashEncoder) reflected(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		e.value(v.Elem().Interface())
	case reflect.String:
		e.str(v.String())
	case reflect.Bool:
		e.raw('b', strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.raw('i', strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.raw('i', strconv.FormatUint(v.Uint(), 10))
	case reflect.Slice, reflect.Array:
		e.tag('l', v.Len())
		for i := 0; i < v.Len(); i++ {
			e.value(v.Index(i).Interface())
		}
	case reflect.Map:
		// Sort entries by the encoding of their keys: any key type works.
		type entry struct{ k, v []byte }
		entries := make([]entry, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			entries = append(entries, entry{encoded(it.Key().Interface()), encoded(it.Value().Interface())})
		}
		sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].k, entries[j].k) < 0 })
		e.tag('m', len(entries))
		for _, en := range entries {
			e.w.Write(en.k)
			e.w.Write(en.v)
		}
	default:
		e.raw('x', fmt.Sprintf("%T:%+v", v.Interface(), v.Interface()))
	}
}

// encoded returns the canonical encoding of v.
func encoded(v any) []byte {
	var b bytes.Buffer
	hashEncoder{w: &b}.value(v)
	return b.Bytes()
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
