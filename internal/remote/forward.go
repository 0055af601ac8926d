package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Tunnel makes a unix socket of a host reachable as a unix socket on this
// machine, for clients such as libovsdb that dial endpoints themselves and
// cannot be handed a net.Conn. Every connection to Endpoint becomes one
// direct-streamlocal channel on the host's SSH connection. The local socket
// lives in a directory only ovnrun's user can enter.
type Tunnel struct {
	Endpoint string // "unix:/tmp/ovnrun-.../db.sock"

	conn   Conn
	remote string
	ln     net.Listener
	dir    string
	mu     sync.Mutex
	open   map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// OpenTunnel returns a tunnel to the unix socket path on c's host. On this
// machine (a Local conn) it is the path itself. It first checks that
// something listens there, so that a daemon that is not running is reported
// as ErrNoSocket at once rather than as a client's failed handshake.
func OpenTunnel(ctx context.Context, c Conn, path string) (*Tunnel, error) {
	probe, err := c.DialUnix(ctx, path)
	if err != nil {
		return nil, err
	}
	probe.Close()
	if _, ok := c.(*Local); ok {
		return &Tunnel{Endpoint: "unix:" + path}, nil
	}
	dir, err := os.MkdirTemp("", "ovnrun-")
	if err != nil {
		return nil, err
	}
	// Unix socket paths are short (108 bytes): name it by its base only.
	local := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".sock")+".sock")
	ln, err := net.Listen("unix", local)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	t := &Tunnel{Endpoint: "unix:" + local, conn: c, remote: path, ln: ln, dir: dir, open: map[net.Conn]bool{}}
	t.wg.Add(1)
	go t.serve()
	return t, nil
}

func (t *Tunnel) serve() {
	defer t.wg.Done()
	for {
		local, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.wg.Add(1)
		go t.pipe(local)
	}
}

// pipe carries one local connection to the remote socket and back.
func (t *Tunnel) pipe(local net.Conn) {
	defer t.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	remote, err := t.conn.DialUnix(ctx, t.remote)
	cancel()
	if err != nil || !t.track(local, remote) {
		local.Close()
		if remote != nil {
			remote.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(remote, local)
	go cp(local, remote)
	<-done // either side ending ends both
	local.Close()
	remote.Close()
	<-done
	t.untrack(local, remote)
}

func (t *Tunnel) track(cs ...net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	for _, c := range cs {
		t.open[c] = true
	}
	return true
}

func (t *Tunnel) untrack(cs ...net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range cs {
		delete(t.open, c)
	}
}

// Close stops forwarding, closes every forwarded connection and removes
// the local socket.
func (t *Tunnel) Close() error {
	if t.ln == nil {
		return nil
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	err := t.ln.Close()
	for c := range t.open {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	if rerr := os.RemoveAll(t.dir); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}
