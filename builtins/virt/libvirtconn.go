package virt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// hostState is one host of the run: its session (shared with the host
// drivers) and its libvirt client, opened on first use over the session's
// connection and reused by every action.
type hostState struct {
	d       *Driver
	name    string
	cfg     HostConfig
	sess    *remote.Session
	sessErr error // the host has no session (not declared)

	mu      sync.Mutex // guards the fields below while connecting
	lv      *libvirt.Libvirt
	raw     net.Conn // the stream under lv, closed to interrupt a call
	domType string   // the probed default domain type; "" until probed
	typeWhy string
	poolOK  bool
	// recreated holds the domains this run's plan recreates (with
	// consent): their NICs are planned as attached anew.
	recreated map[string]bool
	// guests holds one token per domain: a conversation on its command
	// channel (guestexec.go) holds it.
	guests map[string]chan struct{}
	// paths says, per domain, how its guest was last reached (notePath).
	paths map[string]string
}

// connectTimeout bounds dialling libvirtd and opening the connection.
const connectTimeout = 15 * time.Second

// UnreachableError says that the driver could not talk to a host's libvirtd.
type UnreachableError struct {
	Host, Socket string
	Err          error
}

func (e *UnreachableError) Error() string {
	if errors.Is(e.Err, remote.ErrNoSocket) {
		return fmt.Sprintf("libvirtd is not running on host %s: nothing listens on %s "+
			"(start libvirtd there, or give the host's libvirt socket in the driver settings)", e.Host, e.Socket)
	}
	return fmt.Sprintf("cannot reach libvirtd on host %s at %s: %v", e.Host, e.Socket, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// notRunning reports whether err says that libvirtd is not running (yet):
// a plan then treats the host as having no domains.
func notRunning(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u) && errors.Is(u.Err, remote.ErrNoSocket)
}

// conn returns the host's connection, the session's.
func (h *hostState) conn(ctx context.Context) (remote.Conn, error) {
	if h.sessErr != nil {
		return nil, h.sessErr
	}
	return h.sess.Conn(ctx)
}

// dialer hands go-libvirt a stream to the libvirt socket through the host
// connection.
type dialer struct {
	ctx  context.Context
	conn remote.Conn
	path string
	got  net.Conn
}

func (d *dialer) Dial() (net.Conn, error) {
	c, err := d.conn.DialUnix(d.ctx, d.path)
	d.got = c
	return c, err
}

// client returns the host's libvirt client, connecting on first use and
// again after the connection was lost.
func (h *hostState) client(ctx context.Context) (*libvirt.Libvirt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lv != nil {
		select {
		case <-h.lv.Disconnected():
			h.lv, h.raw = nil, nil
		default:
			return h.lv, nil
		}
	}
	conn, err := h.conn(ctx)
	if err != nil {
		return nil, &UnreachableError{Host: h.name, Socket: h.cfg.Socket, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	dl := &dialer{ctx: ctx, conn: conn, path: h.cfg.Socket}
	l := libvirt.NewWithDialer(dl)
	done := make(chan error, 1)
	go func() { done <- l.ConnectToURI(libvirt.ConnectURI(h.cfg.URI)) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		if dl.got != nil {
			dl.got.Close() // unblocks ConnectToURI
		}
		<-done
		err = ctx.Err()
	}
	if err != nil {
		if dl.got != nil {
			dl.got.Close()
		}
		return nil, &UnreachableError{Host: h.name, Socket: h.cfg.Socket, Err: err}
	}
	h.lv, h.raw = l, dl.got
	return l, nil
}

// do runs fn with the host's libvirt client. go-libvirt calls take no
// context: when ctx ends first, the connection is closed under fn (which
// then fails) and do returns ctx's error; the next call reconnects.
func (h *hostState) do(ctx context.Context, fn func(l *libvirt.Libvirt) error) error {
	l, err := h.client(ctx)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- fn(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		h.mu.Lock()
		if h.lv == l && h.raw != nil {
			h.raw.Close()
		}
		h.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// close disconnects from libvirtd. The session's clients (the OVS
// database) close with the session.
func (h *hostState) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lv != nil {
		done := make(chan error, 1)
		go func() { done <- h.lv.Disconnect() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			h.raw.Close()
		}
		h.lv, h.raw = nil, nil
	}
	return nil
}

// isLibvirtErr reports whether err is a libvirt error with one of codes.
func isLibvirtErr(err error, codes ...libvirt.ErrorNumber) bool {
	var le libvirt.Error
	if !errors.As(err, &le) {
		return false
	}
	for _, c := range codes {
		if le.Code == uint32(c) {
			return true
		}
	}
	return false
}

// run runs a command on the host and returns its stdout; a failure carries
// the command's output.
func (h *hostState) run(ctx context.Context, cmd remote.Command) (string, error) {
	conn, err := h.conn(ctx)
	if err != nil {
		return "", err
	}
	return remote.Output(ctx, conn, cmd)
}

// defaultDomainType returns the domain type for a VM that does not choose
// one: kvm when the host's CPU has hardware virtualization (vmx or svm in
// /proc/cpuinfo) and libvirt's domain capabilities offer kvm, else qemu
// (software emulation). /dev/kvm alone is not enough: some machines have it
// without being able to run ordinary guests with it. The reason is kept
// for the plan.
func (h *hostState) defaultDomainType(ctx context.Context) (string, string, error) {
	h.mu.Lock()
	typ, why := h.domType, h.typeWhy
	h.mu.Unlock()
	if typ != "" {
		return typ, why, nil
	}
	conn, err := h.conn(ctx)
	if err != nil {
		return "", "", err
	}
	r, err := conn.Run(ctx, remote.Script("grep -Eqw 'vmx|svm' /proc/cpuinfo").WithTimeout(30*time.Second))
	switch {
	case err != nil:
		return "", "", err
	case r.Status != 0:
		typ, why = "qemu", "no hardware virtualization (vmx/svm) on the host: software emulation"
	default:
		err = h.do(ctx, func(l *libvirt.Libvirt) error {
			_, err := l.ConnectGetDomainCapabilities(nil, nil, nil, libvirt.OptString{"kvm"}, 0)
			return err
		})
		typ, why = "kvm", "hardware virtualization"
		if err != nil {
			if notRunning(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return "", "", err
			}
			typ, why = "qemu", "libvirt offers no kvm domains ("+firstLine(err.Error())+"): software emulation"
		}
	}
	h.mu.Lock()
	h.domType, h.typeWhy = typ, why
	h.mu.Unlock()
	return typ, why, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
