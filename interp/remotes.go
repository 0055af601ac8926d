package interp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// CheckHostname validates a DNS name of RFC 1123 labels; a trailing dot
// (a fully qualified name) is allowed.
func CheckHostname(s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("invalid host name %q: want 1 to 253 characters", s)
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("invalid host name %q: bad label %q", s, l)
		}
		for _, r := range l {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return fmt.Errorf("invalid host name %q: only letters, digits, '-' and '.' are allowed", s)
			}
		}
	}
	return nil
}

// CheckAddress validates a host address: an IP address or a DNS name. Text
// made of digits and dots, or holding a ':', is taken for an IP address, so
// "177.1.1.300" is reported as a bad address rather than accepted as a name.
func CheckAddress(s string) error {
	_, err := ParseIP(s)
	if err == nil {
		return nil
	}
	if strings.Trim(s, "0123456789.") == "" || strings.Contains(s, ":") {
		return err
	}
	return CheckHostname(s)
}

// CheckRemote validates a single OVSDB remote (ovsdb(7)) and says what is
// wrong with it: tcp:HOST:PORT or ssl:HOST:PORT, with an IPv6 HOST in
// brackets, or unix:PATH with an absolute PATH. With allowPassive, the
// listening forms ptcp:PORT[:IP], pssl:PORT[:IP] and punix:PATH are accepted
// too, as the Connection table's target column takes both kinds. Port 0 (a
// port the kernel picks) is refused, since nothing could find it.
func CheckRemote(r string, allowPassive bool) error {
	method, rest, _ := strings.Cut(r, ":")
	var err error
	switch method {
	case "tcp", "ssl":
		err = checkActiveInet(rest)
	case "unix":
		err = checkSocketPath(rest)
	case "ptcp", "pssl", "punix":
		if !allowPassive {
			return fmt.Errorf("remote %q: a passive remote cannot be used here; want tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH", r)
		}
		if method == "punix" {
			err = checkSocketPath(rest)
		} else {
			err = checkPassiveInet(rest)
		}
	default:
		want := "tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH"
		if allowPassive {
			want = "ptcp:PORT[:IP], pssl:PORT[:IP], punix:PATH, " + want
		}
		return fmt.Errorf("remote %q: want %s", r, want)
	}
	if err != nil {
		return fmt.Errorf("remote %q: %w", r, err)
	}
	return nil
}

// checkActiveInet validates HOST:PORT, with an IPv6 HOST in brackets.
func checkActiveInet(s string) error {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return fmt.Errorf("want HOST:PORT")
	}
	host, port := s[:i], s[i+1:]
	if err := checkRemotePort(port); err != nil {
		return err
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return fmt.Errorf("invalid IPv6 address %s", host)
		}
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("write an IPv6 address in brackets, as [%s]", host)
	}
	return CheckAddress(host)
}

// checkPassiveInet validates PORT[:IP], with an IPv6 IP in brackets or not.
func checkPassiveInet(s string) error {
	port, ip, hasIP := strings.Cut(s, ":")
	if err := checkRemotePort(port); err != nil {
		return err
	}
	if !hasIP {
		return nil
	}
	_, err := ParseIP(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	return err
}

func checkRemotePort(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want a number in 1..65535", s)
	}
	return nil
}

func checkSocketPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("socket path %q is not absolute", s)
	}
	return nil
}

// CheckRemoteList validates a comma-separated list of active remotes, as
// ovn-nbctl --db and external_ids:ovn-remote take them (several endpoints of
// a clustered database).
func CheckRemoteList(s string) error {
	if s == "" {
		return fmt.Errorf("empty OVSDB remote")
	}
	for _, r := range strings.Split(s, ",") {
		if err := CheckRemote(r, false); err != nil {
			return err
		}
	}
	return nil
}
