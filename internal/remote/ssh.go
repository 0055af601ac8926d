package remote

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshConn is one SSH connection to a host; every command is a session on
// it and every unix socket a direct-streamlocal channel.
type sshConn struct {
	name, addr string
	client     *ssh.Client
	closeOnce  sync.Once
	done       chan struct{} // closed by Close: stops the keepalive
}

// dialSSH connects and authenticates to t within the pool's dial timeout.
func (p *Pool) dialSSH(ctx context.Context, t Target) (*sshConn, error) {
	addr := net.JoinHostPort(t.Address, strconv.Itoa(t.port()))
	where := fmt.Sprintf("host %s (%s@%s)", t.Name, t.user(), addr)
	methods, offered, notes, err := p.authMethods(t)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		p.logf("[%s] %s", t.Name, n)
	}
	var refused error
	hostKey, algos, err := p.keys.callback(t.Name, addr, &refused)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	start := time.Now()
	raw, err := p.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		// The dial's own deadline comes from ctx and may fire a moment
		// before ctx reports it: both are the dial timeout.
		var ne net.Error
		if ctx.Err() == context.DeadlineExceeded || errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s: cannot connect within %s: %w", where, p.cfg.DialTimeout, err)
		}
		return nil, fmt.Errorf("%s: cannot connect: %w", where, err)
	}
	// The handshake has its own bound: a port that accepts but never
	// speaks SSH must not hang the run.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	cc, chans, reqs, err := ssh.NewClientConn(raw, addr, &ssh.ClientConfig{
		User:              t.user(),
		Auth:              methods,
		HostKeyCallback:   hostKey,
		HostKeyAlgorithms: algos,
	})
	if !stop() || err != nil {
		raw.Close()
		switch {
		case refused != nil:
			return nil, refused // already names the host and says what to do
		case err == nil || ctx.Err() != nil:
			return nil, fmt.Errorf("%s: no SSH handshake within %s", where, p.cfg.DialTimeout)
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%s: authentication failed: %s", where, authSummary(offered, err))
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	raw.SetDeadline(time.Time{})
	c := &sshConn{name: t.Name, addr: addr, client: ssh.NewClient(cc, chans, reqs), done: make(chan struct{})}
	go c.keepalive(p.cfg.KeepAlive)
	p.logf("[%s] connected to %s@%s in %s", t.Name, t.user(), addr, time.Since(start).Round(time.Millisecond))
	return c, nil
}

// authSummary says which credentials were offered, never what they are.
func authSummary(offered []string, err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "attempted methods"); i >= 0 {
		msg = msg[i:]
	}
	return fmt.Sprintf("offered %s; the server refused them (%s)", strings.Join(offered, ", "), msg)
}

// keepalive probes the server so that a host that vanished fails the
// commands and tunnels waiting on it instead of hanging them.
func (c *sshConn) keepalive(every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err == nil {
				continue
			}
		case <-time.After(every):
		case <-c.done:
			return
		}
		c.client.Close()
		return
	}
}

func (c *sshConn) Host() string { return c.name }

func (c *sshConn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	err := c.client.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// DialUnix implements Conn with a direct-streamlocal channel.
func (c *sshConn) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	conn, err := c.client.DialContext(ctx, "unix", path)
	if err != nil {
		var oe *ssh.OpenChannelError
		if errors.As(err, &oe) && oe.Reason == ssh.ConnectionFailed {
			return nil, fmt.Errorf("%s: %s: %w", c.name, path, ErrNoSocket)
		}
		return nil, fmt.Errorf("%s: %s: %w", c.name, path, err)
	}
	return conn, nil
}

// killGrace is how long Run waits beyond a command's deadline for the
// remote `timeout` to report, before killing the command itself.
const killGrace = 2 * time.Second

// cancelGrace is how long a cancelled Run waits for the command's session
// to end after asking the host to kill it: an interrupted run (Ctrl-C)
// stops within a second, also when the host no longer answers.
const cancelGrace = 500 * time.Millisecond

