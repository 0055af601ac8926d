// Package icmpecho sends ICMP and ICMPv6 echo requests and counts their
// replies, from a raw socket opened in whichever network namespace the
// requests must leave from. The emulated lab's namespace VMs ping this way:
// one socket per check, where a ping command cost a process per attempt,
// and a reply counts however late it comes within the wait, where ping
// gives up on a request after a second, or after twice the slowest round
// trip it has seen.
//
// It imports the standard library only.
package icmpecho

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// ICMP message types of echo (RFC 792, RFC 4443).
const (
	echoRequest4 = 8
	echoReply4   = 0
	echoRequest6 = 128
	echoReply6   = 129
)

// cookieLen is the random payload every request of one Conn carries: a
// reply counts only when it echoes it back, so the replies to another
// socket's requests (a ping command in the same VM that drew the same ID)
// are not taken for this one's.
const cookieLen = 8

// Conn sends echo requests to one destination. It is not safe for
// concurrent use.
type Conn struct {
	pc     net.PacketConn
	dst    netip.Addr
	to     *net.IPAddr
	id     uint16
	cookie [cookieLen]byte
	seq    uint16
	// sent is when each request still unanswered was sent, by sequence.
	sent map[uint16]time.Time
	buf  []byte
}

// Open opens a raw socket for echo to dst in the network namespace of the
// calling thread (the caller locks it there); it needs CAP_NET_RAW.
func Open(dst netip.Addr) (*Conn, error) {
	dst = dst.Unmap()
	network, laddr := "ip4:icmp", "0.0.0.0"
	if dst.Is6() {
		network, laddr = "ip6:ipv6-icmp", "::"
	}
	pc, err := net.ListenPacket(network, laddr)
	if err != nil {
		return nil, fmt.Errorf("open an ICMP socket: %w", err)
	}
	c := &Conn{pc: pc, dst: dst, to: &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}, sent: map[uint16]time.Time{},
		buf: make([]byte, 1500)}
	var id [2]byte
	rand.Read(id[:])
	rand.Read(c.cookie[:])
	c.id = binary.BigEndian.Uint16(id[:])
	return c, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.pc.Close() }

// Stats is what a round of requests got back.
type Stats struct {
	Sent, Received int
	Min, Max, Sum  time.Duration // of the round trips of the replies
}

// Avg is the mean round trip of the replies; 0 without any.
func (s Stats) Avg() time.Duration {
	if s.Received == 0 {
		return 0
	}
	return s.Sum / time.Duration(s.Received)
}

func (s *Stats) add(rtt time.Duration) {
	if s.Received == 0 || rtt < s.Min {
		s.Min = rtt
	}
	s.Max = max(s.Max, rtt)
	s.Sum += rtt
	s.Received++
}

// FirstReply sends a request every interval until a reply to any of them
// comes back, and returns how many it sent and that reply's round trip. A
// request that cannot be sent (no route yet: the VM has no address) is
// retried at the next interval. After timeout, or when ctx ends, it
// returns an error saying what the last attempt met.
func (c *Conn) FirstReply(ctx context.Context, interval, timeout time.Duration) (int, time.Duration, error) {
	end := time.Now().Add(timeout)
	var lastErr error
	var st Stats
	for n := 1; ; n++ {
		next := time.Now().Add(interval)
		lastErr = c.send()
		if err := c.receive(ctx, earlier(next, end), &st, 1); err != nil {
			return n, 0, err
		}
		if st.Received > 0 {
			return n, st.Max, nil
		}
		if !time.Now().Before(end) {
			if lastErr != nil {
				return n, 0, fmt.Errorf("%d requests, no reply within %s; the last could not be sent: %w", n, timeout, lastErr)
			}
			return n, 0, fmt.Errorf("%d requests, no reply within %s", n, timeout)
		}
	}
}

// Round sends count requests interval apart, then waits until each has
// its reply or wait has passed since the last was sent. A request that
// cannot be sent ends the round, with the error.
func (c *Conn) Round(ctx context.Context, count int, interval, wait time.Duration) (Stats, error) {
	var st Stats
	c.sent = map[uint16]time.Time{} // late replies to earlier requests do not count here
	for i := 0; i < count; i++ {
		if err := c.send(); err != nil {
			return st, err
		}
		st.Sent++
		// Between requests, read what comes for the interval; after the
		// last, until every reply is in or wait has passed.
		until := time.Now().Add(interval)
		if i == count-1 {
			until = time.Now().Add(wait)
		}
		if err := c.receive(ctx, until, &st, count); err != nil {
			return st, err
		}
	}
	return st, nil
}

// send sends the next request.
func (c *Conn) send() error {
	c.seq++
	typ := byte(echoRequest4)
	if c.dst.Is6() {
		typ = echoRequest6
	}
	msg := make([]byte, 8+cookieLen)
	msg[0] = typ
	binary.BigEndian.PutUint16(msg[4:], c.id)
	binary.BigEndian.PutUint16(msg[6:], c.seq)
	copy(msg[8:], c.cookie[:])
	if !c.dst.Is6() { // the kernel sums ICMPv6 itself, over its pseudo-header
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	}
	c.sent[c.seq] = time.Now()
	if _, err := c.pc.WriteTo(msg, c.to); err != nil {
		delete(c.sent, c.seq)
		return err
	}
	return nil
}

// receive reads replies until the deadline, or until st has want of them.
func (c *Conn) receive(ctx context.Context, deadline time.Time, st *Stats, want int) error {
	for st.Received < want {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Wake at least every 100 ms to notice ctx.
		if err := c.pc.SetReadDeadline(earlier(deadline, time.Now().Add(100*time.Millisecond))); err != nil {
			return err
		}
		n, from, err := c.pc.ReadFrom(c.buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !time.Now().Before(deadline) {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		if seq, ok := c.reply(c.buf[:n], from); ok {
			if at, ok := c.sent[seq]; ok {
				delete(c.sent, seq)
				st.add(time.Since(at))
			}
		}
	}
	return nil
}

// reply reports whether b, from from, answers one of this Conn's
// requests, and its sequence. Go's raw IPv4 sockets strip the IP header.
func (c *Conn) reply(b []byte, from net.Addr) (uint16, bool) {
	want := byte(echoReply4)
	if c.dst.Is6() {
		want = echoReply6
	}
	if len(b) < 8+cookieLen || b[0] != want || b[1] != 0 || binary.BigEndian.Uint16(b[4:]) != c.id ||
		[cookieLen]byte(b[8:8+cookieLen]) != c.cookie {
		return 0, false
	}
	if ip, ok := from.(*net.IPAddr); !ok || !ip.IP.Equal(c.to.IP) {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[6:]), true
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
