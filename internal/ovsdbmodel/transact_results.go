package ovsdbmodel

import (
	"errors"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// errNotPlain is a result parseResultsPlain leaves to encoding/json.
var errNotPlain = errors.New("not a plain result")

// parseResultsPlain decodes a result array made only of the results a
// bulk build gets back: {"uuid":["uuid","<UUID>"]} for an insert,
// {"count":N} for an update or mutate, {} for a wait, and null. The reply
// to its 12,000 operations took encoding/json ~10 ms after the server
// committed. Anything else (an error, rows, other members, escapes,
// numbers other than plain non-negative integers) reports false, and
// parseResults decodes the whole array with encoding/json instead, so
// whatever this accepts it decodes exactly as encoding/json would.
func parseResultsPlain(data []byte) ([]ovsdb.OperationResult, bool) {
	p := &parser{data: data}
	out := make([]ovsdb.OperationResult, 0, 1+len(data)/56) // an insert's result is 56 bytes
	err := p.array(func() error {
		out = append(out, ovsdb.OperationResult{})
		o := &out[len(out)-1]
		if p.peek() == 'n' {
			lit, err := p.literal()
			if err != nil || string(lit) != "null" {
				return errNotPlain
			}
			return nil
		}
		return p.object(func(key []byte) error {
			switch string(key) {
			case "uuid":
				uuid, ok := p.plainUUID()
				if !ok {
					return errNotPlain
				}
				o.UUID = ovsdb.UUID{GoUUID: uuid}
			case "count":
				lit, err := p.literal()
				if err != nil || !plainCount(lit) {
					return errNotPlain
				}
				o.Count, err = strconv.Atoi(string(lit))
				return err
			default:
				return errNotPlain
			}
			return nil
		})
	})
	if err != nil {
		return nil, false
	}
	if p.space(); p.pos != len(data) {
		return nil, false
	}
	return out, true
}

// plainUUID parses ["uuid","<UUID>"]: a UUID in the server's form, 36
// lowercase hex digits and dashes, so that no byte needs decoding.
func (p *parser) plainUUID() (string, bool) {
	var tag, uuid []byte
	n := 0
	err := p.array(func() error {
		n++
		if n > 2 || p.peek() != '"' {
			return errNotPlain
		}
		s, err := p.stringBytes()
		if err != nil {
			return err
		}
		if n == 1 {
			tag = s
		} else {
			uuid = s
		}
		return nil
	})
	if err != nil || n != 2 || string(tag) != "uuid" || len(uuid) != 36 {
		return "", false
	}
	for _, c := range uuid {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-') {
			return "", false
		}
	}
	return string(uuid), true
}

// plainCount reports whether lit is a JSON integer without sign or
// leading zero, small enough for an int.
func plainCount(lit []byte) bool {
	if len(lit) == 0 || len(lit) > 18 || len(lit) > 1 && lit[0] == '0' {
		return false
	}
	for _, c := range lit {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
