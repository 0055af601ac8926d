package topo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/testdiff"
	. "github.com/ovnrun/ovnrun/internal/topo"
)

// TestOutputIsDeterministic renders freshly evaluated plans several times:
// map iteration order must never show in the output.
func TestOutputIsDeterministic(t *testing.T) {
	for _, write := range []struct {
		name string
		fn   func(*bytes.Buffer, *Topology) error
	}{
		{"dot", func(b *bytes.Buffer, t *Topology) error { return WriteDOT(b, t) }},
		{"mermaid", func(b *bytes.Buffer, t *Topology) error { return WriteMermaid(b, t) }},
	} {
		var first string
		for i := range 5 {
			var b bytes.Buffer
			if err := write.fn(&b, FromPlan(evaluate(t, "runbooks/dgp.star", nil))); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = b.String()
			} else if b.String() != first {
				t.Fatalf("%s output differs between runs (-first +now):\n%s", write.name, testdiff.Lines(first, b.String()))
			}
		}
	}
}

// TestQuoting draws names that DOT, HTML-like labels and Mermaid would read
// as syntax, and names that sanitise to the same Mermaid identifier.
func TestQuoting(t *testing.T) {
	topo := New(`lab "x"`, []*Switch{{Name: `s<1>`, Ports: []*SwitchPort{
		{Name: "a-b", Addresses: []string{`00:00:00:00:00:01 "x" & <y>`}},
		{Name: "a_b"},
	}}}, nil, []*Host{{Name: "h", VMs: []*VM{{Name: "vm", NICs: []NIC{{Dev: "t1", IfaceID: "a-b"}, {Dev: "t2", IfaceID: "a_b"}}}}}})

	var dot bytes.Buffer
	if err := WriteDOT(&dot, topo); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`label="lab \"x\""`, `"switch:s<1>"`, `<B>switch s&lt;1&gt;</B>`, `&quot;x&quot; &amp; &lt;y&gt;`} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot.String())
		}
	}
	var mmd bytes.Buffer
	if err := WriteMermaid(&mmd, topo); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lsp_a_b[", "lsp_a_b_2[", "#quot;x#quot; & #lt;y#gt;", "lsp_a_b --- nic_h_vm_t1", "lsp_a_b_2 --- nic_h_vm_t2"} {
		if !strings.Contains(mmd.String(), want) {
			t.Errorf("Mermaid lacks %s:\n%s", want, mmd.String())
		}
	}
}

// requireDot stops the test unless Graphviz is installed: a skip on a
// developer's machine, a failure under CI=true, where it must be.
func requireDot(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dot"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("graphviz's dot is not installed (apt-get install graphviz)")
	}
	t.Skip("graphviz's dot is not installed (apt-get install graphviz)")
}

func TestRender(t *testing.T) {
	requireDot(t)
	topo := FromPlan(evaluate(t, "runbooks/dgp.star", nil))
	var svg, png bytes.Buffer
	if err := Render(context.Background(), &svg, topo, "svg"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(svg.String(), "<svg") || !strings.Contains(svg.String(), "lr1&#45;ls3") {
		t.Errorf("SVG lacks <svg or lr1-ls3:\n%.400s", svg.String())
	}
	if err := Render(context.Background(), &png, topo, "png"); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("PNG output does not start with the PNG signature: %q", png.Bytes()[:min(8, png.Len())])
	}
}

func TestRenderWithoutDot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Render(context.Background(), &bytes.Buffer{}, New("x", nil, nil, nil), "svg")
	if !errors.Is(err, ErrNoDot) {
		t.Fatalf("Render without dot: %v, want ErrNoDot", err)
	}
}
