package dialguard

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	if !On() {
		t.Fatal("the guard is off in a test binary")
	}
	for _, tc := range []struct {
		network, addr string
		ok            bool
	}{
		{"tcp", "127.0.0.1:6641", true},
		{"tcp", "[::1]:22", true},
		{"tcp", "localhost:22", true},
		{"unix", "/run/ovn/ovnnb_db.sock", true},
		{"tcp", "177.1.1.1:6641", false},
		{"tcp", "172.16.3.253:22", false},
		{"tcp4", "hp-dl388g8-22:22", false},
	} {
		err := Check(tc.network, tc.addr)
		if mayLeave() && (err == nil) != tc.ok {
			t.Errorf("Check(%s, %s) = %v, want ok=%v", tc.network, tc.addr, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "refusing to connect to "+tc.addr) {
			t.Errorf("message %q does not name the address", err)
		}
	}
	if !mayLeave() {
		t.Log("not in the root network namespace: the guard allows everything here")
	}
}
