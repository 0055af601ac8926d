package engine

import (
	"path/filepath"
	"slices"
	"testing"
)

// The holds the next run reads are those of the last run's end, or of its
// start when it died (no run_end): what it may have left.
func TestLastHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal")
	check := func(what string, want ...string) {
		t.Helper()
		got, err := lastHolds(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: holds %q, want %q", what, got, want)
		}
	}
	check("no journal")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.SetHolds([]string{"libvirt", "libvirt@h0", "nb"})
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}
	check("a run that died", "libvirt", "libvirt@h0", "nb")
	j.SetHolds([]string{"nb"})
	if err := j.End(RunOK, nil); err != nil {
		t.Fatal(err)
	}
	check("a run that ended", "nb")
	j.Close()
	if j, err = OpenJournal(path); err != nil { // the next run
		t.Fatal(err)
	}
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}
	if err := j.End(RunOK, nil); err != nil {
		t.Fatal(err)
	}
	check("a run that removed everything")
}
