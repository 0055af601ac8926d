package interp_test

import (
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// hostArgRegistry has decl_host(name), which declares a local host, and
// use_host(host), which returns the name of the host HostArg resolves.
func hostArgRegistry(t *testing.T) *interp.Registry {
	t.Helper()
	r := interp.NewRegistry()
	err := r.RegisterAll(
		interp.Builtin{Name: "decl_host", Signature: "decl_host(name)", Domain: "test", Doc: "Declares a host.",
			Fn: func(c *interp.Call) (starlark.Value, error) {
				var name string
				if err := c.Unpack(1, "name", &name); err != nil {
					return nil, err
				}
				h := &interp.Host{Name: name, Local: true}
				return h, c.AddHost(h)
			}},
		interp.Builtin{Name: "use_host", Signature: "use_host(host)", Domain: "test", Doc: "Resolves a host.",
			Fn: func(c *interp.Call) (starlark.Value, error) {
				var v starlark.Value
				if err := c.Unpack(1, "host", &v); err != nil {
					return nil, err
				}
				h, err := c.HostArg("host", v)
				if err != nil {
					return nil, err
				}
				return starlark.String(h.Name), nil
			}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHostArg(t *testing.T) {
	for _, tc := range []struct {
		name, src, err string
	}{
		{"handle", `h = decl_host("h0")
if use_host(h) != "h0": fail("wrong host")`, ""},
		{"name", `decl_host("h0")
if use_host("h0") != "h0": fail("wrong host")`, ""},
		{"undeclared", `decl_host("h0")
use_host("h9")`, `use_host: host: no host "h9" is declared`},
		{"declared later", `use_host("h0")
decl_host("h0")`, `use_host: host: no host "h0" is declared`},
		{"wrong type", `use_host(3)`, `use_host: for parameter host: got int, want host or host name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := interp.Evaluate("refs.star", []byte(tc.src), interp.Options{Registry: hostArgRegistry(t)})
			var got string
			if err != nil {
				var e *interp.Error
				if !errors.As(err, &e) {
					t.Fatalf("got %T %v, want *interp.Error", err, err)
				}
				got = e.Msg
			}
			if got != tc.err {
				t.Errorf("error %q, want %q", got, tc.err)
			}
		})
	}
}

// wantErr reports a mismatch between err and want, an expected substring of
// the message or "" for success.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one containing %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q, want one containing %q", what, err, want)
	}
}

func TestCheckIfName(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"br-int", ""},
		{"ens3f1np1", ""},
		{"123456789012345", ""},
		{"", "want 1 to 15 bytes"},
		{"br-outside-network", `invalid interface name "br-outside-network": want 1 to 15 bytes`},
		{".", `invalid interface name "."`},
		{"..", `invalid interface name ".."`},
		{"br/out", "no '/', ':', whitespace or control characters"},
		{"br:out", "no '/', ':'"},
		{"br int", "whitespace"},
		{"br\tint", "whitespace"},
		{"br\x7f", "control characters"},
	} {
		wantErr(t, "CheckIfName("+tc.in+")", interp.CheckIfName(tc.in), tc.err)
	}
}

func TestIfNameUnpack(t *testing.T) {
	var n interp.IfName
	if err := n.Unpack(starlark.String("tap0")); err != nil || n != "tap0" {
		t.Errorf("Unpack(tap0) = %q, %v; want tap0", n, err)
	}
	wantErr(t, "Unpack(tap/0)", n.Unpack(starlark.String("tap/0")), `invalid interface name "tap/0"`)
	wantErr(t, "Unpack(3)", n.Unpack(starlark.MakeInt(3)), "got int, want interface name string")
	if n != "tap0" {
		t.Errorf("a failed Unpack changed the name to %q", n)
	}
}

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"177.1.1.1", ""},
		{"2001:db8::1", ""},
		{"central", ""},
		{"ovn-central.lab.example", ""},
		{"ovn-central.lab.example.", ""}, // fully qualified
		{"", `invalid IP address ""`},
		{"177.1.1.300", `invalid IP address "177.1.1.300"`}, // not a host name
		{"177.1.1", `invalid IP address "177.1.1"`},
		{"2001:db8::zz", `invalid IP address "2001:db8::zz"`},
		{"fe80::1%eth0", "invalid IP address"},
		{"bad_name.example", `invalid host name "bad_name.example": only letters`},
		{"-a.example", `bad label "-a"`},
		{"a..example", `bad label ""`},
		{strings.Repeat("a", 64) + ".example", "bad label"},
		{strings.Repeat("a.", 127) + "ab", "want 1 to 253 characters"},
	} {
		wantErr(t, "CheckAddress("+tc.in+")", interp.CheckAddress(tc.in), tc.err)
	}
}

func TestCheckHostname(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"hv0", ""},
		{"hv0.lab.example", ""},
		{"177.1.1.1", ""}, // digits are valid labels; CheckAddress tells the two apart
		{"", "want 1 to 253 characters"},
		{"hv0-", `bad label "hv0-"`},
		{"hv 0", "only letters, digits, '-' and '.' are allowed"},
	} {
		wantErr(t, "CheckHostname("+tc.in+")", interp.CheckHostname(tc.in), tc.err)
	}
}

func TestCheckRemote(t *testing.T) {
	for _, tc := range []struct {
		remote  string
		passive bool
		err     string
	}{
		{"tcp:177.1.1.1:6642", false, ""},
		{"ssl:[::1]:6642", false, ""},
		{"tcp:ovn-central:6642", false, ""},
		{"tcp:ovn-central.lab.:6642", false, ""},
		{"unix:/var/run/ovn/ovnsb_db.sock", false, ""},
		{"ptcp:6642", true, ""},
		{"ptcp:6642:[2001:db8::1]", true, ""},
		{"pssl:6642:0.0.0.0", true, ""},
		{"punix:/run/ovn/nb.sock", true, ""},
		{"tcp:10.0.0.9:6641", true, ""}, // a Connection row may connect out
		{"ptcp:6642", false, `remote "ptcp:6642": a passive remote cannot be used here`},
		{"punix:/x.sock", false, "a passive remote cannot be used here"},
		{"tcp:177.1.1.1", false, `remote "tcp:177.1.1.1": want HOST:PORT`},
		{"tcp::6642", false, `invalid IP address ""`},
		{"tcp:[177.1.1.1]:6642", false, "invalid IPv6 address [177.1.1.1]"},
		{"tcp:2001:db8::1:6642", false, "write an IPv6 address in brackets, as [2001:db8::1]"},
		{"tcp:177.1.1.300:6642", false, `invalid IP address "177.1.1.300"`},
		{"tcp:177.1.1.1:0", false, `port "0": want a number in 1..65535`},
		{"ptcp:0", true, `port "0": want a number in 1..65535`},
		{"ptcp:", true, `port "": want a number in 1..65535`},
		{"ptcp:66410", true, `port "66410": want a number in 1..65535`},
		{"ptcp:6641:177.1.1", true, `invalid IP address "177.1.1"`},
		{"ptcp:6642:host.example", true, "invalid IP address"},
		{"unix:relative.sock", false, `socket path "relative.sock" is not absolute`},
		{"punix:ovnsb.sock", true, `socket path "ovnsb.sock" is not absolute`},
		{"http://177.1.1.1:6642", false, "want tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH"},
		{"6641", true, "want ptcp:PORT[:IP], pssl:PORT[:IP], punix:PATH, tcp:HOST:PORT"},
		{"udp:1.2.3.4:6642", true, "want ptcp:PORT"},
		{"", false, `remote "": want`},
	} {
		wantErr(t, tc.remote, interp.CheckRemote(tc.remote, tc.passive), tc.err)
	}
}
