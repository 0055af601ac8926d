package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// FuzzEvaluate feeds arbitrary runbooks, seeded with the real ones, through
// evaluation and offline planning with every builtin registered. Any input
// may be rejected; none may panic.
func FuzzEvaluate(f *testing.F) {
	seeds, _ := filepath.Glob("../../runbooks/*.star")
	more, _ := filepath.Glob("testdata/errors/*.star")
	for _, path := range append(seeds, more...) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	reg, err := newRegistry()
	if err != nil {
		f.Fatal(err)
	}
	noFiles := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	f.Fuzz(func(t *testing.T, src string) {
		plan, err := interp.Evaluate("fuzz.star", []byte(src), interp.Options{
			Registry: reg, Stdlib: stdlib.FS, ReadFile: noFiles, MaxSteps: 1e6,
		})
		if err != nil {
			return
		}
		changes := interp.OfflineChanges(plan.Steps)
		if err := interp.WriteText(io.Discard, plan, changes); err != nil {
			t.Fatal(err)
		}
		if err := interp.WriteJSON(io.Discard, plan, changes); err != nil {
			t.Fatal(err)
		}
	})
}
