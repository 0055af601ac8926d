package ovnmatch

import (
	"fmt"
	"math/big"
	"strings"
)

// check refuses a comparison of field f with set under op as OVN's
// type_check() and make_cmp() do, plus what OVN accepts but cannot be meant:
// a constant wider than the bits selected (OVN drops the excess bits), an
// address of another kind than the field's (ip6.src == 10.0.0.1), an
// ordering against an address set (OVN compares with its first address).
func (p *parser) check(f fieldRef, fieldTok, op token, set valueSet) {
	sym := f.sym
	for _, v := range set.items {
		at := p.tokenAt(v.off)
		if v.isString() != (sym.width == 0) {
			kind := map[bool]string{false: "integer", true: "string"}[sym.width == 0]
			p.fail(at, "%s field %s cannot be compared with %s", kind, sym.name, p.text(at))
		}
		if v.kind != vInt {
			continue
		}
		if w := v.c.width(); w > sym.width {
			p.fail(at, "%d-bit constant %s does not fit %d-bit field %s", w, p.text(at), sym.width, sym.name)
		} else if w > f.bits() {
			p.fail(at, "%d-bit constant %s does not fit %s, %d bits", w, p.text(at), f, f.bits())
		}
		if want := addrFormat(sym); !f.subset && want != v.c.format && v.c.format >= fIPv4 && want >= fIPv4 {
			p.fail(at, "%s is not %s address, as %s wants", p.text(at), formatName[want], sym.name)
		}
	}
	if op.kind != tEq && op.kind != tNe {
		switch {
		case set.curly:
			p.fail(op, "only == and != may compare with a set {...}")
		case sym.level != ordinal:
			p.fail(op, "only == and != may be used with %s field %s", sym.level, sym.name)
		case set.items[0].kind == vAddrSet:
			p.fail(op, "only == and != may compare with address set %s", set.items[0])
		case set.items[0].c.mask != nil:
			p.fail(op, "only == and != may be used with a masked constant; compare bits instead, e.g. eth.src[0..15] > 0x1111")
		}
	}
	if sym.level == nominal && sym.kind == kPredicate {
		for _, v := range set.items {
			// OVN: the bit tested, flipped by "!=" and by each "!".
			positive := v.kind != vInt || v.c.value.Bit(0) == 1
			if positive != (op.kind == tNe) == p.not {
				p.fail(fieldTok, `%s may only be tested positively: write "%s", not "!%s" or "%s == 0"`,
					sym.name, sym.name, sym.name, sym.name)
			}
		}
	} else if sym.level == nominal && (op.kind == tNe) != p.not {
		p.fail(op, `nominal field %s may only be tested for equality ("!=" and "!" with "==" are refused)`, sym.name)
	}
	if sym.width == 0 {
		for _, v := range set.items {
			if v.kind == vString {
				p.refs.ports = append(p.refs.ports, v.s)
			}
		}
	}
}

// tokenAt re-reads the token at off, to name it in an error.
func (p *parser) tokenAt(off int) token {
	lx := lexer{s: p.lx.s, pos: off}
	return lx.next()
}

var formatName = map[format]string{fIPv4: "an IPv4", fIPv6: "an IPv6", fMAC: "an Ethernet"}

// addrFormat is the kind of address a field holds, or fDecimal if none.
func addrFormat(sym *symbol) format {
	switch sym.def {
	case "MFF_IPV4_SRC", "MFF_IPV4_DST", "MFF_ARP_SPA", "MFF_ARP_TPA":
		return fIPv4
	case "MFF_IPV6_SRC", "MFF_IPV6_DST", "MFF_ND_TARGET":
		return fIPv6
	case "MFF_ETH_SRC", "MFF_ETH_DST", "MFF_ARP_SHA", "MFF_ARP_THA", "MFF_ND_SLL", "MFF_ND_TLL":
		return fMAC
	}
	return fDecimal
}

func bigZero() *big.Int { return new(big.Int) }

// fieldHint says which field a misspelt name probably meant.
func fieldHint(name string) string {
	if h := wordHintFor(name); h != "" {
		return h
	}
	names := make([]string, len(symtab))
	for i := range symtab {
		names[i] = symtab[i].name
	}
	return suggest(name, names)
}

// wordHint helps when a word of another language stands where an operator
// should ("ip4 and tcp").
func wordHint(t token) string {
	if t.kind != tID {
		return ""
	}
	return wordHintFor(t.str)
}

func wordHintFor(w string) string {
	switch strings.ToLower(w) {
	case "and":
		return ` (write "&&")`
	case "or":
		return ` (write "||")`
	case "not":
		return ` (write "!")`
	case "true":
		return ` (write 1)`
	case "false":
		return ` (write 0)`
	}
	return ""
}

// suggest returns " (did you mean X?)" for the closest of names, if close.
func suggest(name string, names []string) string {
	best, bestD := "", max(2, len(name)/3)+1
	for _, n := range names {
		if d := distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
