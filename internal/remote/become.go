package remote

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// sudoPrompt is the prompt ovnrun has sudo show (sudo -S -p): seeing it on
// stderr is how ovnrun knows sudo asks for the password, which it then
// writes to sudo's stdin. sudo never gets the password otherwise, so no
// command can read it from its stdin.
const sudoPrompt = "[ovnrun: sudo password]"

// become is how a non-root login runs its commands as root: through sudo,
// with the password from an environment variable when sudo asks.
type become struct {
	env      string // the variable's name, for messages; "" when sudo must not ask
	password string // never formatted, logged or put in an error
}

// becomeFor returns how t's commands run as root, nil when they run as the
// login user (no become, or user is root already). It reads the password
// now, at dial time, like the login's.
func (p *Pool) becomeFor(t Target, user string) (*become, error) {
	if !t.Become || user == "root" {
		return nil, nil
	}
	b := &become{env: t.BecomePasswordEnv}
	if b.env != "" {
		pw, ok := p.getenv(b.env)
		if !ok || pw == "" {
			return nil, fmt.Errorf("environment variable %s (become_password_env of host %s) is not set", b.env, t.Name)
		}
		b.password = pw
	}
	return b, nil
}

// wrap returns the command line running script as root. Without a
// password sudo -n fails at once instead of waiting for one.
func (b *become) wrap(script string) string {
	if b.password == "" {
		return "exec sudo -n -- /bin/sh -c " + Quote(script)
	}
	return "exec sudo -S -p " + Quote(sudoPrompt) + " -- /bin/sh -c " + Quote(script)
}

// attach connects a session's output to stdout and stderr; with become it
// also answers sudo's prompt and closes stdin once the command has started
// (its wrapper printed its PID, the first line of stdout).
func (c *sshConn) attach(sess *ssh.Session, stdout *pidWriter, stderr *limitedBuffer) (*sudoFeed, error) {
	sess.Stdout, sess.Stderr = stdout, stderr
	if c.become == nil {
		return nil, nil
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	f := &sudoFeed{stdin: stdin, password: c.become.password, out: stderr}
	stdout.onLine = f.started
	sess.Stderr = f
	return f, nil
}

// sudoFeed stands between sudo's stderr and the command's: it takes the
// prompts out and answers the first with the password, a second (a refused
// password) by closing stdin, so sudo gives up instead of waiting.
type sudoFeed struct {
	mu       sync.Mutex
	stdin    io.WriteCloser
	password string
	out      *limitedBuffer
	pending  []byte // stderr held back: it may end in part of a prompt
	prompts  int
	running  bool // the command runs: stderr is its own, passed on as is
}

func (f *sudoFeed) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.out.Write(p)
		return len(p), nil
	}
	f.pending = append(f.pending, p...)
	for {
		i := bytes.Index(f.pending, []byte(sudoPrompt))
		if i < 0 {
			break
		}
		f.out.Write(f.pending[:i])
		f.pending = f.pending[i+len(sudoPrompt):]
		f.prompts++
		if f.prompts == 1 && f.password != "" {
			io.WriteString(f.stdin, f.password+"\n")
		} else {
			f.stdin.Close()
		}
	}
	if keep := len(sudoPrompt) - 1; len(f.pending) > keep {
		f.out.Write(f.pending[:len(f.pending)-keep])
		f.pending = append([]byte(nil), f.pending[len(f.pending)-keep:]...)
	}
	return len(p), nil
}

// started is called when the command's wrapper has printed its PID: sudo
// is done, stdin is closed (commands get none) and stderr passes through.
func (f *sudoFeed) started() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stdin.Close()
	f.flush()
}

// finish passes on what stderr still holds back, once the session ended.
func (f *sudoFeed) finish() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flush()
}

func (f *sudoFeed) flush() {
	f.running = true
	f.out.Write(f.pending)
	f.pending = nil
}

// refused is the error of a command that sudo did not run (its wrapper
// never printed its PID). It names the password's variable, never the
// password; sudo's own messages do not hold it either.
func (f *sudoFeed) refused(host string, b *become, res *Result) error {
	f.mu.Lock()
	prompts := f.prompts
	f.mu.Unlock()
	tails := outputTails(res)
	switch {
	case prompts > 1 || prompts == 1 && strings.Contains(res.Stderr, "incorrect password"):
		return fmt.Errorf("%s: sudo refused the password in %s (become_password_env) for `%s`%s", host, b.env, res.Cmd, tails)
	case b.password == "" && strings.Contains(res.Stderr, "password is required"):
		return fmt.Errorf("%s: sudo asks for a password to run `%s` as root: set become_password_env to the name of an "+
			"environment variable holding it, or allow the user NOPASSWD in sudoers%s", host, res.Cmd, tails)
	}
	return fmt.Errorf("%s: sudo did not run `%s` as root (become=True)%s", host, res.Cmd, tails)
}
