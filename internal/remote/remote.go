// Package remote runs commands and opens unix sockets on the machines of a
// lab: over SSH (golang.org/x/crypto/ssh), or on this machine without SSH.
//
// One session per host per run (Sessions, Session), shared by every domain:
// its connection is dialled (by a Pool) the first time an action needs the
// host, and every later action, every database tunnel and libvirt stream to
// that host (SSH direct-streamlocal), reuses it; clients opened over it
// (the host's Open vSwitch database, internal/ovshost) are shared too. Commands are bounded
// so that a timeout or a cancelled run really stops the remote process:
// OpenSSH ignores signal requests for root sessions, so each command runs
// under the remote `timeout` and, when the run gives up on it, its process
// group is killed from a second session.
//
// Secrets (passwords, key passphrases, key material) are read at dial time
// from the environment variables and files a Target names, and never appear
// in a Target, an error or a log line.
//
// A target's address may be an ssh_config Host alias (SSHConfig): its
// HostName, User, Port, IdentityFile and ProxyJump chain apply, each jump
// host dialled over the previous one's connection with its key checked.
// A non-root login may run its commands as root through sudo (Become).
//
// It imports golang.org/x/crypto/ssh, github.com/kevinburke/ssh_config and
// the standard library only; it knows nothing of runbooks.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Conn is the connection to one host.
type Conn interface {
	// Host is the host's name in the runbook, for messages.
	Host() string
	// Run runs cmd and waits for it. The error is nil when the command
	// ran to completion, whatever its exit status (see Result.Err); it is
	// a *TimeoutError when cmd.Timeout or ctx's deadline passed, and the
	// remote command was killed.
	Run(ctx context.Context, cmd Command) (*Result, error)
	// DialUnix connects to a unix socket on the host. The error wraps
	// ErrNoSocket when nothing listens there.
	DialUnix(ctx context.Context, path string) (net.Conn, error)
	// Close ends the connection and every stream opened through it.
	Close() error
}

// ErrNoSocket says that no server listens on a unix socket path: the daemon
// is not running (yet).
var ErrNoSocket = errors.New("nothing listens on the socket")

// Command is what Run runs: an argv, each element quoted for the remote
// shell, or a shell script run by /bin/sh -c. It gets no stdin and no
// environment of ovnrun's own.
type Command struct {
	Argv   []string
	Script string
	// Timeout bounds the command; zero means only ctx bounds it.
	Timeout time.Duration
}

// Argv returns a Command running argv.
func Argv(argv ...string) Command { return Command{Argv: argv} }

// Script returns a Command running a /bin/sh script.
func Script(script string) Command { return Command{Script: script} }

// WithTimeout returns c bounded by d.
func (c Command) WithTimeout(d time.Duration) Command {
	c.Timeout = d
	return c
}

// String is the shell text that runs c, as messages show it.
func (c Command) String() string {
	if c.Argv == nil {
		return c.Script
	}
	q := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

func (c Command) check() error {
	if len(c.Argv) == 0 && strings.TrimSpace(c.Script) == "" {
		return errors.New("empty command")
	}
	if len(c.Argv) > 0 && c.Script != "" {
		return errors.New("command has both an argv and a script")
	}
	return nil
}

// Quote returns s as one POSIX shell word: unchanged when made only of
// characters no shell interprets, else single-quoted, an embedded quote
// closing the quotes, escaped, and reopening them.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// maxOutput bounds what Run keeps of each of stdout and stderr, so that a
// runaway command cannot exhaust ovnrun's memory.
const maxOutput = 4 << 20

// Result is what a command did.
type Result struct {
	Host     string
	Cmd      string // the command as the shell saw it
	Stdout   string
	Stderr   string
	Status   int    // exit status; -1 when killed by a signal
	Signal   string // the signal that killed it, if any
	Duration time.Duration
}

// Err returns an *ExitError when the command did not exit with status 0.
func (r *Result) Err() error {
	if r.Status == 0 && r.Signal == "" {
		return nil
	}
	return &ExitError{Result: r}
}

// ExitError says that a command failed; its message carries the ends of
// stdout and stderr, which is what a user needs to see why.
type ExitError struct{ Result *Result }

func (e *ExitError) Error() string { return e.Result.Host + ": " + e.Detail() }

// Detail is the message without the host's name, for callers that name it.
func (e *ExitError) Detail() string {
	r := e.Result
	how := fmt.Sprintf("exited with status %d", r.Status)
	if r.Signal != "" {
		how = "was killed by signal " + r.Signal
	}
	return fmt.Sprintf("`%s` %s%s", r.Cmd, how, outputTails(r))
}

// TimeoutError says that a command ran out of time and was killed.
type TimeoutError struct {
	Result  *Result // what it printed before it was killed
	Timeout time.Duration
}

func (e *TimeoutError) Error() string { return e.Result.Host + ": " + e.Detail() }

// Detail is the message without the host's name, for callers that name it.
func (e *TimeoutError) Detail() string {
	r := e.Result
	return fmt.Sprintf("`%s` did not finish within %s and was killed%s", r.Cmd, e.Timeout, outputTails(r))
}

// outputTails formats the last lines of a command's output for an error.
func outputTails(r *Result) string {
	var b strings.Builder
	for _, o := range []struct{ name, text string }{{"stdout", r.Stdout}, {"stderr", r.Stderr}} {
		if t := tail(o.text, 20); t != "" {
			fmt.Fprintf(&b, "\n%s:\n%s", o.name, indent(t))
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// Output runs cmd and returns its stdout, or an error when it could not run
// or exited with a non-zero status.
func Output(ctx context.Context, c Conn, cmd Command) (string, error) {
	r, err := c.Run(ctx, cmd)
	if err != nil {
		return "", err
	}
	if err := r.Err(); err != nil {
		return "", err
	}
	return r.Stdout, nil
}

// limitedBuffer keeps the first maxOutput bytes written to it and counts
// the rest.
type limitedBuffer struct {
	b       []byte
	dropped int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	room := maxOutput - len(l.b)
	if room >= len(p) {
		l.b = append(l.b, p...)
	} else {
		l.b = append(l.b, p[:max(room, 0)]...)
		l.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	if l.dropped > 0 {
		return string(l.b) + fmt.Sprintf("\n... (%d more bytes dropped)\n", l.dropped)
	}
	return string(l.b)
}

// deadline returns when cmd must end: the earlier of ctx's deadline and
// cmd.Timeout from now; ok is false when neither bounds it.
func deadline(ctx context.Context, cmd Command) (time.Time, bool) {
	d, ok := ctx.Deadline()
	if cmd.Timeout > 0 {
		if t := time.Now().Add(cmd.Timeout); !ok || t.Before(d) {
			d, ok = t, true
		}
	}
	return d, ok
}
