package ovnmatch

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
)

// Expr is a parsed match. Its String is the canonical form: one space
// around each operator, the source's parentheses, constants in the format
// they were written in (without leading zeros, prefixes for CIDR masks).
type Expr struct {
	root       node
	addrSets   []string
	portGroups []string
	ports      []string
}

// AddressSets returns the names of the address sets the match refers to
// ("$name", without "$"), sorted. OVN rejects a match naming one that does
// not exist, so a caller that knows the NB may check them.
func (e *Expr) AddressSets() []string { return slices.Clone(e.addrSets) }

// PortGroups returns the port groups the match names ("@name"), sorted.
func (e *Expr) PortGroups() []string { return slices.Clone(e.portGroups) }

// Ports returns the logical port names the match compares with inport or
// outport, or passes to is_chassis_resident(), sorted.
func (e *Expr) Ports() []string { return slices.Clone(e.ports) }

func (e *Expr) String() string {
	var b strings.Builder
	e.root.format(&b)
	return b.String()
}

type node interface{ format(b *strings.Builder) }

// andOr is a chain of one operator: OVN refuses "a && b || c".
type andOr struct {
	or    bool
	terms []node
}

type paren struct{ x node }

type not struct{ x node }

type boolConst bool

type chassisResident struct{ port string }

// bareField is a 1-bit field tested on its own ("ct.est", "ip4"), or any
// field under "!" ("!reg0" is reg0 == 0).
type bareField struct{ f fieldRef }

// cmp is "field op set", or the range "lo loOp field op set".
type cmp struct {
	f    fieldRef
	op   tokKind
	set  valueSet
	lo   *valueSet
	loOp tokKind
}

type fieldRef struct {
	sym    *symbol
	lo, hi int
	subset bool // written with [..]
}

func (f fieldRef) bits() int {
	if f.subset {
		return f.hi - f.lo + 1
	}
	return f.sym.width
}

type valueSet struct {
	curly bool
	items []value
}

type valueKind uint8

const (
	vInt valueKind = iota
	vString
	vAddrSet
	vPortGroup
)

type value struct {
	kind valueKind
	c    constant
	s    string // string, or the set's or group's name
	off  int    // where it was written, for errors
}

func (v value) isString() bool { return v.kind == vString || v.kind == vPortGroup }

func (n andOr) format(b *strings.Builder) {
	op := " && "
	if n.or {
		op = " || "
	}
	for i, t := range n.terms {
		if i > 0 {
			b.WriteString(op)
		}
		t.format(b)
	}
}

func (n paren) format(b *strings.Builder) {
	b.WriteByte('(')
	n.x.format(b)
	b.WriteByte(')')
}

func (n not) format(b *strings.Builder) {
	b.WriteByte('!')
	n.x.format(b)
}

func (n boolConst) format(b *strings.Builder) {
	b.WriteString(map[boolConst]string{true: "1", false: "0"}[n])
}

func (n chassisResident) format(b *strings.Builder) {
	b.WriteString("is_chassis_resident(" + quote(n.port) + ")")
}

func (n bareField) format(b *strings.Builder) { b.WriteString(n.f.String()) }

func (n cmp) format(b *strings.Builder) {
	if n.lo != nil {
		b.WriteString(n.lo.String() + " " + opText[n.loOp] + " ")
	}
	b.WriteString(n.f.String() + " " + opText[n.op] + " " + n.set.String())
}

var opText = map[tokKind]string{tEq: "==", tNe: "!=", tLt: "<", tLe: "<=", tGt: ">", tGe: ">="}

func (f fieldRef) String() string {
	switch {
	case !f.subset:
		return f.sym.name
	case f.lo == f.hi:
		return fmt.Sprintf("%s[%d]", f.sym.name, f.lo)
	}
	return fmt.Sprintf("%s[%d..%d]", f.sym.name, f.lo, f.hi)
}

func (s valueSet) String() string {
	if !s.curly {
		return s.items[0].String()
	}
	texts := make([]string, len(s.items))
	for i, v := range s.items {
		texts[i] = v.String()
	}
	return "{" + strings.Join(texts, ", ") + "}"
}

func (v value) String() string {
	switch v.kind {
	case vString:
		return quote(v.s)
	case vAddrSet:
		return "$" + v.s
	case vPortGroup:
		return "@" + v.s
	}
	return v.c.String()
}

func (c constant) String() string {
	s := formatInt(c.format, c.value)
	if c.mask == nil {
		return s
	}
	if c.format == fIPv4 || c.format == fIPv6 {
		n := 32
		if c.format == fIPv6 {
			n = 128
		}
		for ones := 0; ones <= n; ones++ {
			if prefixMask(n, ones).Cmp(c.mask) == 0 {
				return fmt.Sprintf("%s/%d", s, ones)
			}
		}
	}
	return s + "/" + formatInt(c.format, c.mask)
}

func formatInt(f format, v *big.Int) string {
	switch f {
	case fHex:
		return "0x" + v.Text(16)
	case fIPv4:
		var b [4]byte
		return netip.AddrFrom4([4]byte(v.FillBytes(b[:]))).String()
	case fIPv6:
		var b [16]byte
		return netip.AddrFrom16([16]byte(v.FillBytes(b[:]))).String()
	case fMAC:
		var b [6]byte
		v.FillBytes(b[:])
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	}
	return v.String()
}

// quote writes s as OVN's lexer reads it back: JSON escapes for quotes,
// backslashes and control characters; other bytes as they are.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// width is how many bits OVN considers a constant to need
// (expr_constant_width): the mask's for a masked one, the address size for
// an address, the value's otherwise.
func (c constant) width() int {
	switch {
	case c.mask != nil:
		return c.mask.BitLen()
	case c.format == fIPv4:
		return 32
	case c.format == fIPv6:
		return 128
	case c.format == fMAC:
		return 48
	}
	return c.value.BitLen()
}
