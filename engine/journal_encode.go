package engine

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ovnrun/ovnrun/internal/jsontext"
)

// appendJSON appends r as encoding/json would marshal it, members in field
// order, empty ones left out. A bulk step journals thousands of records
// after its transaction, where json.Marshal's reflection was ~25 ms of an
// 11,000-row build; decodeRecord still reads them with encoding/json.
// Times are written through tt when not nil.
func (r *journalRecord) appendJSON(b []byte, tt *timeTexts) []byte {
	b = append(b, `{"type":`...)
	b = jsontext.AppendString(b, r.Type)
	if r.Format != 0 {
		b = append(b, `,"format":`...)
		b = strconv.AppendInt(b, int64(r.Format), 10)
	}
	b = appendMember(b, "run", r.Run)
	b = tt.appendTime(b, "time", r.Time)
	b = appendMember(b, "runbook", r.Runbook)
	if r.Pid != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(r.Pid), 10)
	}
	b = appendMember(b, "host", r.Host)
	b = appendMember(b, "id", r.ID)
	b = appendMember(b, "step", r.Step)
	b = appendMember(b, "hash", r.Hash)
	b = appendMember(b, "op", string(r.Op))
	if len(r.Outputs) > 0 {
		b = append(b, `,"outputs":{`...)
		for i, k := range slices.Sorted(maps.Keys(r.Outputs)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, k)
			b = append(b, ':')
			b = jsontext.AppendString(b, r.Outputs[k])
		}
		b = append(b, '}')
	}
	b = tt.appendTime(b, "start", r.Start)
	b = tt.appendTime(b, "end", r.End)
	b = appendMember(b, "status", r.Status)
	b = appendMember(b, "error", r.Error)
	if len(r.Holds) > 0 {
		b = append(b, `,"holds":[`...)
		for i, h := range r.Holds {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, h)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendMember(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return jsontext.AppendString(b, v)
}

// appendTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds); the zero time is left out (omitzero).
func (tt *timeTexts) appendTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":"`...)
	b = tt.format(b, t)
	return append(b, '"')
}

// timeTexts remembers the text of the last two times written: the
// records of a batch share their start and end, and formatting them
// afresh for each of 11,000 records was most of encoding them.
type timeTexts struct {
	t    [2]time.Time
	text [2][]byte
	last int
}

// format appends t as RFC 3339 with nanoseconds; a nil tt formats it.
func (tt *timeTexts) format(b []byte, t time.Time) []byte {
	if tt == nil {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	for i := range tt.t {
		// == and not Equal: the same instant in another location is
		// written differently.
		if tt.text[i] != nil && tt.t[i] == t {
			return append(b, tt.text[i]...)
		}
	}
	n := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	tt.last = 1 - tt.last
	tt.t[tt.last], tt.text[tt.last] = t, append(tt.text[tt.last][:0], b[n:]...)
	return b
}
