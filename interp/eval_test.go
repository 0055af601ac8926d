package interp_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

var testStdlib = fstest.MapFS{"std.star": {Data: []byte(`std_answer = 42

def positive(n):
    if n < 0:
        fail("positive: got %d" % n)
    return mac("02", n)
`)}}

func TestScripts(t *testing.T) {
	startest.Run(t, "testdata/*.star", func() (*interp.Registry, error) { return interp.NewRegistry(), nil },
		interp.Options{Stdlib: testStdlib})
}

func eval(t *testing.T, src string, opts interp.Options) (*interp.Plan, error) {
	t.Helper()
	opts.Stdlib = testStdlib
	return interp.Evaluate("testdata/inline.star", []byte(src), opts)
}

func TestVarFromCommandLine(t *testing.T) {
	src := `
s = var("s", "d")
n = var("n", 1)
b = var("b", False)
l = var("l", ["x"])
if s != "given" or n != 7 or b != True or l != ["a", "b"]:
    fail("got %r %r %r %r" % (s, n, b, l))
`
	p, err := eval(t, src, interp.Options{Vars: map[string]string{"s": "given", "n": "7", "b": "true", "l": "a, b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Vars["n"]; got != "7" {
		t.Errorf("plan records n=%q, want 7", got)
	}
}

func TestVarErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		vars map[string]string
		want string
	}{
		{`var("n", 1)`, map[string]string{"n": "seven"}, "inline.star:1:4: var: -D n=seven: want an integer"},
		{`var("b", True)`, map[string]string{"b": "maybe"}, "want true or false"},
		{`var("n", 1)`, map[string]string{"typo": "x"}, "-D typo: the runbook reads no such variable (it reads: n)"},
		{`var("h0_address", "a")`, map[string]string{"h0_adress": "x"},
			"-D h0_adress: the runbook reads no such variable: did you mean h0_address? (it reads: h0_address)"},
	} {
		_, err := eval(t, tc.src, interp.Options{Vars: tc.vars})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with %v: got %v, want error containing %q", tc.src, tc.vars, err, tc.want)
		}
	}
	// An unread -D is a command-line mistake, which the command tells
	// from a runbook error by its type.
	_, err := eval(t, `var("n", 1)`, interp.Options{Vars: map[string]string{"typo": "x"}})
	var unread *interp.UnreadVarsError
	if !errors.As(err, &unread) || !slices.Equal(unread.Names, []string{"typo"}) {
		t.Errorf("got %#v, want an *interp.UnreadVarsError naming typo", err)
	}
}

func TestErrorCarriesBacktraceThroughLibraries(t *testing.T) {
	_, err := eval(t, "load(\"lib/util.star\", \"boom\")\n\ndef f():\n    boom()\n\nf()\n", interp.Options{})
	var e *interp.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *interp.Error", err)
	}
	if got, want := e.Pos.String(), "testdata/lib/util.star:8:9"; got != want {
		t.Errorf("error position %s, want %s (the fail() call in the library)", got, want)
	}
	for _, frame := range []string{"testdata/inline.star:6:2", "testdata/inline.star:4:9", "testdata/lib/util.star:8:9"} {
		if !strings.Contains(e.Backtrace, frame) {
			t.Errorf("backtrace lacks frame %s:\n%s", frame, e.Backtrace)
		}
	}
}

func TestStepsAndImplicitMain(t *testing.T) {
	p, err := eval(t, `
step("one", lambda: None)
step("two", lambda: None)
`, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.StepNames(), ","); got != "one,two" {
		t.Errorf("steps %s, want one,two", got)
	}
	for _, tc := range []struct {
		only []string
		from string
		want string
	}{
		{nil, "", "one,two"},
		{[]string{"two"}, "", "two"},
		{nil, "two", "two"},
		{[]string{"two", "one"}, "", "one,two"},
	} {
		steps, err := p.Select(tc.only, tc.from)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range steps {
			names = append(names, s.Name)
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("Select(%v, %q) = %s, want %s", tc.only, tc.from, got, tc.want)
		}
	}
	if _, err := p.Select([]string{"three"}, ""); err == nil || !strings.Contains(err.Error(), `no step "three"`) {
		t.Errorf("unknown step: got %v", err)
	}
}

func TestLibDirs(t *testing.T) {
	_, err := eval(t, `load("helper.star", "double")`, interp.Options{LibDirs: []string{"testdata/lib"}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadFileIsRecordedInThePlan(t *testing.T) {
	files := map[string]string{"testdata/nics.json": `["a"]`}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	src := "n = read_file(\"nics.json\")\nm = read_file(\"nics.json\")\n"
	plan := func() *interp.Plan {
		t.Helper()
		p, err := eval(t, src, interp.Options{ReadFile: read})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := plan()
	want := []interp.FileRead{{Path: "testdata/nics.json", SHA256: sha256Hex(`["a"]`),
		Pos: interp.Pos{File: "testdata/inline.star", Line: 1, Col: 14}}}
	if !reflect.DeepEqual(first.Files, want) {
		t.Errorf("files read: got %+v, want %+v (read once, at its first read)", first.Files, want)
	}
	var text, js strings.Builder
	if err := interp.WriteText(&text, first, nil); err != nil {
		t.Fatal(err)
	}
	if line := "  read testdata/nics.json sha256:" + want[0].SHA256 + "  (testdata/inline.star:1:14)\n"; !strings.Contains(text.String(), line) {
		t.Errorf("text plan lacks %q:\n%s", line, text.String())
	}
	if err := interp.WriteJSON(&js, first, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"sha256": "`+want[0].SHA256+`"`) {
		t.Errorf("JSON plan lacks the file's hash:\n%s", js.String())
	}
	// A changed file changes the plan.
	files["testdata/nics.json"] = `["b"]`
	if got := plan().Files[0].SHA256; got == want[0].SHA256 {
		t.Errorf("the plan of a changed file has the same hash %s", got)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// An error inside a standard library function is reported at the runbook
// line that called it, the line the lab engineer can change.
func TestStdlibErrorsNameTheCallersLine(t *testing.T) {
	for _, tc := range []struct{ call, want string }{
		{"positive(-1)", "testdata/inline.star:4:13: positive: got -1 (at @stdlib//std.star:5:13)"},
		{"positive(1 << 50)", "testdata/inline.star:4:13: positive: mac: 1125899906842624 does not fit in the 5 byte(s) after prefix \"02\" (at @stdlib//std.star:6:15)"},
	} {
		_, err := eval(t, "load(\"@stdlib//std.star\", \"positive\")\n\ndef f():\n    "+tc.call+"\n\nf()\n", interp.Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.call, err, tc.want)
		}
	}
}
