package impair

import (
	"strings"
	"testing"
)

func TestDrop(t *testing.T) {
	for _, tc := range []struct {
		pct, draw int
		want      bool
	}{
		{0, 0, false}, {0, 99, false},
		{100, 99, true}, {100, 0, true},
		{30, 29, true}, {30, 30, false}, {30, 0, true}, {1, 1, false}, {99, 98, true}, {99, 99, false},
	} {
		if got := Drop(func(n int) int {
			if n != 100 {
				t.Fatalf("Drop draws from 0..%d, want 0..99", n-1)
			}
			return tc.draw
		}, tc.pct); got != tc.want {
			t.Errorf("Drop(draw %d, loss %d%%) = %v, want %v", tc.draw, tc.pct, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Dev: "eth0", Tap: "ovnimp1", DelayMS: 50, LossPct: 5, Pidfile: "/run/x.pid"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Dev = "" }, `--dev "" is not a device name`},
		{func(c *Config) { c.Dev = "a;reboot" }, "is not a device name"},
		{func(c *Config) { c.Tap = "sixteen-chars-xx" }, "--tap"},
		{func(c *Config) { c.Tap = "eth0" }, "is the impaired device itself"},
		{func(c *Config) { c.DelayMS = -1 }, "--delay-ms -1 is out of range 0..60000"},
		{func(c *Config) { c.DelayMS = 60001 }, "out of range"},
		{func(c *Config) { c.LossPct = 101 }, "--loss-pct 101 is out of range 0..100"},
		{func(c *Config) { c.Pidfile = "" }, "--pidfile is required"},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c, err, tc.want)
		}
	}
}

// Bad arguments change nothing and exit 2 with the usage.
func TestMainRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--dev", "eth0", "--tap", "t0", "--pidfile", "/nonexistent/p", "--loss-pct", "200"},
		{"--dev", "eth0", "--tap", "t0", "--pidfile", "/nonexistent/p", "extra"},
		{"--nope"},
	} {
		var stderr strings.Builder
		if code := Main(args, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
			t.Errorf("Main(%q) = %d, %q; want 2 and the usage", args, code, stderr.String())
		}
	}
}
