package engine

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// The journal records, per runbook, what each apply did, so that --resume can
// continue where a failed or killed run stopped. docs/journal.md describes it
// for users.
//
// File format: JSON lines, append-only. Every line is one record wrapped
// with a CRC-32C (Castagnoli) of the record's exact bytes:
//
//	{"rec":{"type":"journal","format":1,"time":"2026-11-26T12:05:17.983200926Z"},"crc32c":"7f1d7309"}
//
// Record types (field "type"):
//
//	journal       first line: format version, creation time
//	run_start     run, time, runbook (absolute path), pid, host, holds
//	action_start  run, id, step, hash, start: a command action is about to run
//	action        run, id, step, hash, op, outputs, start, end: an action is
//	              done (op "delete" undoes an earlier one, for --destroy)
//	outputs       run, id, outputs: outputs read after the action's record
//	run_end       run, time, status ("ok", "failed", "interrupted"), error,
//	              holds
//
// holds (holds.go) lists the drivers, and DRIVER@HOST, where the owner may
// have things: the next run opens them to prune what it no longer declares.
//
// Each record is written with one write(2) and fsynced before the call
// returns; the directory is fsynced when the file is created. A crash can
// therefore only leave the last line incomplete: when reading, a last line
// that is unterminated or fails its checksum is a torn write and is ignored
// (and cut off when the journal is opened for writing). A bad line followed
// by good ones was fsynced and later damaged: that is an error naming the
// line.
const journalFormat = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Run statuses for Journal.End.
const (
	RunOK          = "ok"
	RunFailed      = "failed"
	RunInterrupted = "interrupted" // stopped by a signal the process caught
)

// DefaultJournalPath returns where the journal of a runbook lives unless
// overridden: beside the runbook, hidden, named after it
// (labs/dgp.star -> labs/.dgp.star.ovnrun-journal). Beside the runbook
// because a journal describes one lab built from one runbook: it is found
// again by whoever re-runs that runbook from any directory, two runbooks
// never share one, and it goes where the runbook goes. Hidden so that it
// does not clutter a directory of runbooks. When the runbook's directory is
// read-only or shared, a flag names another path.
func DefaultJournalPath(runbook string) string {
	return filepath.Join(filepath.Dir(runbook), "."+filepath.Base(runbook)+".ovnrun-journal")
}

// ActionRecord is the journal's record of one completed action.
type ActionRecord struct {
	Run     string // the run that recorded it
	ID      string
	Step    string
	Hash    string    // ActionHash when it was done
	Op      interp.Op // what was done: create, update, run, unchanged
	Outputs map[string]string
	Start   time.Time
	End     time.Time
}

// NewActionRecord makes the record of action a having been applied with op.
func NewActionRecord(a interp.Action, op interp.Op, outputs map[string]string, start, end time.Time) ActionRecord {
	return newActionRecord(a, interp.ActionHash(a), op, outputs, start, end)
}

// newActionRecord is NewActionRecord with the action's hash computed
// beforehand.
func newActionRecord(a interp.Action, hash string, op interp.Op, outputs map[string]string, start, end time.Time) ActionRecord {
	m := a.Meta()
	return ActionRecord{ID: m.ID, Step: m.Step, Hash: hash, Op: op, Outputs: outputs, Start: start, End: end}
}

