package engine

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

var journalT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func journalRec(id, hash string, op interp.Op, outputs map[string]string) ActionRecord {
	return ActionRecord{ID: id, Step: "s", Hash: hash, Op: op, Outputs: outputs, Start: journalT0, End: journalT0.Add(time.Second)}
}

// writeTestJournal writes a journal with one run of n completed actions
// (a0..a{n-1}) and no run end, and returns its path.
func writeTestJournal(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".lab.star.ovnrun-journal")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := j.Record(journalRec(fmt.Sprintf("a%d", i), "h", interp.OpCreate, map[string]string{"i": fmt.Sprint(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func completedIDs(j *Journal) string {
	var ids []string
	for _, d := range ResumeDecisions([]*interp.Step{{Actions: journalTestActions(5)}}, j.Completed()) {
		if d.Status != ResumeTodo {
			ids = append(ids, d.Action.Meta().ID)
		}
	}
	return strings.Join(ids, ",")
}

func journalTestActions(n int) []interp.Action {
	var as []interp.Action
	for i := 0; i < n; i++ {
		as = append(as, &fieldAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: fmt.Sprintf("a%d", i), Kind: "k", Step: "s"}}})
	}
	return as
}

func TestJournalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	run, err := j.Begin("lab.star")
	if err != nil {
		t.Fatal(err)
	}
	a := &fieldAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "vm/h0/v0", Kind: "vm", Step: "vms"}}, fields: []interp.Field{interp.F("vcpus", 2)}}
	steps := []error{
		j.RecordStart(a, journalT0),
		j.Record(NewActionRecord(a, interp.OpCreate, map[string]string{"uuid": "u1"}, journalT0, journalT0.Add(time.Second))),
		j.RecordOutputs("vm/h0/v0", map[string]string{"mac": "m1"}),
		j.Record(journalRec("gone", "h", interp.OpCreate, nil)),
		j.Record(journalRec("gone", "h", interp.OpDelete, nil)),
		j.End(RunFailed, errors.New("step \"vms\": boom")),
		j.Close(),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	wantRec := ActionRecord{Run: run, ID: "vm/h0/v0", Step: "vms", Hash: interp.ActionHash(a), Op: interp.OpCreate,
		Outputs: map[string]string{"uuid": "u1", "mac": "m1"}, Start: journalT0, End: journalT0.Add(time.Second)}
	for name, open := range map[string]func(string) (*Journal, error){"ReadJournal": ReadJournal, "OpenJournal": OpenJournal} {
		j, err := open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer j.Close()
		if got, want := j.Completed(), map[string]ActionRecord{"vm/h0/v0": wantRec}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Completed = %+v\nwant %+v", name, got, want)
		}
		if got := j.Unfinished(); len(got) != 0 {
			t.Errorf("%s: Unfinished = %v", name, got)
		}
		if got, want := j.Outputs(), (interp.Outputs{"vm/h0/v0": {"uuid": "u1", "mac": "m1"}}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Outputs = %v, want %v", name, got, want)
		}
		abs, _ := filepath.Abs("lab.star")
		last, ok := j.LastRun()
		if !ok || last.ID != run || last.Runbook != abs || last.Pid != os.Getpid() || !last.Ended() ||
			last.Status != RunFailed || last.Error != `step "vms": boom` || len(j.Runs()) != 1 {
			t.Errorf("%s: LastRun = %+v, %v", name, last, ok)
		}
	}
}

func TestJournalKeepsLatestRecordAcrossRuns(t *testing.T) {
	path := writeTestJournal(t, 2) // run 1 dies after a0, a1
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	run2, _ := j.Begin("lab.star")
	a2 := journalTestActions(3)[2]
	err = errors.Join(j.Record(journalRec("a1", "h2", interp.OpUpdate, nil)), j.RecordStart(a2, journalT0), j.End(RunOK, nil), j.Close())
	if err != nil {
		t.Fatal(err)
	}
	j, err = ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	c := j.Completed()
	if c["a0"].Hash != "h" || c["a1"].Hash != "h2" || c["a1"].Run != run2 || c["a1"].Op != interp.OpUpdate || len(c) != 2 {
		t.Errorf("Completed = %+v", c)
	}
	if u := j.Unfinished(); len(u) != 1 || u["a2"].Run != run2 {
		t.Errorf("Unfinished = %+v", u)
	}
	var got []string
	for _, d := range j.ResumeDecisions([]*interp.Step{{Actions: journalTestActions(4)}}) {
		got = append(got, d.Action.Meta().ID+":"+d.Status.String())
	}
	// a0, a1 were recorded with hash "h"/"h2", not the actions' real hash.
	if want := "a0:changed a1:changed a2:unfinished a3:todo"; strings.Join(got, " ") != want {
		t.Errorf("decisions = %v, want %s", got, want)
	}
	if runs := j.Runs(); len(runs) != 2 || runs[0].Ended() || !runs[1].Ended() || runs[1].Status != RunOK {
		t.Errorf("Runs = %+v", runs)
	}
}

