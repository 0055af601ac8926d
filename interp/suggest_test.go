package interp

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"doc", "graph", "lab", "trace", "h0_address", "h1_address"}
	for _, tc := range []struct{ name, want string }{
		{"grpah", "graph"}, // a swap
		{"grap", "graph"},  // a deletion
		{"labs", "lab"},    // an insertion
		{"h0_adress", "h0_address"},
		{"h2_address", "h0_address"}, // a tie goes to the first
		{"frobnicate", ""},
		{"dc", "doc"},
		{"xy", ""},
	} {
		if got := Suggest(tc.name, known); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
