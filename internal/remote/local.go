package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"time"
)

// Local runs commands on this machine, as ovnrun's own user, without SSH:
// the host a runbook declares with local=True.
type Local struct{ name string }

// NewLocal returns the connection to this machine, named name in messages.
func NewLocal(name string) *Local { return &Local{name: name} }

// Host implements Conn.
func (l *Local) Host() string { return l.name }

// Close implements Conn.
func (l *Local) Close() error { return nil }

// Run implements Conn. The command runs in a process group of its own, so
// that a timeout kills its children too, not only the shell.
func (l *Local) Run(ctx context.Context, cmd Command) (*Result, error) {
	if err := cmd.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	res := &Result{Host: l.name, Cmd: cmd.String()}
	runCtx, limit := ctx, time.Duration(0)
	if end, ok := deadline(ctx, cmd); ok {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
		limit = time.Until(end).Round(time.Millisecond)
	}
	var c *exec.Cmd
	if cmd.Argv != nil {
		c = exec.CommandContext(runCtx, cmd.Argv[0], cmd.Argv[1:]...)
	} else {
		c = exec.CommandContext(runCtx, "/bin/sh", "-c", cmd.Script)
	}
	var stdout, stderr limitedBuffer
	c.Stdout, c.Stderr = &stdout, &stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	// A child that keeps the output pipes open must not hold Wait forever.
	c.WaitDelay = 2 * time.Second
	start := time.Now()
	err := c.Run()
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	var exit *exec.ExitError
	switch {
	case runCtx.Err() != nil && ctx.Err() == nil:
		res.Status, res.Signal = -1, "KILL"
		return res, &TimeoutError{Result: res, Timeout: limit}
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: `%s`: %w", l.name, res.Cmd, ctx.Err())
	case errors.Is(err, exec.ErrNotFound):
		// As a shell reports it, so guards behave alike on every host.
		res.Status, res.Stderr = 127, fmt.Sprintf("%s: not found\n", cmd.Argv[0])
		return res, nil
	case errors.As(err, &exit):
		res.Status = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
		return res, nil
	case err != nil:
		return res, fmt.Errorf("%s: `%s`: %w", l.name, res.Cmd, err)
	}
	return res, nil
}

// DialUnix implements Conn.
func (l *Local) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%s: %s: %w", l.name, path, ErrNoSocket)
		}
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	return c, nil
}