// journalRecord is the union of all record types, as written.
type journalRecord struct {
	Type    string            `json:"type"`
	Format  int               `json:"format,omitempty"`
	Run     string            `json:"run,omitempty"`
	Time    time.Time         `json:"time,omitzero"`
	Runbook string            `json:"runbook,omitempty"`
	Pid     int               `json:"pid,omitempty"`
	Host    string            `json:"host,omitempty"`
	ID      string            `json:"id,omitempty"`
	Step    string            `json:"step,omitempty"`
	Hash    string            `json:"hash,omitempty"`
	Op      interp.Op         `json:"op,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	Start   time.Time         `json:"start,omitzero"`
	End     time.Time         `json:"end,omitzero"`
	Status  string            `json:"status,omitempty"`
	Error   string            `json:"error,omitempty"`
	Holds   []string          `json:"holds,omitempty"`
}

// Journal is an open journal. Its methods are safe for concurrent use, so
// drivers applying hosts in parallel may record as they finish.
type Journal struct {
	path string
	mu   sync.Mutex
	f    *os.File // nil when read-only
	size int64    // end of the last good record
	err  error    // a failed write: the journal refuses further records
	run  string   // this process's run, after Begin
	torn int      // line number of an ignored torn record, or 0
	// holds is what Begin and End record as held (SetHolds).
	holds []string
	st    journalState
}

type journalState struct {
	runs      []RunInfo
	completed map[string]ActionRecord
	started   map[string]ActionRecord
}

// OpenJournal opens the journal at path for a run, creating it if it does
// not exist. A torn last record is cut off. The caller must hold the
// journal's lock (AcquireLock(LockPath(path))) so that no other process
// appends meanwhile.
func OpenJournal(path string) (*Journal, error) { return openJournal(path, true) }

// ReadJournal reads the journal at path without changing it, for a dry-run.
// A missing journal reads as empty. Begin and Record fail on it.
func ReadJournal(path string) (*Journal, error) { return openJournal(path, false) }

func openJournal(path string, write bool) (*Journal, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_APPEND | os.O_CREATE
	}
	j := &Journal{path: path, st: newJournalState()}
	f, err := os.OpenFile(path, flag, 0o644)
	if !write && errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j.f = f
	err = j.replay(f)
	if err == nil && write {
		err = j.repair()
	}
	if err != nil || !write {
		f.Close()
		j.f = nil
	}
	if err != nil {
		return nil, err
	}
	return j, nil
}

func newJournalState() journalState {
	return journalState{completed: map[string]ActionRecord{}, started: map[string]ActionRecord{}}
}

// repair cuts a torn tail, or the next record would follow it and turn it
// into a corrupt record in the middle. A new file (or one left empty by a
// crash right after its creation) gets its first record, and its directory
// is fsynced so that the file itself survives a crash.
func (j *Journal) repair() error {
	info, err := j.f.Stat()
	if err == nil && info.Size() > j.size {
		if err = j.f.Truncate(j.size); err == nil {
			err = j.f.Sync()
		}
	}
	if err != nil {
		return fmt.Errorf("journal %s: cutting torn record: %w", j.path, err)
	}
	if j.size > 0 {
		return nil
	}
	if err := j.write(journalRecord{Type: "journal", Format: journalFormat, Time: time.Now()}); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(j.path)); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// maxRecord bounds a record's line, so that a damaged or foreign file
// cannot make reading it take unbounded memory. Records hold IDs, hashes and
// short outputs: far below it. Writing refuses a longer record.
const maxRecord = 16 << 20

// replay reads records, stopping at a torn last one; it sets j.size to the
// end of the last good record.
func (j *Journal) replay(r io.Reader) error {
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, n, terminated, cut, err := readLine(br, maxRecord)
		if err != nil {
			return fmt.Errorf("journal %s:%d: %w", j.path, lineNo, err)
		}
		if n == 0 {
			return nil
		}
		last := !terminated
		if terminated {
			_, err := br.Peek(1)
			last = err == io.EOF
		}
		var rec journalRecord
		if cut {
			err = fmt.Errorf("record longer than %d bytes", maxRecord)
		} else if rec, err = decodeRecord(line); err == nil && !terminated {
			err = errors.New("record is not terminated")
		}
		if err != nil {
			if last && looksTorn(line) {
				j.torn = lineNo
				return nil
			}
			return fmt.Errorf("journal %s:%d: %w", j.path, lineNo, err)
		}
		if err := j.st.apply(rec, lineNo); err != nil {
			return fmt.Errorf("journal %s:%d: %w", j.path, lineNo, err)
		}
		j.size += int64(n)
	}
}

// readLine reads one line, keeping at most limit bytes of it: the rest is
// read and dropped, and cut set. n counts every byte read, newline included.
func readLine(br *bufio.Reader, limit int) (line []byte, n int, terminated, cut bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		terminated = err == nil
		if terminated {
			chunk = chunk[:len(chunk)-1]
		}
		keep := min(len(chunk), limit-len(line))
		line, cut = append(line, chunk[:keep]...), cut || keep < len(chunk)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return line, n, false, cut, nil
		}
		return line, n, terminated, cut, err
	}
}

const recordPrefix = `{"rec":`

// looksTorn reports whether a bad last line can be a write of ours cut
// short: a prefix of a record, or zeros from a file extended by a crash. A
// single line of something else means path is not a journal, and it must
// not be cut off.
func looksTorn(line []byte) bool {
	return len(line) == 0 || line[0] == 0 ||
		bytes.HasPrefix(line, []byte(recordPrefix)) || bytes.HasPrefix([]byte(recordPrefix), line)
}

func encodeRecord(r journalRecord) ([]byte, error) {
	return appendRecord(nil, r, nil)
}

// appendRecord appends r's line to buf. A bulk step writes thousands of
// lines at once after its transaction, so each goes straight into the one
// buffer: no per-line allocation, the checksum in hex by hand.
func appendRecord(buf []byte, r journalRecord, tt *timeTexts) ([]byte, error) {
	buf = append(buf, recordPrefix...)
	start := len(buf)
	buf = r.appendJSON(buf, tt)
	if n := len(buf) - start; n > maxRecord-64 { // room for the wrapping
		return buf[:start-len(recordPrefix)], fmt.Errorf("%s record of %d bytes is longer than a journal holds", r.Type, n)
	}
	sum := crc32.Checksum(buf[start:], castagnoli)
	buf = append(buf, `,"crc32c":"`...)
	const hex = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		buf = append(buf, hex[sum>>shift&0xf])
	}
	return append(buf, '"', '}', '\n'), nil
}

