package host

import (
	"strings"
	"testing"

	"go.starlark.net/syntax"

	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	return r, Register(r)
}

func TestScripts(t *testing.T) {
	startest.Run(t, "testdata/*.star", newRegistry, interp.Options{})
}

// TestDocs checks what `ovnrun doc` prints for this domain: a signature that
// is a call of the builtin's own name, and a real paragraph of text.
func TestDocs(t *testing.T) {
	r, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range r.All() {
		if b.Domain != "host" {
			continue
		}
		n++
		checkDoc(t, b)
	}
	if n != 10 {
		t.Errorf("host domain registers %d builtins, want 10", n)
	}
}

func checkDoc(t *testing.T, b *interp.Builtin) {
	t.Helper()
	if len(strings.Fields(b.Doc)) < 30 {
		t.Errorf("%s: doc has fewer than 30 words: %q", b.Name, b.Doc)
	}
	// Signatures write keyword-only defaults as "x=": make them parse.
	sig := strings.NewReplacer("=,", "=None,", "=)", "=None)").Replace(b.Signature)
	e, err := syntax.ParseExpr("sig", sig, 0)
	if err != nil {
		t.Errorf("%s: signature %q does not parse: %v", b.Name, b.Signature, err)
		return
	}
	call, ok := e.(*syntax.CallExpr)
	if !ok {
		t.Errorf("%s: signature %q is not a call", b.Name, b.Signature)
		return
	}
	if id, ok := call.Fn.(*syntax.Ident); !ok || id.Name != b.Name {
		t.Errorf("%s: signature %q names another function", b.Name, b.Signature)
	}
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"ovs-vsctl", "ovs-vsctl"},
		{"external-ids:ovn-remote=tcp:177.1.1.1:6642", "external-ids:ovn-remote=tcp:177.1.1.1:6642"},
		{"/var/lib/libvirt/images/v0.qcow2", "/var/lib/libvirt/images/v0.qcow2"},
		{"my vm", "'my vm'"},
		{"it's", `'it'\''s'`},
		{"a;rm -rf /", "'a;rm -rf /'"},
		{"a;b", "'a;b'"},
		{"a|b", "'a|b'"},
		{"a&b", "'a&b'"},
		{"~root", "'~root'"},
		{"`id`", "'`id`'"},
		{"a\\b", "'a\\b'"},
		{"(x)", "'(x)'"},
		{"<in", "'<in'"},
		{`"quoted"`, `'"quoted"'`},
		{"$HOME", "'$HOME'"},
		{"*", "'*'"},
		{"a\nb", "'a\nb'"},
		{"'", `''\'''`},
	} {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestShellScript(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sh     Shell
		script string
		guard  string
	}{
		{"script verbatim", Shell{Cmd: Command{Script: "chmod 666 /dev/kvm; echo $HOME"}},
			"chmod 666 /dev/kvm; echo $HOME", ""},
		{"argv quoted", Shell{Cmd: Command{Argv: []string{"virsh", "attach-device", "my vm", "it's;x"}}},
			`virsh attach-device 'my vm' 'it'\''s;x'`, ""},
		{"creates", Shell{Cmd: Command{Script: "wget x"}, Creates: "/var/lib/libvirt/images/v0.qcow2"},
			"wget x", "runs unless /var/lib/libvirt/images/v0.qcow2 exists"},
		{"unless argv", Shell{Cmd: Command{Script: "virsh net-start default"},
			Unless: Command{Argv: []string{"virsh", "net-info", "default net"}}},
			"virsh net-start default", "runs unless `virsh net-info 'default net'` succeeds"},
		{"both guards", Shell{Cmd: Command{Script: "x"}, Creates: "/a", Unless: Command{Script: "test -e /b"}},
			"x", "runs unless /a exists or `test -e /b` succeeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sh.Script(); got != tc.script {
				t.Errorf("Script() = %q, want %q", got, tc.script)
			}
			if got := tc.sh.Guard(); got != tc.guard {
				t.Errorf("Guard() = %q, want %q", got, tc.guard)
			}
		})
	}
}

// The interp interfaces the actions must satisfy.
var (
	_ interp.Action  = (*Shell)(nil)
	_ interp.Guarded = (*Shell)(nil)
	_ interp.Action  = (*Service)(nil)
	_ interp.Action  = (*ExternalIDs)(nil)
	_ interp.Action  = (*OVSBridge)(nil)
	_ interp.Action  = (*DBConnection)(nil)
	_ interp.Action  = (*Route)(nil)
	_ interp.Action  = (*IPAddress)(nil)
)

// TestPlanShowsGuard evaluates a runbook and renders its plan: a guarded
// command shows its guard as a note, and the argv as the shell will see it.
func TestPlanShowsGuard(t *testing.T) {
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	src := `h0 = host("h0", address = "177.1.1.1")
sh(h0, ["virsh", "net-start", "my net"], unless = "virsh net-info default")
`
	p, err := interp.Evaluate("lab.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := interp.WriteText(&b, p, interp.OfflineChanges(p.Steps)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"> sh h0/1  (lab.star:2:3)",
		"# runs unless `virsh net-info default` succeeds",
		`cmd: "virsh net-start 'my net'"`,
		"1 command(s) will run.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
}