// A crash while writing the last record leaves any prefix of it, or zeros
// where a file was extended but its data not written: the record is lost,
// the ones before it are kept, and reopening for a run cuts it so that the
// next record does not follow garbage.
func TestJournalIgnoresTornLastRecord(t *testing.T) {
	path := writeTestJournal(t, 3)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	lines := bytes.Count(full, []byte("\n")) // header, run_start, a0, a1, a2
	variants := map[string][]byte{}
	for cut := lastStart; cut < len(full); cut++ { // every prefix of the last record, down to none
		variants[fmt.Sprintf("cut at %d", cut)] = full[:cut]
	}
	variants["zeros after the last record"] = append(full[:lastStart:lastStart], make([]byte, 300)...)
	flipped := bytes.Clone(full)
	flipped[len(flipped)-20] ^= 0x01 // in the checksum of the last record, newline intact
	variants["bad checksum, terminated"] = flipped
	for name, data := range variants {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		j, err := ReadJournal(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := completedIDs(j); got != "a0,a1" {
			t.Errorf("%s: completed %s, want a0,a1", name, got)
		}
		if len(data) > lastStart && j.TornLine() != lines {
			t.Errorf("%s: TornLine = %d, want %d", name, j.TornLine(), lines)
		}
		if len(data) == lastStart && j.TornLine() != 0 {
			t.Errorf("%s: TornLine = %d for a clean file", name, j.TornLine())
		}
	}
	// Reopened for a run: the torn tail goes, new records follow the good ones.
	if err := os.WriteFile(path, full[:len(full)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Begin("lab.star")
	err = errors.Join(j.Record(journalRec("a4", "h", interp.OpCreate, nil)), j.Close())
	if err != nil {
		t.Fatal(err)
	}
	j, err = ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := completedIDs(j); got != "a0,a1,a4" || j.TornLine() != 0 {
		t.Errorf("after reopening: completed %s, torn line %d", got, j.TornLine())
	}
}

// A bad record followed by good ones was on disk before them: that is damage,
// not a crash, and reading must stop with the line, changing nothing.
func TestJournalCorruptRecordInTheMiddle(t *testing.T) {
	path := writeTestJournal(t, 3)
	full, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(full, []byte("\n"))
	flip := func(line int, at func(l []byte) int) []byte {
		var out []byte
		for i, l := range lines {
			l = bytes.Clone(l)
			if i == line-1 {
				l[at(l)] ^= 0x04
			}
			out = append(out, l...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"flipped byte in line 3", flip(3, func(l []byte) int { return bytes.Index(l, []byte(`"hash":"`)) + 8 }), ":3: checksum mismatch"},
		{"flipped checksum in line 4", flip(4, func(l []byte) int { return len(l) - 5 }), ":4: checksum mismatch"},
		{"line 4 cut short", bytes.Join([][]byte{lines[0], lines[1], lines[2], lines[3][:30], []byte("\n"), lines[4], lines[5]}, nil), ":4: not a journal record"},
		{"blank line 2", bytes.Join([][]byte{lines[0], []byte("\n"), lines[1]}, nil), ":2: not a journal record"},
		{"not a journal", []byte("hello world\n"), ":1: not a journal record"},
		{"unterminated foreign line", []byte("hello world"), ":1: not a journal record"},
		{"run record first", bytes.Join([][]byte{lines[1], lines[0]}, nil), ":1: not an ovnrun journal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, open := range []func(string) (*Journal, error){ReadJournal, OpenJournal} {
				_, err := open(path)
				if err == nil || !strings.Contains(err.Error(), path+tc.want) {
					t.Errorf("err = %v, want %q", err, path+tc.want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tc.data) {
				t.Errorf("a damaged journal was modified")
			}
		})
	}
}

func TestJournalNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	line, _ := encodeRecord(journalRecord{Type: "journal", Format: journalFormat + 1})
	os.WriteFile(path, line, 0o644)
	if _, err := ReadJournal(path); err == nil || !strings.Contains(err.Error(), ":1: journal format 2 is newer") {
		t.Errorf("err = %v", err)
	}
	line2, _ := encodeRecord(journalRecord{Type: "snapshot"})
	line, _ = encodeRecord(journalRecord{Type: "journal", Format: journalFormat})
	os.WriteFile(path, append(line, line2...), 0o644)
	if _, err := ReadJournal(path); err == nil || !strings.Contains(err.Error(), `:2: unknown record type "snapshot"`) {
		t.Errorf("err = %v", err)
	}
}

func TestJournalReset(t *testing.T) {
	path := writeTestJournal(t, 2)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Reset(); err != nil {
		t.Fatal(err)
	}
	if len(j.Completed()) != 0 || len(j.Runs()) != 0 {
		t.Errorf("after Reset: %v, %v", j.Completed(), j.Runs())
	}
	j.Begin("lab.star")
	if err := errors.Join(j.Record(journalRec("a3", "h", interp.OpCreate, nil)), j.Reset(), j.Close()); err == nil {
		t.Error("Reset during a run succeeded")
	}
	for file, want := range map[string]string{path: "a3", path + ".prev": "a0,a1"} {
		j, err := ReadJournal(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := completedIDs(j); got != want {
			t.Errorf("%s: completed %s, want %s", file, got, want)
		}
	}
}

func TestJournalMisuse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	ro, err := ReadJournal(path)
	if err != nil || len(ro.Completed()) != 0 {
		t.Fatalf("missing journal: %v, %v", ro, err)
	}
	if _, err := ro.Begin("x"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Begin on a read-only journal: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadJournal created the file: %v", err)
	}
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Record(journalRec("a", "h", interp.OpCreate, nil)); err == nil {
		t.Error("Record before Begin succeeded")
	}
	j.Begin("x")
	if _, err := j.Begin("x"); err == nil {
		t.Error("second Begin succeeded")
	}
	if err := j.Record(journalRec("a", "", interp.OpCreate, nil)); err == nil {
		t.Error("Record without a hash succeeded")
	}
}

// Drivers applying hosts in parallel record concurrently.
func TestJournalConcurrentRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Begin("x")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() { errs[i] = j.Record(journalRec(fmt.Sprint("c", i), "h", interp.OpCreate, nil)) })
	}
	wg.Wait()
	if err := errors.Join(append(errs, j.Close())...); err != nil {
		t.Fatal(err)
	}
	if j, err = ReadJournal(path); err != nil || len(j.Completed()) != 16 {
		t.Errorf("read back: %v, %d records", err, len(j.Completed()))
	}
}