// Run implements Conn. The remote shell first prints its PID, which is
// also the process group of everything the command starts (sshd makes each
// session a new session); then it execs the command under `timeout` when a
// deadline applies. If the run gives up first (ctx cancelled, or the
// deadline passed without an answer), a second session kills that group.
func (c *sshConn) Run(ctx context.Context, cmd Command) (*Result, error) {
	if err := cmd.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	res := &Result{Host: c.name, Cmd: cmd.String()}
	sess, err := c.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: `%s`: cannot open a session: %w", c.name, res.Cmd, err)
	}
	defer sess.Close()
	var stdout pidWriter
	var stderr limitedBuffer
	sess.Stdout, sess.Stderr = &stdout, &stderr

	wrapped := "echo $$; exec /bin/sh -c " + Quote(res.Cmd)
	end, bounded := deadline(ctx, cmd)
	var limit time.Duration
	if bounded {
		limit = max(time.Until(end), 100*time.Millisecond)
		// -k: a command that ignores TERM gets KILL a second later.
		// Rounded up, so the remote timeout never fires before end.
		secs := math.Ceil(limit.Seconds()*10) / 10
		wrapped = fmt.Sprintf("echo $$; exec timeout -k 1 %.1f /bin/sh -c %s", secs, Quote(res.Cmd))
	}
	start := time.Now()
	if err := sess.Start(wrapped); err != nil {
		return nil, fmt.Errorf("%s: `%s`: %w", c.name, res.Cmd, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()

	var giveUp <-chan time.Time
	if bounded {
		timer := time.NewTimer(time.Until(end) + killGrace)
		defer timer.Stop()
		giveUp = timer.C
	}
	var werr error
	killed := false
	select {
	case werr = <-waited:
	case <-ctx.Done():
		killed = true
	case <-giveUp:
		killed = true
	}
	if killed {
		// The kill is asked for on the side: on a host that stopped
		// answering, even opening its session waits until keepalives give
		// the connection up.
		go c.killGroup(stdout.pid())
		grace := killGrace
		if ctx.Err() != nil {
			grace = cancelGrace
		}
		select {
		case werr = <-waited:
		case <-time.After(grace):
			// The host does not answer: stop waiting on it. A closed
			// session's Wait returns only once the host confirms, or the
			// connection is given up; its output so far is not read, as
			// the session's copiers may still be writing it.
			sess.Close()
			res.Duration = time.Since(start)
			return c.result(ctx, res, nil, true, bounded && time.Now().After(end), limit)
		}
	}
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = stdout.out.String(), stderr.String()
	return c.result(ctx, res, werr, killed, bounded && time.Now().After(end), limit)
}

// result interprets how a session ended.
func (c *sshConn) result(ctx context.Context, res *Result, werr error, killed, late bool, limit time.Duration) (*Result, error) {
	var exit *ssh.ExitError
	switch {
	case errors.As(werr, &exit):
		res.Status, res.Signal = exit.ExitStatus(), exit.Signal()
		if res.Signal != "" {
			res.Status = -1
		}
	case werr != nil && !killed:
		return res, fmt.Errorf("%s: `%s`: connection lost: %w", c.name, res.Cmd, werr)
	}
	// timeout(1) exits 124 after TERM, or dies by KILL with -k.
	timedOut := late && (killed || res.Status == 124 || res.Signal == "KILL" || res.Status == 137)
	switch {
	case timedOut:
		return res, &TimeoutError{Result: res, Timeout: limit.Round(100 * time.Millisecond)}
	case killed || ctx.Err() != nil:
		return res, fmt.Errorf("%s: `%s` was stopped: %w", c.name, res.Cmd, context.Cause(ctx))
	}
	return res, nil
}

// killGroup kills a command's process group from a second session, since
// sshd does not pass signals on for root. Best effort: the host may be gone.
func (c *sshConn) killGroup(pid int) {
	if pid <= 1 {
		return
	}
	sess, err := c.client.NewSession()
	if err != nil {
		return
	}
	defer sess.Close()
	done := make(chan struct{})
	go func() {
		sess.Run(fmt.Sprintf("kill -KILL -- -%d %d 2>/dev/null", pid, pid))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
	}
}

// pidWriter takes the first line of a session's stdout, the PID the
// wrapper printed, and passes the rest on.
type pidWriter struct {
	mu      sync.Mutex
	head    []byte
	gotLine bool
	out     limitedBuffer
}

func (w *pidWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if !w.gotLine {
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			w.head = append(w.head, p...)
			return n, nil
		}
		w.head = append(w.head, p[:i]...)
		w.gotLine = true
		p = p[i+1:]
	}
	w.out.Write(p)
	return n, nil
}

func (w *pidWriter) pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.gotLine {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(w.head)))
	return pid
}
