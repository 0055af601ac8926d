package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Sessions are the hosts of one run, one Session per host, shared by every
// domain that reaches a host: its commands, its Open vSwitch database, its
// libvirt. Whatever is opened over a host's connection (database clients)
// is opened once and shared too. The drivers that use the sessions Retain
// them and Release them when they close; the last Release closes them.
type Sessions struct {
	pool    *Pool
	targets map[string]Target

	mu       sync.Mutex
	sessions map[string]*Session
	refs     int
	closed   bool
}

// NewSessions returns the sessions of the hosts targets lists, by name.
// Nothing is dialled until a session's connection is asked for.
func NewSessions(cfg Config, targets map[string]Target) (*Sessions, error) {
	pool, err := NewPool(cfg)
	if err != nil {
		return nil, err
	}
	return &Sessions{pool: pool, targets: targets, sessions: map[string]*Session{}}, nil
}

// Session returns the session of the host name.
func (s *Sessions) Session(name string) (*Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("remote: sessions are closed")
	}
	if ss := s.sessions[name]; ss != nil {
		return ss, nil
	}
	t, ok := s.targets[name]
	if !ok {
		return nil, fmt.Errorf("no host %q is declared", name)
	}
	ss := &Session{Target: t, pool: s.pool, shared: map[any]io.Closer{}}
	s.sessions[name] = ss
	return ss, nil
}

// Targets returns how each host is reached, by name.
func (s *Sessions) Targets() map[string]Target { return s.targets }

// Retain records one more user of the sessions.
func (s *Sessions) Retain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs++
}

// Release ends one user's share; the last one closes the sessions.
func (s *Sessions) Release() error {
	s.mu.Lock()
	s.refs--
	last := s.refs <= 0
	s.mu.Unlock()
	if !last {
		return nil
	}
	return s.Close()
}

// Close closes what was opened over each session, then the connections.
func (s *Sessions) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	sessions := s.sessions
	s.mu.Unlock()
	var errs []error
	for _, ss := range sessions {
		errs = append(errs, ss.closeShared())
	}
	return errors.Join(append(errs, s.pool.Close())...)
}

// Session is one host of a run: its connection, dialled on first use (with
// keepalives, see Config.KeepAlive), and the clients opened over it.
type Session struct {
	Target Target
	pool   *Pool

	mu     sync.Mutex // held while opening a shared client
	shared map[any]io.Closer
}

// Name is the host's name in the runbook.
func (s *Session) Name() string { return s.Target.Name }

// Conn returns the host's connection, dialling it on first use; every
// caller gets the same one (or the same error).
func (s *Session) Conn(ctx context.Context) (Conn, error) {
	return s.pool.Conn(ctx, s.Target)
}

// DialUnix connects to a unix socket on the host over its connection (a
// direct-streamlocal channel; the socket itself on this machine): how
// go-libvirt reaches libvirtd. The error wraps ErrNoSocket when nothing
// listens there.
func (s *Session) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	c, err := s.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return c.DialUnix(ctx, path)
}

// Shared returns the client the session holds under key, opening it with
// open over the host's connection on first use. A failed open is not kept:
// the next call tries again (a daemon may start meanwhile). The client is
// closed with the sessions. Packages that open clients over a session
// (internal/ovshost) use a key type of their own.
func (s *Session) Shared(ctx context.Context, key any, open func(ctx context.Context, c Conn) (io.Closer, error)) (io.Closer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.shared[key]; c != nil {
		return c, nil
	}
	if s.shared == nil {
		return nil, fmt.Errorf("%s: the session is closed", s.Name())
	}
	conn, err := s.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c, err := open(ctx, conn)
	if err != nil {
		return nil, err
	}
	s.shared[key] = c
	return c, nil
}

func (s *Session) closeShared() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.shared {
		errs = append(errs, c.Close())
	}
	s.shared = nil
	return errors.Join(errs...)
}

// NewSessionsOver returns sessions over connections already open, by host
// name (this machine, through a Local, in tests); targets say where each
// host's sockets are. The connections are closed with the sessions.
func NewSessionsOver(targets map[string]Target, conns map[string]Conn) *Sessions {
	pool := &Pool{conns: map[string]*poolEntry{}}
	for name, c := range conns {
		e := &poolEntry{ready: make(chan struct{}), conn: c}
		close(e.ready)
		pool.conns[name] = e
	}
	return &Sessions{pool: pool, targets: targets, sessions: map[string]*Session{}}
}
