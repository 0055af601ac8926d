package ovn

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// How a Row is written into a saved plan and read back (docs/saved-plans.md):
// its Meta as it is, its table by name (a table row() made, which is not
// described, in full), its columns as tagged values and its links by
// column. Reading it back gives a Row whose Fields and ActionHash are the
// ones written.

// savedRow is a Row in a saved plan.
type savedRow struct {
	Meta  interp.Meta
	Table string
	// Schema is the table of a row() row, described by nothing here.
	Schema *savedTable           `json:",omitempty"`
	Cols   map[string]savedValue `json:",omitempty"`
	Links  []savedLink           `json:",omitempty"`
}

type savedTable struct {
	Key          []string
	KeyConflicts bool
	Columns      []string
	Read         []string
	In           []Ref
	Builtin      string
}

type savedLink struct{ Table, Column, Parent string }

// savedValue is one column value, tagged by its Go type: exactly one
// member is set.
type savedValue struct {
	S      *string           `json:"s,omitempty"`
	B      *bool             `json:"b,omitempty"`
	I      *int              `json:"i,omitempty"`
	L      []string          `json:"l,omitempty"`
	IL     []int             `json:"il,omitempty"`
	M      map[string]string `json:"m,omitempty"`
	MI     map[string]int    `json:"mi,omitempty"`
	Ref    *string           `json:"ref,omitempty"`
	Refs   []string          `json:"refs,omitempty"`
	Future *interp.Future    `json:"future,omitempty"`
	// MF is a map column with futures among its values.
	MF map[string]savedValue `json:"mf,omitempty"`
}

// rowCodec encodes and decodes the OVN domain's actions, NB rows.
var rowCodec = &engine.ActionCodec{Encode: encodeRow, Decode: decodeRow}

func encodeRow(a interp.Action) (json.RawMessage, bool, error) {
	r, ok := a.(*Row)
	if !ok {
		return nil, false, nil
	}
	s := savedRow{Meta: *r.Meta(), Table: r.T.Name, Cols: map[string]savedValue{}}
	if tableNamed(r.T.Name) != r.T {
		s.Schema = &savedTable{Key: r.T.Key, KeyConflicts: r.T.KeyConflicts, Columns: r.T.Columns,
			Read: r.T.Read, Builtin: r.T.Builtin}
		for _, ref := range r.T.In {
			s.Schema.In = append(s.Schema.In, *ref)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(r.Cols)) {
		v := r.Cols[c]
		if v == nil {
			continue
		}
		sv, err := encodeValue(v)
		if err != nil {
			return nil, true, fmt.Errorf("%s %s: column %s: %v", r.M.Kind, r.M.Name, c, err)
		}
		s.Cols[c] = sv
	}
	for _, l := range r.Links {
		s.Links = append(s.Links, savedLink{l.Ref.Table, l.Ref.Column, l.Parent})
	}
	b, err := json.Marshal(s)
	return b, true, err
}

func encodeValue(v any) (savedValue, error) {
	switch v := v.(type) {
	case string:
		return savedValue{S: &v}, nil
	case bool:
		return savedValue{B: &v}, nil
	case int:
		return savedValue{I: &v}, nil
	case []string:
		return savedValue{L: v}, nil
	case []int:
		return savedValue{IL: v}, nil
	case map[string]string:
		return savedValue{M: v}, nil
	case map[string]int:
		return savedValue{MI: v}, nil
	case rowRef:
		return savedValue{Ref: &v.id}, nil
	case []rowRef:
		ids := make([]string, len(v))
		for i, r := range v {
			ids[i] = r.id
		}
		return savedValue{Refs: ids}, nil
	case *interp.Future:
		return savedValue{Future: v}, nil
	case map[string]any:
		m := map[string]savedValue{}
		for k, x := range v {
			sv, err := encodeValue(x)
			if err != nil {
				return sv, err
			}
			m[k] = sv
		}
		return savedValue{MF: m}, nil
	}
	return savedValue{}, fmt.Errorf("a saved plan cannot hold a %T", v)
}

func decodeRow(b json.RawMessage) (interp.Action, error) {
	var s savedRow
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	t := tableNamed(s.Table)
	if s.Schema != nil {
		t = &Table{Name: s.Table, Key: s.Schema.Key, KeyConflicts: s.Schema.KeyConflicts, Columns: s.Schema.Columns,
			Read: s.Schema.Read, Builtin: s.Schema.Builtin}
		for _, ref := range s.Schema.In {
			t.In = append(t.In, &ref)
		}
	}
	if t == nil {
		return nil, fmt.Errorf("%s: no NB table %q is described", s.Meta.ID, s.Table)
	}
	r := &Row{ActionMeta: interp.ActionMeta{M: s.Meta}, T: t, Cols: make(map[string]any, len(s.Cols))}
	for c, sv := range s.Cols {
		v, err := decodeValue(sv)
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %v", s.Meta.ID, c, err)
		}
		r.Cols[c] = v
	}
	for _, l := range s.Links {
		ref := t.ref(l.Table, l.Column)
		if ref == nil {
			return nil, fmt.Errorf("%s: %s rows do not reference %s rows through %s", s.Meta.ID, l.Table, s.Table, l.Column)
		}
		r.link(ref, l.Parent)
	}
	return r, nil
}

func decodeValue(v savedValue) (any, error) {
	switch {
	case v.S != nil:
		return *v.S, nil
	case v.B != nil:
		return *v.B, nil
	case v.I != nil:
		return *v.I, nil
	case v.L != nil:
		return v.L, nil
	case v.IL != nil:
		return v.IL, nil
	case v.M != nil:
		return v.M, nil
	case v.MI != nil:
		return v.MI, nil
	case v.Ref != nil:
		return rowRef{*v.Ref}, nil
	case v.Refs != nil:
		refs := make([]rowRef, len(v.Refs))
		for i, id := range v.Refs {
			refs[i] = rowRef{id}
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].id < refs[j].id })
		return refs, nil
	case v.Future != nil:
		return interp.NewFuture(v.Future.From, v.Future.Attr), nil
	case v.MF != nil:
		m := make(map[string]any, len(v.MF))
		for k, x := range v.MF {
			d, err := decodeValue(x)
			if err != nil {
				return nil, err
			}
			m[k] = d
		}
		return m, nil
	}
	return nil, fmt.Errorf("a value with no known type")
}