func decodeRecord(line []byte) (journalRecord, error) {
	var w struct {
		Rec json.RawMessage `json:"rec"`
		CRC string          `json:"crc32c"`
	}
	var r journalRecord
	if err := json.Unmarshal(line, &w); err != nil {
		return r, fmt.Errorf("not a journal record: %w", err)
	}
	if w.Rec == nil || w.CRC == "" {
		return r, errors.New("not a journal record: rec or crc32c missing")
	}
	if sum := fmt.Sprintf("%08x", crc32.Checksum(w.Rec, castagnoli)); sum != w.CRC {
		return r, fmt.Errorf("checksum mismatch (crc32c %s, record says %s)", sum, w.CRC)
	}
	if err := json.Unmarshal(w.Rec, &r); err != nil {
		return r, fmt.Errorf("bad record: %w", err)
	}
	return r, nil
}

// apply adds one record to the state read so far.
func (s *journalState) apply(r journalRecord, lineNo int) error {
	if lineNo == 1 {
		if r.Type != "journal" {
			return fmt.Errorf("not an ovnrun journal: first record is %q", r.Type)
		}
		if r.Format > journalFormat {
			return fmt.Errorf("journal format %d is newer than this ovnrun reads (%d)", r.Format, journalFormat)
		}
		return nil
	}
	switch r.Type {
	case "run_start":
		s.runs = append(s.runs, RunInfo{ID: r.Run, Runbook: r.Runbook, Pid: r.Pid, Host: r.Host, Start: r.Time, Holds: r.Holds})
	case "action_start":
		s.started[r.ID] = r.action()
	case "action":
		delete(s.started, r.ID)
		if r.Op == interp.OpDelete {
			delete(s.completed, r.ID)
		} else {
			s.completed[r.ID] = r.action()
		}
	case "outputs":
		if rec, ok := s.completed[r.ID]; ok {
			rec.Outputs = maps.Clone(rec.Outputs)
			if rec.Outputs == nil {
				rec.Outputs = map[string]string{}
			}
			maps.Copy(rec.Outputs, r.Outputs)
			s.completed[r.ID] = rec
		}
	case "run_end":
		for i := range s.runs {
			if s.runs[i].ID == r.Run {
				s.runs[i].End, s.runs[i].Status, s.runs[i].Error, s.runs[i].Holds = r.Time, r.Status, r.Error, r.Holds
			}
		}
	default:
		return fmt.Errorf("unknown record type %q (written by a newer ovnrun?)", r.Type)
	}
	return nil
}

func (r journalRecord) action() ActionRecord {
	return ActionRecord{Run: r.Run, ID: r.ID, Step: r.Step, Hash: r.Hash, Op: r.Op, Outputs: r.Outputs, Start: r.Start, End: r.End}
}

// write appends one record and fsyncs it. After a failed write the journal
// refuses further records: the caller must stop applying, since what it
// does next could not be resumed.
func (j *Journal) write(rs ...journalRecord) error {
	if j.f == nil {
		return fmt.Errorf("journal %s is open read-only", j.path)
	}
	if j.err != nil {
		return j.err
	}
	buf := make([]byte, 0, 320*len(rs)) // an NB action's line is ~300 bytes
	var tt timeTexts
	for _, r := range rs {
		var err error
		if buf, err = appendRecord(buf, r, &tt); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	// One write and one fsync for all: a crash leaves a prefix of whole
	// lines and at most one torn line, which reading detects.
	_, err := j.f.Write(buf)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		j.f.Truncate(j.size) // best effort: keep a partial line from staying in the middle
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
		return j.err
	}
	j.size += int64(len(buf))
	return nil
}

// Begin records the start of a run of runbook and returns its run ID.
func (j *Journal) Begin(runbook string) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.run != "" {
		return "", fmt.Errorf("journal: run %s already begun", j.run)
	}
	var b [3]byte // random bits: runs started in the same second still differ
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("journal: run id: %w", err)
	}
	id := time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	if abs, err := filepath.Abs(runbook); err == nil {
		runbook = abs
	}
	host, _ := os.Hostname()
	j.run = id
	r := journalRecord{Type: "run_start", Run: id, Time: time.Now(), Runbook: runbook, Pid: os.Getpid(), Host: host, Holds: j.holds}
	if err := j.appendLocked(r); err != nil {
		j.run = ""
		return "", err
	}
	return id, nil
}

