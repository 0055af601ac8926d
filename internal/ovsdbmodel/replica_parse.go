package ovsdbmodel

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// A JSON parser for OVSDB values: a cursor over a message's bytes, and the
// conversion of a column's value to its native type.

// parser is a cursor over one JSON value.
type parser struct {
	data  []byte
	pos   int
	depth int // of the open objects and arrays
}

// maxDepth bounds nesting as encoding/json does: objects and arrays are
// parsed recursively, and a server's message is not to exhaust the stack.
const maxDepth = 10000

// nest counts an object or array opened, refusing one too deep.
func (p *parser) nest() error {
	if p.depth++; p.depth > maxDepth {
		return p.fail(fmt.Sprintf("nested more than %d deep", maxDepth))
	}
	return nil
}

func (p *parser) fail(what string) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.pos, what)
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.space()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *parser) consume(c byte) error {
	if p.peek() != c {
		return p.fail("want " + strconv.QuoteRune(rune(c)))
	}
	p.pos++
	return nil
}

// object calls member for each key of an object; member must consume the
// value. The key is valid during the call only.
func (p *parser) object(member func(key []byte) error) error {
	if err := p.consume('{'); err != nil {
		return err
	}
	defer func() { p.depth-- }()
	if err := p.nest(); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for {
		key, err := p.stringBytes()
		if err != nil {
			return err
		}
		if err := p.consume(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.fail("want ',' or '}'")
		}
	}
}

// array calls elem for each element of an array; elem must consume it.
func (p *parser) array(elem func() error) error {
	if err := p.consume('['); err != nil {
		return err
	}
	defer func() { p.depth-- }()
	if err := p.nest(); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.fail("want ',' or ']'")
		}
	}
}

// string parses a JSON string.
func (p *parser) string() (string, error) {
	b, err := p.stringBytes()
	return string(b), err
}

// stringBytes parses a JSON string; without escapes the bytes are those of
// the message.
func (p *parser) stringBytes() ([]byte, error) {
	if p.peek() != '"' {
		return nil, p.fail("want a string")
	}
	start := p.pos
	for i := start + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			p.pos = i + 1
			return p.data[start+1 : i], nil
		case c == '\\' || c < 0x20:
			return p.escapedString(start)
		}
	}
	return nil, p.fail("unterminated string")
}

// escapedString parses a string with escapes, rarely met, with encoding/json.
func (p *parser) escapedString(start int) ([]byte, error) {
	p.pos = start
	if err := p.skip(); err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
		return nil, fmt.Errorf("invalid JSON string at byte %d: %w", start, err)
	}
	return []byte(s), nil
}

// skip passes over one value of any kind.
func (p *parser) skip() error {
	switch c := p.peek(); c {
	case '{':
		return p.object(func([]byte) error { return p.skip() })
	case '[':
		return p.array(p.skip)
	case '"':
		p.pos++
		for escaped := false; p.pos < len(p.data); p.pos++ {
			switch c := p.data[p.pos]; {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				p.pos++
				return nil
			}
		}
		return p.fail("unterminated string")
	case 0:
		return p.fail("unexpected end")
	default:
		_, err := p.literal()
		return err
	}
}

// literal returns the text of a number, true, false or null.
func (p *parser) literal() ([]byte, error) {
	p.space()
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return nil, p.fail("want a value")
	}
	return p.data[start:p.pos], nil
}

// atom parses one atomic value of OVSDB basic type typ to its native Go
// value: string, int, float64, bool, or the string of a UUID.
func (p *parser) atom(typ string) (any, error) {
	switch typ {
	case ovsdb.TypeString:
		return p.string()
	case ovsdb.TypeUUID:
		// ["uuid", "..."] (or "named-uuid" in a request)
		var s string
		n := 0
		err := p.array(func() error {
			v, err := p.string()
			if n == 0 && v != "uuid" && v != "named-uuid" {
				return p.fail("want a UUID")
			}
			s, n = v, n+1
			return err
		})
		if err == nil && n != 2 {
			err = p.fail("want a UUID")
		}
		return s, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	switch typ {
	case ovsdb.TypeInteger:
		// A float64, as encoding/json and so libovsdb read it.
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil || f != float64(int(f)) {
			return nil, p.fail("want an integer")
		}
		return int(f), nil
	case ovsdb.TypeReal:
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			return nil, p.fail("want a number")
		}
		return f, nil
	case ovsdb.TypeBoolean:
		switch string(lit) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, p.fail("want a boolean")
	}
	return nil, fmt.Errorf("unknown atomic type %s", typ)
}

