package interp

import (
	"strings"
	"testing"
)

func TestParseNetworkValues(t *testing.T) {
	for _, tc := range []struct {
		kind, in, want, err string
	}{
		{"mac", "04:AC:10:ff:01:94", "04:ac:10:ff:01:94", ""},
		{"mac", "04:ac:10:ff:01", "", "invalid MAC"},
		{"mac", "04-ac-10-ff-01-94", "", "invalid MAC"},
		{"mac", "04:ac:10:ff:01:9", "", "invalid MAC"},
		{"mac", "04:ac:10:ff:01:9g", "", "invalid MAC"},
		{"ip", "172.16.1.254", "172.16.1.254", ""},
		{"ip", "2001:db8:1::0", "2001:db8:1::0", ""}, // kept as written
		{"ip", "fe80::1%eth0", "", "invalid IP"},
		{"ip", "172.16.1", "", "invalid IP"},
		{"cidr", "172.16.1.0/24", "172.16.1.0/24", ""},
		{"cidr", "2001:db8:1::0/64", "2001:db8:1::0/64", ""},
		{"cidr", "172.16.1.1/24", "", "host bits are set (the network is 172.16.1.0/24)"},
		{"cidr", "172.16.1.0", "", "invalid CIDR"},
		{"ifaddr", "172.16.1.254/24", "172.16.1.254/24", ""},
		{"ifaddr", "172.16.1.254", "", "invalid interface address"},
	} {
		var got string
		var err error
		switch tc.kind {
		case "mac":
			var v MAC
			v, err = ParseMAC(tc.in)
			got = v.String()
		case "ip":
			var v IP
			v, err = ParseIP(tc.in)
			got = v.String()
		case "cidr":
			var v CIDR
			v, err = ParseCIDR(tc.in)
			got = v.String()
		case "ifaddr":
			var v IfAddr
			v, err = ParseIfAddr(tc.in)
			got = v.String()
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: got %v, want error containing %q", tc.kind, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %q = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		}
	}
}

func TestCheckOVSDBRemote(t *testing.T) {
	for _, tc := range []struct {
		in      string
		passive bool
		ok      bool
	}{
		{"tcp:177.1.1.1:6641", false, true},
		{"tcp:[::1]:6641", false, true},
		{"ssl:central.lab:6641,tcp:10.0.0.2:6641", false, true},
		{"unix:/run/ovn/ovnnb_db.sock", false, true},
		{"tcp:177.1.1.1", false, false},
		{"tcp:177.1.1.1:99999", false, false},
		{"ptcp:6641", false, false},
		{"http://x", false, false},
		{"ptcp:6641", true, true},
		{"ptcp:6641:127.0.0.1", true, true},
		{"punix:/tmp/x.sock", true, true},
		{"tcp:1.2.3.4:6641", true, false},
		{"ptcp:6641:not-an-ip", true, false},
	} {
		err := CheckOVSDBRemote(tc.in, tc.passive)
		if (err == nil) != tc.ok {
			t.Errorf("CheckOVSDBRemote(%q, passive=%v) = %v, want ok=%v", tc.in, tc.passive, err, tc.ok)
		}
	}
}