// SetHolds sets what the next run_start or run_end record says the owner
// may hold (holds.go).
func (j *Journal) SetHolds(holds []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.holds = slices.Clone(holds)
}

// RecordStart records that a command action is about to run. If the run
// dies before Record, a resumed run knows the command may have run
// (Unfinished) and re-checks its guard instead of running it blindly.
func (j *Journal) RecordStart(a interp.Action, start time.Time) error {
	m := a.Meta()
	return j.append(journalRecord{Type: "action_start", ID: m.ID, Step: m.Step, Hash: interp.ActionHash(a), Start: start})
}

// Record records a completed action in the current run (rec.Run is set).
func (j *Journal) Record(recs ...ActionRecord) error {
	rs := make([]journalRecord, len(recs))
	for i, rec := range recs {
		if rec.ID == "" || rec.Hash == "" || rec.Op == "" {
			return fmt.Errorf("journal: record of %q lacks an id, hash or op", rec.ID)
		}
		rs[i] = journalRecord{Type: "action", ID: rec.ID, Step: rec.Step, Hash: rec.Hash, Op: rec.Op,
			Outputs: maps.Clone(rec.Outputs), Start: rec.Start, End: rec.End}
	}
	return j.append(rs...)
}

// RecordOutputs adds outputs of a completed action that were read after its
// record was written (OutputReader), so a resumed run restores them too.
func (j *Journal) RecordOutputs(id string, outputs map[string]string) error {
	return j.append(journalRecord{Type: "outputs", ID: id, Outputs: maps.Clone(outputs)})
}

// End records the end of the current run: status is RunOK, RunFailed or
// RunInterrupted; cause, if not nil, is what made it fail.
func (j *Journal) End(status string, cause error) error {
	j.mu.Lock()
	r := journalRecord{Type: "run_end", Time: time.Now(), Status: status, Holds: j.holds}
	j.mu.Unlock()
	if cause != nil {
		r.Error = cause.Error()
	}
	return j.append(r)
}

// append writes a record of the current run and adds it to the state.
func (j *Journal) append(rs ...journalRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.run == "" {
		return fmt.Errorf("journal: %s record before Begin", rs[0].Type)
	}
	return j.appendLocked(rs...)
}

func (j *Journal) appendLocked(rs ...journalRecord) error {
	for i := range rs {
		rs[i].Run = j.run
	}
	if err := j.write(rs...); err != nil {
		return err
	}
	for _, r := range rs {
		if err := j.st.apply(r, 0); err != nil {
			return err
		}
	}
	return nil
}

// Reset starts the journal afresh for a full (not resumed) run: the current
// file is renamed to <path>.prev, replacing an older one, and a new empty
// journal takes its place. It must be called before Begin.
func (j *Journal) Reset() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("journal %s is open read-only", j.path)
	}
	if j.run != "" {
		return fmt.Errorf("journal: Reset during run %s", j.run)
	}
	if err := os.Rename(j.path, j.path+".prev"); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.f.Close()
	nj, err := openJournal(j.path, true)
	if err != nil {
		j.f, j.err = nil, err
		return err
	}
	j.f, j.size, j.err, j.torn, j.st = nj.f, nj.size, nil, 0, nj.st
	return nil
}

// Close closes the journal file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// TornLine returns the line number of a torn last record that was ignored
// when the journal was read (a crash in the middle of writing it), or 0.
func (j *Journal) TornLine() int { return j.torn }

// Completed returns the latest record of every action completed since the
// journal was last reset, by action ID.
func (j *Journal) Completed() map[string]ActionRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	return cloneRecords(j.st.completed)
}

// Unfinished returns the actions recorded as started (RecordStart) and not
// recorded as completed since: a command that may or may not have run.
func (j *Journal) Unfinished() map[string]ActionRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	return cloneRecords(j.st.started)
}

func cloneRecords(m map[string]ActionRecord) map[string]ActionRecord {
	out := make(map[string]ActionRecord, len(m))
	for id, r := range m {
		r.Outputs = maps.Clone(r.Outputs)
		out[id] = r
	}
	return out
}

// Outputs returns the recorded outputs of completed actions, to seed a
// resumed run (WithOutputs) so that later actions see the same values.
func (j *Journal) Outputs() interp.Outputs {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := interp.Outputs{}
	for id, r := range j.st.completed {
		if len(r.Outputs) > 0 {
			out.Merge(map[string]map[string]string{id: r.Outputs})
		}
	}
	return out
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
