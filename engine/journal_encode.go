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
func (r *journalRecord) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = jsontext.AppendString(b, r.Type)
	if r.Format != 0 {
		b = append(b, `,"format":`...)
		b = strconv.AppendInt(b, int64(r.Format), 10)
	}
	b = appendMember(b, "run", r.Run)
	b = appendTime(b, "time", r.Time)
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
	b = appendTime(b, "start", r.Start)
	b = appendTime(b, "end", r.End)
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
func appendTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
