package interp

import (
	"encoding/json"
	"testing"
)

// Map columns of integers (QoS bandwidth and action) print as maps, not as
// Go's map[...] text, in the text plan and in the JSON plan.
func TestIntMapField(t *testing.T) {
	v := map[string]int{"rate": 1000, "burst": 100}
	if got, want := FormatValue(v), "{burst=100, rate=1000}"; got != want {
		t.Errorf("FormatValue = %q, want %q", got, want)
	}
	b, err := json.Marshal(JSONValue(v))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"burst":100,"rate":1000}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	if IsEmpty(v) || !IsEmpty(map[string]int{}) {
		t.Error("IsEmpty: a map of ints is empty when it has no keys")
	}
}

// A list prints as its quoted strings, escapes and all.
func TestListField(t *testing.T) {
	for _, tc := range []struct {
		v    []string
		want string
	}{
		{nil, "[]"},
		{[]string{"0a:00:00:00:00:01 dynamic"}, `["0a:00:00:00:00:01 dynamic"]`},
		{[]string{"x\"y", "\n", "\u00e9", "\xff"}, `["x\"y", "\n", "é", "\xff"]`},
	} {
		if got := FormatValue(tc.v); got != tc.want {
			t.Errorf("FormatValue(%q) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
