package ovsdbmodel

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseResults: whatever result array parseResultsPlain accepts, it
// decodes exactly as encoding/json does (parseResultsJSON); what it does
// not accept goes to encoding/json.
func FuzzParseResults(f *testing.F) {
	const uuid = `["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]`
	for _, seed := range []string{
		`[{"uuid":` + uuid + `},{"count":1},{},null]`,
		`[ {"uuid" : ` + uuid + ` , "count" : 0 } , null ]`,
		`[]`, `null`, `[{}]`, `[{"count":01}]`, `[{"count":-1}]`, `[{"count":1.5}]`, `[{"count":12345678901234567890}]`,
		`[{"uuid":["uuid","0F2C1C1E-9F3A-4D1B-8A45-1C5B2D3E4F50"]}]`,
		`[{"uuid":["named-uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]}]`,
		`[{"uuid":["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f5\u0030"]}]`,
		`[{"uuid":["uuid"]}]`, `[{"uuid":["uuid","a","b"]}]`, `[{"uuid":null}]`,
		`[{"Uuid":` + uuid + `}]`, `[{"uuid":` + uuid + `,"uuid":["uuid","x"]}]`,
		`[{"error":"constraint violation","details":"x"}]`, `[{"rows":[{"name":"a"}]}]`,
		`[{"count":1}] x`, `[{"count":1},]`, `[nul]`, `[nullx]`, `[true]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := parseResultsPlain(data)
		if !ok {
			return
		}
		want, err := parseResultsJSON(data)
		if err != nil {
			t.Fatalf("%q: plain parse took what encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: plain parse gives %+v, encoding/json %+v", data, got, want)
		}
	})
}

// TestParseResultsPlainTakesABulkReply: the reply to a bulk build's
// operations (inserts, the guards' waits, the parents' mutations) is
// decoded without encoding/json.
func TestParseResultsPlainTakesABulkReply(t *testing.T) {
	data := bulkReply(1000)
	got, ok := parseResultsPlain(data)
	if !ok {
		t.Fatal("parseResultsPlain refused a bulk reply")
	}
	want, err := parseResultsJSON(data)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("plain parse differs from encoding/json (%v)", err)
	}
}

// BenchmarkParseResults decodes the reply to a 12,000-operation bulk build.
func BenchmarkParseResults(b *testing.B) {
	data := bulkReply(11000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseResults(data); err != nil {
			b.Fatal(err)
		}
	}
}

func bulkReply(inserts int) []byte {
	var b strings.Builder
	b.WriteString("[{},")
	for i := range inserts {
		fmt.Fprintf(&b, `{"uuid":["uuid","%08x-9f3a-4d1b-8a45-1c5b2d3e4f50"]},`, i)
	}
	b.WriteString(`{"count":1},{"count":1},{}]`)
	return []byte(b.String())
}
