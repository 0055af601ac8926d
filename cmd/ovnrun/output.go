package main

import (
	"bytes"
	"io"
	"log"
	"log/slog"
	"os"
	"regexp"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// How much a run prints, and how: -q, -v, --no-color.

// outputFlags are the flags of commands that print a plan.
type outputFlags struct {
	quiet    bool
	noColour bool
}

func addOutputFlags(fs *pflag.FlagSet, f *outputFlags) {
	fs.BoolVarP(&f.quiet, "quiet", "q", false,
		"print less: of the plan only its summary, of the apply only what failed and the final line")
	fs.BoolVar(&f.noColour, "no-color", false,
		"never colour the plan's + ~ - > markers (they are coloured only on a terminal, and never when NO_COLOR is set)")
}

// colour says whether the plan printed on stdout colours its markers: only
// on a terminal, unless --no-color or NO_COLOR (https://no-color.org: any
// non-empty value) says not to.
func (f *outputFlags) colour(stdout io.Writer) bool {
	return !f.noColour && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
}

// isTerminal reports whether w is a terminal; tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// quietWriter passes on, of a plan and an apply's progress, only the lines
// -q keeps: the plan's summary, what failed and the final line. An error
// (a line starting "ovnrun: " or "error: ") ends a run, so from the first
// one on everything passes: its message may span several lines.
type quietWriter struct {
	w       io.Writer
	partial []byte // a line not ended yet
	failed  bool
}

// quietKeeps matches the lines -q keeps.
var quietKeeps = regexp.MustCompile(`^(Plan: |No changes\.|\d+ command\(s\) will run\.|Nothing to apply\.|` +
	`Applied \d+ step\(s\)|Saved the plan to |Stopped after |Step .*: failed after |Lab .* is not up: nothing to destroy\.|ovnrun: warning: )`)

func (q *quietWriter) Write(p []byte) (int, error) {
	q.partial = append(q.partial, p...)
	for {
		i := bytes.IndexByte(q.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := q.partial[:i+1]
		if !q.failed && (bytes.HasPrefix(line, []byte("ovnrun: ")) && !bytes.HasPrefix(line, []byte("ovnrun: warning: ")) ||
			bytes.HasPrefix(line, []byte("error: "))) {
			q.failed = true
		}
		if q.failed || quietKeeps.Match(line) {
			if _, err := q.w.Write(line); err != nil {
				return 0, err
			}
		}
		q.partial = q.partial[i+1:]
	}
}

// startDebugLog sends log/slog's debug stream to w, for -v.
func startDebugLog(w io.Writer) {
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.StringValue(a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	})))
}

// keepLogging saves the default slog logger and the log package's output,
// which startDebugLog changes, and returns the function restoring them: a
// test runs ovnrun many times in one process.
func keepLogging() (restore func()) {
	logger, out, flags := slog.Default(), log.Writer(), log.Flags()
	return func() {
		slog.SetDefault(logger)
		log.SetOutput(out)
		log.SetFlags(flags)
	}
}

// quietOutput returns where a plan-printing command writes its plan and
// its progress under f: with -q, the stream its progress goes to (stdout,
// or stderr when stdout holds the JSON plan) passes only what -q keeps.
func (f *outputFlags) quietOutput(json bool, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	switch {
	case !f.quiet:
	case json:
		stderr = &quietWriter{w: stderr}
	default:
		stdout = &quietWriter{w: stdout}
	}
	return stdout, stderr
}
