package ovsdbmodel

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// The Replica's side of the JSON-RPC protocol: messages are framed, their
// members found and row updates parsed straight into native values. The
// monitor reply of a large database is megabytes of JSON, which encoding/json
// would decode into generic maps and slices, to be converted afterwards, at
// four times the cost: this makes three light passes over the bytes and
// allocates only the final values.

// framer splits the byte stream of a connection into JSON-RPC messages.
type framer struct {
	r *bufio.Reader
}

// next returns the next message, in storage of its own.
func (f *framer) next() ([]byte, error) {
	var buf []byte
	depth, inString, escaped := 0, false, false
	for {
		if _, err := f.r.Peek(1); err != nil {
			if len(buf) > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		chunk, _ := f.r.Peek(f.r.Buffered())
		start := 0
		for i, c := range chunk {
			if depth == 0 { // before the message
				switch c {
				case ' ', '\t', '\r', '\n':
					start = i + 1
				case '{', '[':
					depth = 1
				default:
					return nil, fmt.Errorf("unexpected %q between JSON-RPC messages", c)
				}
				continue
			}
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					buf = append(buf, chunk[start:i+1]...)
					f.r.Discard(i + 1)
					return buf, nil
				}
			}
		}
		buf = append(buf, chunk[start:]...)
		f.r.Discard(len(chunk))
	}
}

// envelope is a JSON-RPC message with the raw spans of its members.
type envelope struct {
	id, method, params, result, error []byte
}

// parseEnvelope finds the members of a message without decoding them.
func parseEnvelope(msg []byte) (*envelope, error) {
	p := &parser{data: msg}
	e := &envelope{}
	err := p.object(func(key []byte) error {
		p.space()
		start := p.pos
		if err := p.skip(); err != nil {
			return err
		}
		span := p.data[start:p.pos]
		switch string(key) {
		case "id":
			e.id = span
		case "method":
			e.method = span
		case "params":
			e.params = span
		case "result":
			e.result = span
		case "error":
			e.error = span
		}
		return nil
	})
	if err == nil {
		p.space()
		if p.pos != len(p.data) {
			err = p.fail("trailing data")
		}
	}
	return e, err
}

// methodName decodes the method member ("" for a response).
func (e *envelope) methodName() string {
	var s string
	if e.method != nil {
		json.Unmarshal(e.method, &s)
	}
	return s
}

// rowUpdate is one row of a <table-updates2>: kind is "initial", "insert",
// "modify" or "delete"; cols holds the native values of the columns sent.
type rowUpdate struct {
	table, uuid, kind string
	cols              map[string]any
}

// parseTableUpdates2 parses a <table-updates2> object, calling fn for each
// row of a replicated table; other tables and columns are skipped.
func parseTableUpdates2(data []byte, tables map[string]*replicaTable, fn func(rowUpdate) error) error {
	p := &parser{data: data}
	err := p.object(func(tableKey []byte) error {
		rt := tables[string(tableKey)]
		if rt == nil {
			return p.skip()
		}
		table := string(tableKey)
		return p.object(func(uuidKey []byte) error {
			uuid := string(uuidKey)
			return p.object(func(kindKey []byte) error {
				var u rowUpdate
				switch string(kindKey) {
				case "initial":
					u.kind = "initial"
				case "insert":
					u.kind = "insert"
				case "modify":
					u.kind = "modify"
				case "delete":
					if err := p.skip(); err != nil {
						return err
					}
					return fn(rowUpdate{table: table, uuid: uuid, kind: "delete"})
				default:
					return p.fail("unknown row update " + strconv.Quote(string(kindKey)))
				}
				u.table, u.uuid = table, uuid
				u.cols = make(map[string]any, len(rt.columns))
				err := p.object(func(column []byte) error {
					rc := rt.byName[string(column)]
					if rc == nil {
						return p.skip()
					}
					v, err := p.column(rc)
					if err != nil {
						return fmt.Errorf("%s row %s column %s: %w", table, uuid, rc.name, err)
					}
					u.cols[rc.name] = v
					return nil
				})
				if err != nil {
					return err
				}
				return fn(u)
			})
		})
	})
	if err == nil {
		p.space()
		if p.pos != len(p.data) {
			err = p.fail("trailing data")
		}
	}
	return err
}

// arrayMembers returns the spans of the members of a JSON array.
func arrayMembers(data []byte) ([][]byte, error) {
	p := &parser{data: data}
	var members [][]byte
	err := p.array(func() error {
		p.space()
		start := p.pos
		err := p.skip()
		members = append(members, p.data[start:p.pos])
		return err
	})
	return members, err
}
