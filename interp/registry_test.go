package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

func noop(*Call) (starlark.Value, error) { return starlark.None, nil }

func TestRegistryRefusesBadEntries(t *testing.T) {
	for _, tc := range []struct {
		b    Builtin
		want string
	}{
		{Builtin{Name: "step", Signature: "step()", Doc: "again", Fn: noop, Domain: "x"}, `"step" already registered by domain "core"`},
		{Builtin{Name: "nodoc", Signature: "nodoc()", Doc: " \n", Fn: noop}, `"nodoc" has no documentation`},
		{Builtin{Name: "nosig", Doc: "doc", Fn: noop}, `"nosig" has no signature`},
		{Builtin{Name: "nofn", Signature: "nofn()", Doc: "doc"}, `"nofn" has no function`},
		{Builtin{Signature: "()", Doc: "doc", Fn: noop}, "empty name"},
	} {
		err := NewRegistry().Register(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Register(%q): got %v, want error containing %q", tc.b.Name, err, tc.want)
		}
	}
}

func TestRegistryLookupAndOrder(t *testing.T) {
	r := NewRegistry()
	if err := r.RegisterAll(
		Builtin{Name: "b", Signature: "b()", Doc: "B.", Fn: noop, Domain: "alpha"},
		Builtin{Name: "a", Signature: "a()", Doc: "A.", Fn: noop, Domain: "alpha"},
	); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range r.All() {
		got = append(got, b.Domain+"/"+b.Name)
	}
	if want := "alpha/a alpha/b core/lab core/read_file core/step core/var net/cidr_host net/cidr_netmask net/cidr_network net/cidr_prefix net/mac"; strings.Join(got, " ") != want {
		t.Errorf("All() = %v, want %s", got, want)
	}
	if _, err := r.Lookup("c"); err == nil || !strings.Contains(err.Error(), "known builtins: a, b, cidr_host,") {
		t.Errorf("Lookup(c): %v", err)
	}
}
