package ovnmatch

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	for _, in := range validMatches {
		e, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		out := e.String()
		again, err := Parse(out)
		if err != nil {
			t.Errorf("Parse(%q) printed %q, which Parse refuses: %v", in, out, err)
		} else if again.String() != out {
			t.Errorf("Parse(%q) printed %q, then %q", in, out, again)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, c := range invalidMatches {
		_, err := Parse(c.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want an *Error", c.in, err)
			continue
		}
		if pe.Offset != c.offset || pe.Token != c.token || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q):\n got offset %d token %q msg %q\nwant offset %d token %q msg containing %q",
				c.in, pe.Offset, pe.Token, pe.Msg, c.offset, c.token, c.msg)
		}
		if pe.Msg != strings.ToLower(pe.Msg[:1])+pe.Msg[1:] {
			t.Errorf("Parse(%q): message %q starts with a capital", c.in, pe.Msg)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`tcp.dst==80&&ip4`:                    `tcp.dst == 80 && ip4`,
		`80 == tcp.dst`:                       `tcp.dst == 80`,
		`1 < tcp.dst`:                         `tcp.dst > 1`,
		`1<=tcp.dst<1024`:                     `1 <= tcp.dst < 1024`,
		`tcp.dst == {80 443,8080}`:            `tcp.dst == {80, 443, 8080}`,
		`reg0 == 0x00ff`:                      `reg0 == 0xff`,
		`reg0 == 0/0x1234`:                    `reg0 == 0x0/0x1234`,
		`ip4.src == 10.0.0.7/24`:              `ip4.src == 10.0.0.0/24`,
		`ip4.src == 10.0.0.0/255.255.0.0`:     `ip4.src == 10.0.0.0/16`,
		`ip4.src == 10.0.0.0/255.0.255.0`:     `ip4.src == 10.0.0.0/255.0.255.0`,
		`ip6.src == 2001:0db8:0:0:0:0:0:1/64`: `ip6.src == 2001:db8::/64`,
		`eth.src == 0A:00:00:00:00:01`:        `eth.src == 0a:00:00:00:00:01`,
		`reg0[3..3] == 1 /* c */`:             `reg0[3] == 1`,
		`inport == "a\u0041\"\n"`:             `inport == "aA\"\n"`,
		`!( ct.est )`:                         `!(ct.est)`,
		`is_chassis_resident( "p" )`:          `is_chassis_resident("p")`,
	} {
		e, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		} else if got := e.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func TestReferences(t *testing.T) {
	e, err := Parse(`(inport == {"p2", @pg1, "p1"} && ip4.src == {$as2, $as1, $as2}) ||` +
		` (outport == "p1" && is_chassis_resident("cr-p3") && eth.dst == $as1)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"AddressSets", e.AddressSets(), []string{"as1", "as2"}},
		{"PortGroups", e.PortGroups(), []string{"pg1"}},
		{"Ports", e.Ports(), []string{"cr-p3", "p1", "p2"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s() = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestSymtabConsistent checks fields.go against itself: each subfield and
// predicate definition parses, a subfield is as wide as its definition and
// a predicate's level is what OVN derives from its expansion.
func TestSymtabConsistent(t *testing.T) {
	for _, sym := range symtab {
		switch sym.kind {
		case kSubfield:
			e, err := Parse(sym.def + " == 0")
			if err != nil {
				t.Errorf("%s = %s: %v", sym.name, sym.def, err)
				continue
			}
			f := e.root.(cmp).f
			if f.bits() != sym.width || f.sym.level != sym.level {
				t.Errorf("%s = %s: %d bits %s, table says %d bits %s",
					sym.name, sym.def, f.bits(), f.sym.level, sym.width, sym.level)
			}
		case kPredicate:
			e, err := Parse(sym.def)
			if err != nil {
				t.Errorf("%s = %s: %v", sym.name, sym.def, err)
				continue
			}
			if l := exprLevel(e.root); l != sym.level {
				t.Errorf("%s = %s: level %s, table says %s", sym.name, sym.def, l, sym.level)
			}
		}
	}
}

// exprLevel is OVN's expr_get_level: nominal if any comparison is with a
// nominal symbol, Boolean otherwise.
func exprLevel(n node) level {
	switch n := n.(type) {
	case andOr:
		l := boolean
		for _, t := range n.terms {
			l = min(l, exprLevel(t))
		}
		return l
	case paren:
		return exprLevel(n.x)
	case not:
		return exprLevel(n.x)
	case cmp:
		return min(boolean, n.f.sym.level)
	case bareField:
		return min(boolean, n.f.sym.level)
	}
	return boolean
}

func TestErrorString(t *testing.T) {
	_, err := Parse(`ip4.sr == 1.2.3.4`)
	if got, want := err.Error(), `byte 0: unknown field "ip4.sr" (did you mean ip4.src?)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
