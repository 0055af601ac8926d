package ovsdbmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/jsontext"
)

// appendOperation appends op in the OVSDB notation libovsdb's MarshalJSON
// methods produce (RFC 7047 <operation>), member for member.
func appendOperation(b []byte, op *ovsdb.Operation) ([]byte, error) {
	var err error
	b = append(b, `{"op":`...)
	b = jsontext.AppendString(b, op.Op)
	if op.Table != "" {
		b = append(b, `,"table":`...)
		b = jsontext.AppendString(b, op.Table)
	}
	if len(op.Row) > 0 {
		b = append(b, `,"row":`...)
		if b, err = appendRow(b, op.Row); err != nil {
			return nil, err
		}
	}
	if len(op.Rows) > 0 {
		b = append(b, `,"rows":[`...)
		for i, r := range op.Rows {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendRow(b, r); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if len(op.Columns) > 0 {
		b = append(b, `,"columns":[`...)
		for i, c := range op.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, c)
		}
		b = append(b, ']')
	}
	if len(op.Mutations) > 0 {
		b = append(b, `,"mutations":[`...)
		for i, m := range op.Mutations {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendTriple(b, m.Column, string(m.Mutator), m.Value); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if op.Timeout != nil {
		b = append(b, `,"timeout":`...)
		b = strconv.AppendInt(b, int64(*op.Timeout), 10)
	}
	// A select without conditions selects every row: its where is sent
	// empty rather than left out, as libovsdb does.
	if len(op.Where) > 0 || op.Op == ovsdb.OperationSelect {
		b = append(b, `,"where":[`...)
		for i, c := range op.Where {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendTriple(b, c.Column, string(c.Function), c.Value); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if op.Until != "" {
		b = append(b, `,"until":`...)
		b = jsontext.AppendString(b, op.Until)
	}
	if op.Durable != nil {
		b = append(b, `,"durable":`...)
		b = strconv.AppendBool(b, *op.Durable)
	}
	for _, m := range [...]struct {
		key string
		v   *string
	}{{"comment", op.Comment}, {"lock", op.Lock}} {
		if m.v != nil {
			b = append(b, `,"`+m.key+`":`...)
			b = jsontext.AppendString(b, *m.v)
		}
	}
	if op.UUID != "" {
		b = append(b, `,"uuid":`...)
		b = jsontext.AppendString(b, op.UUID)
	}
	if op.UUIDName != "" {
		b = append(b, `,"uuid-name":`...)
		b = jsontext.AppendString(b, op.UUIDName)
	}
	return append(b, '}'), nil
}

// appendTriple appends a condition or a mutation: [column, function, value].
func appendTriple(b []byte, column, function string, v any) ([]byte, error) {
	b = append(b, '[')
	b = jsontext.AppendString(b, column)
	b = append(b, ',')
	b = jsontext.AppendString(b, function)
	b = append(b, ',')
	b, err := appendValue(b, v)
	return append(b, ']'), err
}

func appendRow(b []byte, row ovsdb.Row) ([]byte, error) {
	b = append(b, '{')
	first := true
	for col, v := range row {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsontext.AppendString(b, col)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, v); err != nil {
			return nil, fmt.Errorf("column %s: %w", col, err)
		}
	}
	return append(b, '}'), nil
}

// appendValue appends an <atom>, <set> or <map> in OVSDB notation. A value
// of a type libovsdb does not put in operations goes through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return jsontext.AppendString(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("real %v is not a JSON number", x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case ovsdb.UUID:
		// A value that is not a UUID is a named UUID of this transaction.
		if ovsdb.ValidateUUID(x.GoUUID) == nil {
			b = append(b, `["uuid",`...)
		} else {
			b = append(b, `["named-uuid",`...)
		}
		return append(jsontext.AppendString(b, x.GoUUID), ']'), nil
	case ovsdb.OvsSet:
		if len(x.GoSet) == 1 {
			return appendValue(b, x.GoSet[0])
		}
		b = append(b, `["set",[`...)
		for i, e := range x.GoSet {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, "]]"...), nil
	case ovsdb.OvsMap:
		b = append(b, `["map",[`...)
		first := true
		for k, e := range x.GoMap {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '[')
			var err error
			if b, err = appendValue(b, k); err != nil {
				return nil, err
			}
			b = append(b, ',')
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		return append(b, "]]"...), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}
