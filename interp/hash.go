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
	"time"
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

// ResumeStatus is what a resumed run does with one action.
type ResumeStatus int

const (
	// ResumeTodo: no earlier run completed the action; plan it as usual.
	ResumeTodo ResumeStatus = iota
	// ResumeSkip: completed earlier with the same desired state. The engine
	// skips it only if its driver re-verifies the live postcondition, and
	// applies it as usual otherwise.
	ResumeSkip
	// ResumeChanged: completed earlier with another desired state (the
	// runbook was edited); plan it as a change, never skip it.
	ResumeChanged
	// ResumeUnfinished: a command recorded as started and never as done; it
	// may have run. Its guard decides; without one, it must not run again
	// unasked.
	ResumeUnfinished
)

func (s ResumeStatus) String() string {
	switch s {
	case ResumeSkip:
		return "skip"
	case ResumeChanged:
		return "changed"
	case ResumeUnfinished:
		return "unfinished"
	}
	return "todo"
}

// ResumeDecision is the journal's verdict on one action of a resumed run.
type ResumeDecision struct {
	Action Action
	Status ResumeStatus
	Hash   string       // the action's desired-state hash now
	Record ActionRecord // the journal's record; zero for ResumeTodo
	// Reason explains the status for the plan ("done in run R at T"); empty
	// for ResumeTodo.
	Reason string
}

// ResumeDecisions compares every action of steps, in order, with the
// records of completed actions (Journal.Completed).
func ResumeDecisions(steps []*Step, completed map[string]ActionRecord) []ResumeDecision {
	var out []ResumeDecision
	for _, s := range steps {
		for _, a := range s.Actions {
			d := ResumeDecision{Action: a, Hash: ActionHash(a)}
			if rec, ok := completed[a.Meta().ID]; ok {
				d.Record = rec
				if rec.Hash == d.Hash {
					d.Status, d.Reason = ResumeSkip, fmt.Sprintf("done in run %s at %s", rec.Run, humanTime(rec.End))
				} else {
					d.Status, d.Reason = ResumeChanged, fmt.Sprintf("desired state changed since run %s (done at %s)", rec.Run, humanTime(rec.End))
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// ResumeDecisions is the package function of that name applied to the
// journal's completed actions, with the actions recorded as started and
// never finished marked ResumeUnfinished.
func (j *Journal) ResumeDecisions(steps []*Step) []ResumeDecision {
	ds := ResumeDecisions(steps, j.Completed())
	unfinished := j.Unfinished()
	for i, d := range ds {
		if rec, ok := unfinished[d.Action.Meta().ID]; ok {
			ds[i].Status, ds[i].Record = ResumeUnfinished, rec
			ds[i].Reason = fmt.Sprintf("started in run %s at %s and not recorded as finished: it may have run", rec.Run, humanTime(rec.Start))
		}
	}
	return ds
}

// humanTime formats a journal time for a message, in local time.
func humanTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }
