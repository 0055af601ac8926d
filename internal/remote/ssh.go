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
	jumps      []*ssh.Client // the ProxyJump chain the client runs over, first hop first
	become     *become       // nil: commands run as the login user
	closeOnce  sync.Once
	done       chan struct{} // closed by Close: stops the keepalive
}

// dialSSH connects and authenticates to t within the pool's dial timeout:
// through each jump host of its route (ssh_config ProxyJump), hop by hop
// over the previous hop's connection, then to t itself. Every hop's host
// key is checked against known_hosts.
func (p *Pool) dialSSH(ctx context.Context, t Target) (*sshConn, error) {
	route, err := p.sshConfig.route(t)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", t.Name, err)
	}
	target := route[len(route)-1]
	b, err := p.becomeFor(t, target.user)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	start := time.Now()
	var clients []*ssh.Client
	closeAll := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
	}
	for i, h := range route {
		var via *ssh.Client
		if i > 0 {
			via = clients[i-1]
		}
		c, err := p.dialHop(ctx, t, h, via, i == len(route)-1)
		if err != nil {
			closeAll()
			return nil, err
		}
		clients = append(clients, c)
	}
	n := len(clients) - 1
	c := &sshConn{name: t.Name, addr: target.addr, client: clients[n], jumps: clients[:n], become: b, done: make(chan struct{})}
	go c.keepalive(p.cfg.KeepAlive)
	how := target.String()
	if n > 0 {
		jumps := make([]string, n)
		for i, h := range route[:n] {
			jumps[i] = h.String()
		}
		how += " via " + strings.Join(jumps, ", ")
	}
	if b != nil {
		how += " (commands through sudo)"
	}
	p.logf("[%s] connected to %s in %s", t.Name, how, time.Since(start).Round(time.Millisecond))
	return c, nil
}

// dialHop opens one SSH connection of a route: over via (the previous
// hop) when it is set, else from this machine. Only the route's last hop,
// the target, is offered t's password.
func (p *Pool) dialHop(ctx context.Context, t Target, h hop, via *ssh.Client, last bool) (*ssh.Client, error) {
	name, where := t.Name, fmt.Sprintf("host %s (%s)", t.Name, h)
	auth := Target{Name: t.Name, IdentityFiles: h.identities, PassphraseEnv: t.PassphraseEnv}
	if last {
		auth.PasswordEnv = t.PasswordEnv
	} else {
		name = fmt.Sprintf("%s, jump host of %s", h.alias, t.Name)
		where = fmt.Sprintf("host %s (%s)", name, h)
	}
	methods, offered, notes, err := p.authMethods(auth)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		p.logf("[%s] %s", t.Name, n)
	}
	var refused error
	hostKey, algos, err := p.keys.callback(name, h.addr, &refused)
	if err != nil {
		return nil, err
	}
	var raw net.Conn
	if via == nil {
		raw, err = p.cfg.Dial(ctx, "tcp", h.addr)
	} else {
		raw, err = via.DialContext(ctx, "tcp", h.addr)
	}
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
	// speaks SSH must not hang the run. A channel through a jump host
	// has no deadlines: closing it ends the handshake instead.
	stop := context.AfterFunc(ctx, func() {
		if raw.SetDeadline(time.Unix(1, 0)) != nil {
			raw.Close()
		}
	})
	cc, chans, reqs, err := ssh.NewClientConn(raw, h.addr, &ssh.ClientConfig{
		User:              h.user,
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
	return ssh.NewClient(cc, chans, reqs), nil
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
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
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
	feed, err := c.attach(sess, &stdout, &stderr)
	if err != nil {
		return nil, fmt.Errorf("%s: `%s`: cannot open a session: %w", c.name, res.Cmd, err)
	}

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
	if c.become != nil {
		wrapped = c.become.wrap(wrapped)
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
	feed.finish()
	res.Stdout, res.Stderr = stdout.out.String(), stderr.String()
	if feed != nil && !killed && !stdout.started() {
		return res, feed.refused(c.name, c.become, res)
	}
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
// sshd does not pass signals on for root; through sudo when the command
// runs as root through it. Best effort: the host may be gone.
func (c *sshConn) killGroup(pid int) {
	if pid <= 1 {
		return
	}
	sess, err := c.client.NewSession()
	if err != nil {
		return
	}
	defer sess.Close()
	var stdout pidWriter
	var stderr limitedBuffer
	if _, err := c.attach(sess, &stdout, &stderr); err != nil {
		return
	}
	script := fmt.Sprintf("echo $$; kill -KILL -- -%d %d 2>/dev/null", pid, pid)
	if c.become != nil {
		// sudo's /bin/sh may be dash, whose kill takes no "--".
		script = c.become.wrap(fmt.Sprintf("echo $$; kill -KILL -%d %d 2>/dev/null", pid, pid))
	}
	done := make(chan struct{})
	go func() {
		sess.Run(script)
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
	onLine  func() // called once the PID is read: the command has started
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
		if w.onLine != nil {
			w.onLine()
		}
	}
	w.out.Write(p)
	return n, nil
}

// started says whether the wrapper printed the PID.
func (w *pidWriter) started() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gotLine
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
