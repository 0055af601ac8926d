package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Where things are in an inventory file, so that every error names its
// line: encoding/json reports a byte offset for syntax errors at best, and
// nothing for an unknown field or a value the checks refuse.

// inventoryKeys are the keys an inventory object and a host object take.
var inventoryKeys, hostFieldKeys = jsonKeys(reflect.TypeFor[Inventory]()), jsonKeys(reflect.TypeFor[InventoryHost]())

func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for f := range t.Fields() {
		keys[strings.Split(f.Tag.Get("json"), ",")[0]] = true
	}
	return keys
}

// keyLines walks data's tokens and returns the line of every key, by path
// ("hosts/h0/port"). It refuses a syntax error, an unknown key and data
// after the inventory, each with its line.
func keyLines(data []byte) (map[string]int, *posError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines := map[string]int{}
	// path holds the keys of the open objects; an array or a scalar value
	// below hosts/NAME/KEY has no keys of its own to record.
	var path []string
	type frame struct {
		object bool
		key    bool // the next string token in this object is a key
	}
	var stack []frame
	fail := func(err error) *posError {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return &posError{lineAt(data, syn.Offset), fmt.Errorf("invalid JSON: %w", err)}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return &posError{lineAt(data, int64(len(data))), errors.New("invalid JSON: the file ends inside the inventory")}
		}
		return &posError{lineAt(data, dec.InputOffset()), fmt.Errorf("invalid JSON: %w", err)}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				// an empty object or one ending after a value
			} else {
				key := tok.(string) // the decoder gives only strings as keys
				line := lineAt(data, dec.InputOffset())
				switch {
				case len(stack) == 1 && !inventoryKeys[key]:
					return nil, &posError{line, fmt.Errorf("unknown field %q (want known_hosts, ssh_config or hosts)", key)}
				case len(stack) == 3 && len(path) == 2 && path[0] == "hosts" && !hostFieldKeys[key]:
					return nil, &posError{line, fmt.Errorf("host %s: unknown field %q", path[1], key)}
				}
				path = append(path, key)
				lines[strings.Join(path, "/")] = line
				stack[top].key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
		// A value ended: the key it belonged to is done.
		if n := len(stack); n > 0 && stack[n-1].object {
			path = path[:len(path)-1]
			stack[n-1].key = true
		}
		if len(stack) == 0 {
			break
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &posError{lineAt(data, dec.InputOffset()), errors.New("data after the inventory")}
	}
	return lines, nil
}

// lineAt is the line of data that holds byte offset off (counting from 1).
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// posError is an error at a line of the inventory.
type posError struct {
	line int
	err  error
}