func TestDefaultJournalPath(t *testing.T) {
	for in, want := range map[string]string{
		"runbooks/dgp.star":  "runbooks/.dgp.star.ovnrun-journal",
		"dgp.star":           ".dgp.star.ovnrun-journal",
		"/labs/a/lab.star":   "/labs/a/.lab.star.ovnrun-journal",
		"./x/../y/lab2.star": "y/.lab2.star.ovnrun-journal",
	} {
		if got := DefaultJournalPath(in); got != want {
			t.Errorf("DefaultJournalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// fieldAction is an action whose fields a test sets.
type fieldAction struct {
	interp.ActionMeta
	fields []interp.Field
}

func (a *fieldAction) Fields() []interp.Field { return a.fields }

// TestRecordChecksumDigits: the checksum is written as eight hex digits,
// leading zeros included, as the reader compares it.
func TestRecordChecksumDigits(t *testing.T) {
	found := 0
	for i := 0; found < 3 && i < 1<<16; i++ {
		r := journalRecord{Type: "action", ID: fmt.Sprintf("logical_switch/ls%d", i)}
		line, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		b := r.appendJSON(nil, nil)
		want := fmt.Sprintf(`{"rec":%s,"crc32c":"%08x"}`+"\n", b, crc32.Checksum(b, castagnoli))
		if string(line) != want {
			t.Fatalf("line = %q, want %q", line, want)
		}
		if crc32.Checksum(b, castagnoli) < 1<<28 {
			found++
			if _, err := decodeRecord(line); err != nil {
				t.Fatalf("a checksum with a leading zero: %v", err)
			}
		}
	}
	if found < 3 {
		t.Fatal("no checksum with a leading zero digit found")
	}
}
