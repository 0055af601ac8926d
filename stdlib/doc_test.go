package stdlib

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Every public function of the embedded libraries is documented, and
// `ovnrun doc` shows its signature as the def line writes it.
func TestFunctionsAreDocumented(t *testing.T) {
	fns, err := Functions(FS)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Function{}
	for _, f := range fns {
		if _, dup := byName[f.Name]; dup {
			t.Errorf("%s is defined by two libraries", f.Name)
		}
		byName[f.Name] = f
	}
	for name, sig := range map[string]string{
		"link":           "link(router, switch, mac, network)",
		"gateway_router": `gateway_router(name, chassis, external=None, mac=None, network=None, network_name="outNet", snat=[], dnat={})`,
		"cidr_address":   "cidr_address(cidr, i)",
	} {
		if got := byName[name].Signature; got != sig {
			t.Errorf("%s: signature %q, want %q", name, got, sig)
		}
	}
	if f := byName["vm_port"]; f.Library != "@stdlib//lab.star" || !strings.HasPrefix(f.Doc, "A VM's logical port") {
		t.Errorf("vm_port: %+v", f)
	}
}

func TestUndocumentedFunctionIsAnError(t *testing.T) {
	fsys := fstest.MapFS{"x.star": {Data: []byte("def _private():\n    pass\n\ndef public(a, *, b = 1):\n    return a\n")}}
	_, err := Functions(fsys)
	if err == nil || err.Error() != "@stdlib//x.star:4:1: public has no doc string" {
		t.Errorf("got %v, want the position of public's def", err)
	}
}