// column parses the value of a column to its native type (ovsdb.NativeType).
func (p *parser) column(rc *replicaColumn) (any, error) {
	if rc.shape == shapeMap {
		return p.nativeMap(rc)
	}
	// An atom, or a set: ["set", [atoms]] or a single atom (libovsdb also
	// accepts a set of one for an atomic column).
	isSet, err := p.tagged("set")
	if err != nil {
		return nil, err
	}
	if !isSet {
		a, err := p.atom(rc.key)
		if err != nil {
			return nil, err
		}
		switch rc.shape {
		case shapeOptional:
			return pointerTo(rc.native, a), nil
		case shapeSet:
			if s, ok := a.(string); ok {
				return []string{s}, nil
			}
			out := reflect.MakeSlice(rc.native, 1, 1)
			out.Index(0).Set(reflect.ValueOf(a))
			return out.Interface(), nil
		}
		return a, nil
	}
	var strs []string
	var members []any
	err = p.array(func() error {
		a, err := p.atom(rc.key)
		if s, ok := a.(string); ok && rc.shape == shapeSet {
			strs = append(strs, s)
		} else {
			members = append(members, a)
		}
		return err
	})
	if err == nil {
		err = p.consume(']')
	}
	if err != nil {
		return nil, err
	}
	n := len(strs) + len(members)
	switch {
	case n == 0:
		if rc.shape == shapeAtom {
			return nil, fmt.Errorf("no value for a column of exactly one")
		}
		return rc.zero, nil
	case rc.shape == shapeSet && strs != nil:
		return strs, nil
	case rc.shape == shapeSet:
		out := reflect.MakeSlice(rc.native, n, n)
		for i, m := range members {
			out.Index(i).Set(reflect.ValueOf(m))
		}
		return out.Interface(), nil
	case n > 1:
		return nil, fmt.Errorf("%d values for a column of at most one", n)
	case rc.shape == shapeOptional:
		return pointerTo(rc.native, members[0]), nil
	}
	return members[0], nil
}

func pointerTo(ptrType reflect.Type, v any) any {
	switch v := v.(type) {
	case string:
		return &v
	case int:
		return &v
	case bool:
		return &v
	}
	p := reflect.New(ptrType.Elem())
	p.Elem().Set(reflect.ValueOf(v))
	return p.Interface()
}

// tagged parses the start of the ["set", ...] or ["map", ...] form: it
// consumes the opening bracket, the tag and the comma, and reports whether
// the tag was there. A UUID atom (["uuid", ...]) is not tagged: the cursor
// is left on it.
func (p *parser) tagged(tag string) (bool, error) {
	if p.peek() != '[' {
		return false, nil
	}
	save := p.pos
	p.pos++
	if p.peek() == '"' {
		s, err := p.stringBytes()
		if err != nil {
			return false, err
		}
		if string(s) == tag {
			return true, p.consume(',')
		}
	}
	p.pos = save
	return false, nil
}

func (p *parser) nativeMap(rc *replicaColumn) (any, error) {
	isMap, err := p.tagged("map")
	if err != nil {
		return nil, err
	}
	if !isMap {
		return nil, p.fail("want a map")
	}
	stringMap := rc.native == reflect.TypeFor[map[string]string]()
	var out reflect.Value
	var fast map[string]string
	n := 0
	err = p.array(func() error {
		var k, v any
		i := 0
		err := p.array(func() error {
			var err error
			switch i {
			case 0:
				k, err = p.atom(rc.key)
			case 1:
				v, err = p.atom(rc.val)
			default:
				err = p.fail("want a key-value pair")
			}
			i++
			return err
		})
		if err == nil && i != 2 {
			err = p.fail("want a key-value pair")
		}
		if err != nil {
			return err
		}
		n++
		if stringMap {
			if fast == nil {
				fast = map[string]string{}
			}
			fast[k.(string)] = v.(string)
			return nil
		}
		if !out.IsValid() {
			out = reflect.MakeMap(rc.native)
		}
		out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(v))
		return nil
	})
	if err == nil {
		err = p.consume(']')
	}
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return rc.zero, nil
	case stringMap:
		return fast, nil
	}
	return out.Interface(), nil
}
