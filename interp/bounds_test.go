package interp_test

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// spin is a loop of n iterations in a function, defined as name.
func spin(name string, n int) string {
	return "def " + name + "():\n    for i in range(" + strconv.Itoa(n) + "):\n        pass\n"
}

// evalFiles evaluates main.star with the other files readable by load().
func evalFiles(ctx context.Context, files map[string]string, opts interp.Options) (*interp.Plan, uint64, error) {
	var ev *interp.Eval
	opts.OnStart = func(e *interp.Eval) { ev = e }
	opts.ReadFile = func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	p, err := interp.EvaluateContext(ctx, "main.star", nil, opts)
	return p, ev.Steps(), err
}

// TestMaxStepsSpansLoadedFiles checks that the step limit holds over the
// runbook and the files it loads together, not over each file alone.
func TestMaxStepsSpansLoadedFiles(t *testing.T) {
	lib := spin("lib_spin", 1000) + "lib_spin()\nx = 1\n"
	main := "load(\"lib.star\", \"x\")\n" + spin("main_spin", 1000) + "main_spin()\n"
	files := map[string]string{"main.star": main, "lib.star": lib}
	_, total, err := evalFiles(context.Background(), files, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, alone, err := evalFiles(context.Background(), map[string]string{"main.star": lib}, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if 2*alone <= total*3/4 || alone >= total*3/4 {
		t.Fatalf("steps: %d for both files, %d for the library alone: the test needs each file about half", total, alone)
	}
	if _, _, err := evalFiles(context.Background(), files, interp.Options{MaxSteps: total + 1}); err != nil {
		t.Errorf("limit %d, one over what the runbook takes: %v", total+1, err)
	}
	limit := total * 3 / 4 // more than either file takes, less than both
	_, _, err = evalFiles(context.Background(), files, interp.Options{MaxSteps: limit})
	var e *interp.Error
	if !errors.As(err, &e) {
		t.Fatalf("limit %d of %d steps: got %v, want *interp.Error", limit, total, err)
	}
	if want := "evaluation stopped after " + strconv.FormatUint(limit, 10) + " steps"; e.Pos.File != "main.star" || !strings.Contains(e.Msg, want) || !strings.Contains(e.Msg, "--max-steps") {
		t.Errorf("got %v, want %q at main.star, and how to raise the limit", err, want)
	}
}

// TestEvaluateContextStopsLoop cancels the context while the runbook loops
// for ever: evaluation stops, naming where it was (the step limit only
// ends the test when it does not).
func TestEvaluateContextStopsLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := "def forever():\n    print(\"looping\")\n    for i in range(1 << 62):\n        pass\n\nforever()\n"
	_, _, err := evalFiles(ctx, map[string]string{"main.star": src}, interp.Options{Print: func(string) { cancel() }, MaxSteps: 1e9})
	var e *interp.Error
	if !errors.As(err, &e) || e.Msg != "interrupted" || e.Pos.File != "main.star" || e.Pos.Line != 3 {
		t.Errorf("got %v, want main.star:3: interrupted", err)
	}
}

// TestMaxMemoryStopsGrowth grows a list by 1 kB a step to four times the
// limit; the watchdog must stop it on the way.
func TestMaxMemoryStopsGrowth(t *testing.T) {
	src := "def grow():\n    rows = []\n    for i in range(4 * 32 * 1024):\n        rows.append(\"%d\" % i + \"a\" * 1000)\n\ngrow()\n"
	_, _, err := evalFiles(context.Background(), map[string]string{"main.star": src}, interp.Options{MaxMemory: 32 << 20})
	var e *interp.Error
	// Starlark sees the cancellation at its next step: in the loop's body
	// (line 4) or at the loop's next turn (line 3), whichever the watchdog's
	// sample precedes.
	if !errors.As(err, &e) || e.Pos.File != "main.star" || (e.Pos.Line != 3 && e.Pos.Line != 4) || !strings.Contains(e.Msg, "over the limit of 32MiB (--max-memory raises it)") {
		t.Errorf("got %v, want main.star:3 or :4 (the loop that grows): ... over the limit of 32MiB", err)
	}
}
