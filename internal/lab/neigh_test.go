package lab

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeNeighDir points the thresholds at files of the test's own, holding
// the kernel's defaults, and the labs at a directory of its own.
func fakeNeighDir(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	old := neighDir
	neighDir = dir
	t.Cleanup(func() { neighDir = old })
	t.Setenv("OVNRUN_LAB_DIR", filepath.Join(dir, "labs")) // made when needed, as a lab down removes it
	for _, fam := range []string{"ipv4", "ipv6"} {
		if err := os.MkdirAll(filepath.Dir(thresholdPath(fam, 0)), 0o755); err != nil {
			t.Fatal(err)
		}
		setThresholds(t, fam, [3]int{128, 512, 1024})
	}
}

func setThresholds(t *testing.T, fam string, v [3]int) {
	t.Helper()
	for i, n := range v {
		if err := os.WriteFile(thresholdPath(fam, i), []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func thresholds(t *testing.T, fam string) [3]int {
	t.Helper()
	v, err := readThresholds(fam)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fakeLab leaves the lab.json of a lab of n hosts, as a lab that is up.
func fakeLab(t *testing.T, name string, n int) {
	t.Helper()
	l := &Lab{Name: name, Dir: filepath.Join(BaseDir(), name)}
	for i := range n {
		l.Hosts = append(l.Hosts, &Host{Name: "h" + strconv.Itoa(i)})
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil { // and BaseDir
		t.Fatal(err)
	}
	if err := l.save(); err != nil {
		t.Fatal(err)
	}
}

// A lab of a few hosts fits in the kernel's defaults and changes nothing.
func TestNeighboursSmallLabChangesNothing(t *testing.T) {
	fakeNeighDir(t)
	var log strings.Builder
	if err := fitNeighbours(8, &log); err != nil {
		t.Fatal(err)
	}
	if got := thresholds(t, "ipv4"); got != [3]int{128, 512, 1024} {
		t.Errorf("ipv4 thresholds %v after a lab of 8 hosts, want the defaults", got)
	}
	if log.Len() != 0 {
		t.Errorf("it said %q", log.String())
	}
	if _, err := os.Stat(neighState()); !os.IsNotExist(err) {
		t.Errorf("state file: %v, want none", err)
	}
}

// 64 hypervisors and a central host overflowed the defaults; the limits go
// up while such labs are up, and come back when the last is down.
func TestNeighboursRaisedAndPutBack(t *testing.T) {
	fakeNeighDir(t)
	var log strings.Builder
	if err := fitNeighbours(65, &log); err != nil {
		t.Fatal(err)
	}
	need := neighNeed(65)
	if need <= 66*66 {
		t.Fatalf("need %d for 65 hosts: fewer than their %d underlay pairs", need, 66*66)
	}
	raised := thresholds(t, "ipv4")
	if raised[0] < need || raised[2] <= raised[1] || raised[1] <= raised[0] {
		t.Errorf("ipv4 thresholds %v for a need of %d", raised, need)
	}
	if thresholds(t, "ipv6") != raised {
		t.Errorf("ipv6 thresholds %v, ipv4 %v", thresholds(t, "ipv6"), raised)
	}
	if !strings.Contains(log.String(), "gc_thresh1-3 "+triple(raised)+" (were 128/512/1024)") {
		t.Errorf("it said %q", log.String())
	}

	// Two such labs up: more again.
	fakeLab(t, "one", 65)
	if err := fitNeighbours(65, &log); err != nil {
		t.Fatal(err)
	}
	fakeLab(t, "two", 65)
	two := thresholds(t, "ipv4")
	if two[0] <= raised[0] {
		t.Errorf("thresholds %v with two labs up, %v with one", two, raised)
	}
	// One down: what one lab needs.
	if err := os.RemoveAll(filepath.Join(BaseDir(), "two")); err != nil {
		t.Fatal(err)
	}
	if err := fitNeighbours(0, &log); err != nil {
		t.Fatal(err)
	}
	if got := thresholds(t, "ipv4"); got != raised {
		t.Errorf("thresholds %v with one lab left, want %v", got, raised)
	}
	// The last down: the defaults again, and no state left.
	if err := os.RemoveAll(filepath.Join(BaseDir(), "one")); err != nil {
		t.Fatal(err)
	}
	if err := fitNeighbours(0, &log); err != nil {
		t.Fatal(err)
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		if got := thresholds(t, fam); got != [3]int{128, 512, 1024} {
			t.Errorf("%s thresholds %v after the last lab, want the defaults back", fam, got)
		}
	}
	if _, err := os.Stat(neighState()); !os.IsNotExist(err) {
		t.Errorf("state file: %v, want none", err)
	}
}

// Limits changed by hand while a lab is up are not the lab's to put back.
func TestNeighboursChangedByHandAreLeft(t *testing.T) {
	fakeNeighDir(t)
	if err := fitNeighbours(65, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	mine := [3]int{100000, 200000, 400000}
	setThresholds(t, "ipv4", mine)
	if err := fitNeighbours(0, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	if got := thresholds(t, "ipv4"); got != mine {
		t.Errorf("ipv4 thresholds %v, want the hand-set %v left", got, mine)
	}
	if got := thresholds(t, "ipv6"); got != [3]int{128, 512, 1024} {
		t.Errorf("ipv6 thresholds %v, want the defaults back", got)
	}
}
