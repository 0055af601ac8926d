package virt

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// TestGuestProtocol plays the guest's side of the command channel: the
// request carries every argument (empty ones, spaces, newlines) and a
// bound, and the reply to an earlier request that gave up is skipped.
func TestGuestProtocol(t *testing.T) {
	argv := []string{"sh", "-c", "echo $1", "", "a b\nc"}
	id, req := guestRequest(argv, time.Now().Add(10*time.Second))
	f := strings.Fields(req)
	if len(f) != 3+len(argv) || f[0] != "ovnrun1" || f[1] != id || (f[2] != "9" && f[2] != "8") || !strings.HasSuffix(req, "\n") {
		t.Fatalf("request %q", req)
	}
	for i, w := range f[3:] {
		if got, err := decodeField(w); err != nil || got != argv[i] {
			t.Errorf("argument %d: %q, %v; want %q", i, got, err, argv[i])
		}
	}

	host, guest := net.Pipe()
	go func() {
		enc := func(s string) string { return "x" + base64.StdEncoding.EncodeToString([]byte(s)) }
		bufio.NewReader(guest).ReadString('\n')
		fmt.Fprintf(guest, "ovnrun1 0123456789abcdef 137 x x\nnoise\novnrun1 %s 2 %s %s\n", id, enc("out"), enc("err\n"))
		guest.Close()
	}()
	host.Write([]byte(req))
	var res remote.Result
	if err := readReply(host, id, &res); err != nil || res.Status != 2 || res.Stdout != "out" || res.Stderr != "err\n" {
		t.Errorf("reply: %+v, %v", res, err)
	}
	host2, guest2 := net.Pipe()
	go func() {
		fmt.Fprintf(guest2, "ovnrun1 other 0 x x\n")
		guest2.Close()
	}()
	if err := readReply(host2, id, &res); err == nil || !strings.Contains(err.Error(), "closed before the reply") {
		t.Errorf("no reply: %v", err)
	}
}
