package icmpecho

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// needRaw skips without CAP_NET_RAW outside CI; in CI a missing capability
// fails (the suite runs as root).
func needRaw(t *testing.T, dst netip.Addr) *Conn {
	t.Helper()
	c, err := Open(dst)
	if err != nil {
		if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
			t.Skipf("raw sockets need root: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLoopback: the kernel answers echo on loopback, v4 and v6; the first
// request is answered, and a round gets every reply, with round trips.
func TestLoopback(t *testing.T) {
	for _, dst := range []string{"127.0.0.1", "::1"} {
		t.Run(dst, func(t *testing.T) {
			c := needRaw(t, netip.MustParseAddr(dst))
			ctx := context.Background()
			n, rtt, err := c.FirstReply(ctx, 200*time.Millisecond, 5*time.Second)
			if err != nil || n != 1 || rtt <= 0 {
				t.Fatalf("FirstReply = %d, %s, %v; want the first request answered", n, rtt, err)
			}
			st, err := c.Round(ctx, 5, 10*time.Millisecond, time.Second)
			if err != nil || st.Sent != 5 || st.Received != 5 {
				t.Fatalf("Round = %+v, %v; want 5 sent, 5 received", st, err)
			}
			if st.Min <= 0 || st.Min > st.Avg() || st.Avg() > st.Max {
				t.Errorf("round trips min %s avg %s max %s: not ordered", st.Min, st.Avg(), st.Max)
			}
		})
	}
}

// TestOthersRepliesIgnored: the kernel answers every request, but a reply
// echoing another cookie (another socket's request that drew the same ID)
// is not counted, and receive waits out its deadline for its own.
func TestOthersRepliesIgnored(t *testing.T) {
	c := needRaw(t, netip.MustParseAddr("127.0.0.1"))
	if err := c.send(); err != nil {
		t.Fatal(err)
	}
	c.cookie[0] ^= 0xff // as if another socket had sent it
	start := time.Now()
	var st Stats
	if err := c.receive(context.Background(), time.Now().Add(300*time.Millisecond), &st, 1); err != nil {
		t.Fatal(err)
	}
	if st.Received != 0 {
		t.Fatalf("a reply with another cookie was counted: %+v", st)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("receive returned after %s, before its deadline", d)
	}
}

// TestReplyFilter: only an echo reply from the destination with this
// Conn's ID and cookie is one of its replies.
func TestReplyFilter(t *testing.T) {
	c := &Conn{dst: netip.MustParseAddr("10.0.0.2"), to: &net.IPAddr{IP: net.ParseIP("10.0.0.2")}, id: 0x1234,
		cookie: [cookieLen]byte{1, 2, 3, 4, 5, 6, 7, 8}}
	good := []byte{echoReply4, 0, 0, 0, 0x12, 0x34, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8}
	from := &net.IPAddr{IP: net.ParseIP("10.0.0.2")}
	if seq, ok := c.reply(good, from); !ok || seq != 7 {
		t.Fatalf("reply(good) = %d, %v; want 7, true", seq, ok)
	}
	bad := map[string]func([]byte) ([]byte, net.Addr){
		"a request":        func(b []byte) ([]byte, net.Addr) { b[0] = echoRequest4; return b, from },
		"another ID":       func(b []byte) ([]byte, net.Addr) { b[5] = 0x35; return b, from },
		"another cookie":   func(b []byte) ([]byte, net.Addr) { b[15] = 9; return b, from },
		"short":            func(b []byte) ([]byte, net.Addr) { return b[:12], from },
		"another source":   func(b []byte) ([]byte, net.Addr) { return b, &net.IPAddr{IP: net.ParseIP("10.0.0.3")} },
		"an ICMPv6 answer": func(b []byte) ([]byte, net.Addr) { b[0] = echoReply6; return b, from },
	}
	for name, mangle := range bad {
		b, f := mangle(append([]byte(nil), good...))
		if _, ok := c.reply(b, f); ok {
			t.Errorf("%s was taken for a reply", name)
		}
	}
}

// TestChecksum: RFC 1071's example sums to 0xddf2 before complement, and
// a message with its checksum in place sums to zero.
func TestChecksum(t *testing.T) {
	if got := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != ^uint16(0xddf2) {
		t.Errorf("checksum = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	msg := []byte{echoRequest4, 0, 0, 0, 0xab, 0xcd, 0, 1, 9, 8, 7}
	s := checksum(msg)
	msg[2], msg[3] = byte(s>>8), byte(s)
	if got := checksum(msg); got != 0 {
		t.Errorf("a summed message checks to %#04x, want 0", got)
	}
}
