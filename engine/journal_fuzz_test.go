package engine

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// journalErrorRE is how a journal reading error starts.
var journalErrorRE = regexp.MustCompile(`^journal fuzz\.journal:(\d+): `)

// FuzzReadJournal feeds arbitrary files to the journal reader, seeded with
// real journals and torn or hostile variants of them. Any file may be
// refused; none may panic; a refusal names the file and a line of it; and
// any prefix of a journal that reads whole (a write cut by a crash) reads
// without error.
func FuzzReadJournal(f *testing.F) {
	path := writeTestJournal(f, 3)
	j, err := OpenJournal(path)
	if err != nil {
		f.Fatal(err)
	}
	j.Begin("lab.star")
	j.RecordOutputs("a1", map[string]string{"ip": "10.0.0.5", "nested": `{"a":[[[1e999]]]}`})
	j.Record(journalRec("a0", "h", interp.OpDelete, nil))
	j.End(RunFailed, fmt.Errorf("ping: no reply\x00\xff"))
	j.Close()
	full, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfter(full, []byte("\n"))
	for _, seed := range [][]byte{
		full,
		full[:len(full)-9],
		append(bytes.Clone(full), make([]byte, 40)...),
		bytes.Join([][]byte{lines[0], lines[2][:25], []byte("\n"), lines[3]}, nil),
		bytes.Join([][]byte{lines[0], bytes.Replace(lines[2], []byte(`"pid":`), []byte(`"pid":1e999`), 1)}, nil),
		bytes.Join([][]byte{lines[0], []byte("{\"rec\":{\"type\":\"run_start\"},\"crc32c\":\"\xff\x00\"}\n")}, nil),
		[]byte(recordPrefix),
		[]byte("\n\n\n"),
	} {
		f.Add(seed, uint16(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		j, err := readJournalBytes(data)
		if err != nil {
			m := journalErrorRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error does not name file:line: %v", err)
			}
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > 1+bytes.Count(data, []byte("\n")) {
				t.Fatalf("error names line %d of a file of %d newlines: %v", n, bytes.Count(data, []byte("\n")), err)
			}
			return
		}
		if j.torn == 0 && j.size != int64(len(data)) || j.torn != 0 && j.size >= int64(len(data)) {
			t.Fatalf("read %d of %d bytes, torn line %d", j.size, len(data), j.torn)
		}
		j.Completed()
		j.Unfinished()
		j.Outputs()
		// A crash can leave any prefix of what this ovnrun wrote.
		if j.torn != 0 || len(data) == 0 || !writtenByUs(data) {
			return
		}
		prefix := data[:int(cut)%len(data)]
		if _, err := readJournalBytes(prefix); err != nil {
			t.Fatalf("prefix of %d bytes of a good journal: %v", len(prefix), err)
		}
	})
}

func readJournalBytes(data []byte) (*Journal, error) {
	j := &Journal{path: "fuzz.journal", st: newJournalState()}
	return j, j.replay(bytes.NewReader(data))
}

// writtenByUs reports whether every line starts as encodeRecord writes it;
// only those are cut as a crash cuts them.
func writtenByUs(data []byte) bool {
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) > 0 && !bytes.HasPrefix(l, []byte(recordPrefix)) {
			return false
		}
	}
	return true
}

// TestJournalRefusesHugeRecord: a line longer than any record names its
// line, and reading it takes far less memory than the line's length.
func TestJournalRefusesHugeRecord(t *testing.T) {
	path := writeTestJournal(t, 1)
	full, _ := os.ReadFile(path)
	// Keeping a record's worth of the line costs up to ~6*maxRecord of
	// allocations as the buffer grows; reading the whole line would cost
	// more than the hole.
	const hole = 16 * maxRecord
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: a line of zeros, then a good record.
	lastStart := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	if err := f.Truncate(int64(len(full)) + hole); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(append([]byte("\n"), full[lastStart:]...), int64(len(full))+hole); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadJournal(path)
	runtime.ReadMemStats(&after)
	want := fmt.Sprintf("journal %s:%d: record longer than %d bytes", path, bytes.Count(full, []byte("\n"))+1, maxRecord)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*maxRecord {
		t.Errorf("reading a line of %d MiB allocated %d MiB", hole>>20, alloc>>20)
	}
	// Nor does it write one.
	j, err := OpenJournal(path + ".new")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Begin("lab.star")
	err = j.Record(journalRec("big", "h", interp.OpCreate, map[string]string{"out": strings.Repeat("x", maxRecord)}))
	if err == nil || !strings.Contains(err.Error(), "longer than a journal holds") {
		t.Errorf("writing a huge record: err = %v", err)
	}
}
