package remote

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

type closer struct{ closed int }

func (c *closer) Close() error { c.closed++; return nil }

// Every domain of a run gets the host's one session, whose shared clients
// are opened once and closed when the last user releases the sessions.
func TestSessionsShareOneOpen(t *testing.T) {
	ctx := context.Background()
	s := NewSessionsOver(map[string]Target{"h0": {Name: "h0", Local: true}}, map[string]Conn{"h0": NewLocal("h0")})
	s.Retain() // the host drivers
	s.Retain() // the libvirt driver
	a, err := s.Session("h0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Session("h0")
	if a != b {
		t.Error("two sessions for one host")
	}
	if _, err := s.Session("h9"); err == nil || !strings.Contains(err.Error(), `no host "h9"`) {
		t.Errorf("undeclared host: %v", err)
	}
	type key struct{}
	opens := 0
	c := &closer{}
	open := func(_ context.Context, conn Conn) (io.Closer, error) {
		opens++
		if opens == 1 {
			return nil, errors.New("not running yet")
		}
		if conn.Host() != "h0" {
			t.Errorf("opened over %s's connection", conn.Host())
		}
		return c, nil
	}
	if _, err := a.Shared(ctx, key{}, open); err == nil {
		t.Fatal("a failed open was not reported")
	}
	for _, ss := range []*Session{a, b} {
		got, err := ss.Shared(ctx, key{}, open)
		if err != nil || got != c {
			t.Fatalf("Shared = %v, %v", got, err)
		}
	}
	if opens != 2 {
		t.Errorf("opened %d times, want 2 (a failure is tried again, a success kept)", opens)
	}
	if err := s.Release(); err != nil || c.closed != 0 {
		t.Fatalf("first release: %v, closed %d times, want still open", err, c.closed)
	}
	if err := s.Release(); err != nil || c.closed != 1 {
		t.Fatalf("last release: %v, closed %d times, want once", err, c.closed)
	}
	if _, err := s.Session("h0"); err == nil {
		t.Error("sessions usable after close")
	}
}
