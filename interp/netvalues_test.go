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
		{"mac", "04:ac:10:ff:01:94:", "", "invalid MAC"},
		{"mac", "04:ac:10:ff:0194:", "", "invalid MAC"},
		{"mac", "04:ac:10:ff:01:94:00", "", "invalid MAC"},
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

func TestCheckRemoteList(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"tcp:177.1.1.1:6641", true},
		{"tcp:[::1]:6641", true},
		{"ssl:central.lab:6641,tcp:10.0.0.2:6641", true},
		{"unix:/run/ovn/ovnnb_db.sock", true},
		{"", false},
		{"tcp:177.1.1.1", false},
		{"tcp:177.1.1.1:99999", false},
		{"ptcp:6641", false},
		{"http://x", false},
		{"tcp:177.1.1.1:6641,", false},
	} {
		err := CheckRemoteList(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("CheckRemoteList(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
