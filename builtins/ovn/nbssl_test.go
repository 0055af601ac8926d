package ovn

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// A TLS alert from the NB, typed (ovnrun's own connections) or only as
// text (libovsdb's), says that the NB refused ovnrun's certificate.
func TestRefusedHint(t *testing.T) {
	alert := &net.OpError{Op: "remote error", Err: errors.New("tls: unknown certificate authority")}
	for _, tc := range []struct {
		err  error
		hint bool
	}{
		{fmt.Errorf("replicate: %w", alert), true},
		{fmt.Errorf("listdbs failure - %v", alert), true},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
	} {
		if got := refusedHint(tc.err); (got != "") != tc.hint || tc.hint && !strings.Contains(got, "refused ovnrun's certificate") {
			t.Errorf("refusedHint(%v) = %q, want a hint: %v", tc.err, got, tc.hint)
		}
	}
}
