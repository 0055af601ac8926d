package interp

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Error is a runbook error: what went wrong, where, and (when the error
// happened inside a function call) the call stack that led there.
type Error struct {
	Pos       Pos    // zero when the error has no position (unread file, bad -D)
	Msg       string // without the position
	Backtrace string // Starlark traceback, most recent call last; may be empty
}

func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Detail returns the message followed by the backtrace, for the terminal.
func (e *Error) Detail() string {
	if e.Backtrace == "" {
		return e.Error()
	}
	return e.Error() + "\n" + e.Backtrace
}

// UnreadVarsError refuses -D settings that no var() of the runbook read: a
// mistake on the command line (a misspelt name), not in the runbook.
type UnreadVarsError struct {
	Names []string // the -D names no var() read, sorted
	Known []string // the names the runbook reads, sorted
}

func (e *UnreadVarsError) Error() string {
	msg := fmt.Sprintf("-D %s: the runbook reads no such variable", strings.Join(e.Names, ", "))
	if len(e.Names) == 1 {
		if s := Suggest(e.Names[0], e.Known); s != "" {
			msg += fmt.Sprintf(": did you mean %s?", s)
		}
	}
	if len(e.Known) == 0 {
		return msg + " (it reads none)"
	}
	return msg + " (it reads: " + strings.Join(e.Known, ", ") + ")"
}

// wrapError turns the errors Starlark returns into *Error.
func wrapError(err error) error {
	var evalErr *starlark.EvalError
	var syntaxErr syntax.Error
	var resolveErrs resolve.ErrorList
	switch {
	case errors.As(err, &evalErr):
		// A cancelled evaluation (step limit, watchdog, signal) says why
		// in the reason alone.
		e := &Error{Msg: strings.TrimPrefix(evalErr.Msg, "Starlark computation cancelled: ")}
		// The innermost frame is the builtin itself when a builtin failed;
		// report the runbook line that called it.
		stack := evalErr.CallStack
		for i := len(stack) - 1; i >= 0; i-- {
			p := stack[i].Pos
			if p.Filename() != "<builtin>" {
				e.Pos = Pos{p.Filename(), p.Line, p.Col}
				break
			}
		}
		if len(stack) > 1 {
			e.Backtrace = evalErr.CallStack.String()
		}
		inStdlib(e, stack)
		// A failed load() wraps the loaded file's own error; keep its
		// position and traceback too, they name the real culprit.
		var inner *Error
		if cause := errors.Unwrap(evalErr); cause != nil {
			if w, ok := wrapError(cause).(*Error); ok && w.Pos.File != "" {
				inner = w
			}
		}
		if inner != nil {
			e.Msg = fmt.Sprintf("in load: %s", inner.Error())
			if inner.Backtrace != "" {
				e.Backtrace = strings.TrimSpace(e.Backtrace + "\n" + inner.Backtrace)
			}
		}
		return e
	case errors.As(err, &syntaxErr):
		p := syntaxErr.Pos
		return &Error{Pos: Pos{p.Filename(), p.Line, p.Col}, Msg: syntaxErr.Msg}
	case errors.As(err, &resolveErrs) && len(resolveErrs) > 0:
		first := resolveErrs[0]
		msgs := make([]string, 0, len(resolveErrs)-1)
		for _, r := range resolveErrs[1:] {
			msgs = append(msgs, fmt.Sprintf("%s: %s", r.Pos, r.Msg))
		}
		return &Error{Pos: Pos{first.Pos.Filename(), first.Pos.Line, first.Pos.Col}, Msg: first.Msg, Backtrace: strings.Join(msgs, "\n")}
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Msg: err.Error()}
}

// inStdlib moves an error raised inside a standard library function to the
// runbook line that called the function: the standard library is not the
// lab engineer's to edit, the arguments they passed are. The message names
// the function, and the library position stays in it and in the backtrace.
func inStdlib(e *Error, stack starlark.CallStack) {
	if !strings.HasPrefix(e.Pos.File, StdlibPrefix) {
		return
	}
	for i := len(stack) - 2; i >= 0; i-- {
		p := stack[i].Pos
		if p.Filename() == "<builtin>" || strings.HasPrefix(p.Filename(), StdlibPrefix) {
			continue
		}
		fn := stack[i+1].Name
		msg := strings.TrimPrefix(e.Msg, "fail: ")
		if !strings.HasPrefix(msg, fn+":") {
			msg = fn + ": " + msg
		}
		e.Msg = fmt.Sprintf("%s (at %s)", msg, e.Pos)
		e.Pos = Pos{p.Filename(), p.Line, p.Col}
		return
	}
}
