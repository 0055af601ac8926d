package engine

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// The journal's encoder writes what json.Marshal writes, byte for byte where
// encoding/json does not escape HTML, and what decodes to the same record
// everywhere.
func TestAppendJSONLikeEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.FixedZone("x", 3600))
	recs := []journalRecord{
		{Type: "journal", Format: 2, Time: at},
		{Type: "run_start", Run: "r1", Time: at.UTC(), Runbook: "/lab/dgp.star", Pid: 4242, Host: "central", Holds: []string{"host", "host@h0", "nb"}},
		{Type: "action", Run: "r1", ID: "lsp:sw0/p0", Step: "topology", Hash: "ab12", Op: interp.OpCreate,
			Outputs: map[string]string{"dynamic_addresses": "0a:00:00:00:00:01 10.0.0.2", "b": "", "a\"q": "\n"}, Start: at, End: at.Add(time.Millisecond)},
		{Type: "action_start", ID: "cmd:x", Step: "s", Hash: "h", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Type: "run_end", Run: "r1", Time: at, Status: "failed", Error: "nb: step \"x\": \u00e9 \x01 \xff", Holds: []string{"libvirt@\"q"}},
		{Type: "outputs", ID: "vm:v0", Outputs: map[string]string{"ip": "10.0.0.5"}},
		{Type: "x"},
	}
	var tt timeTexts // shared, as by the records of one write
	for _, r := range recs {
		got := r.appendJSON(nil, nil)
		if cached := r.appendJSON(nil, &tt); string(cached) != string(got) {
			t.Errorf("with remembered times:\n got %s\nwant %s", cached, got)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back journalRecord
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		var ref journalRecord
		json.Unmarshal(want, &ref)
		if !reflect.DeepEqual(back, ref) {
			t.Errorf("decoded differently:\n got %s\nwant %s", got, want)
		}
		if r.Type != "run_end" && string(got) != string(want) {
			t.Errorf("bytes differ:\n got %s\nwant %s", got, want)
		}
	}
}
