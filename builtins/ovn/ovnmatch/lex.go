package ovnmatch

import (
	"math/big"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// The lexer follows lex_token_parse() in ovn-org/ovn lib/lex.c: the same
// token kinds, the same extent of a numeric token, the same refusals.

type tokKind uint8

const (
	tEnd tokKind = iota
	tErr
	tID
	tInt // integer, possibly masked
	tString
	tAddrSet   // $name
	tPortGroup // @name
	tTemplate  // ^name
	tLParen
	tRParen
	tLCurly
	tRCurly
	tLSquare
	tRSquare
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tNot
	tAnd
	tOr
	tEllipsis
	tComma
	tSemicolon
	tEquals // a single '=', valid only in actions
	tExchange
	tDecrement
	tColon
	tHyphen
)

type token struct {
	kind     tokKind
	off, end int    // the token is s[off:end]
	str      string // the name (tID, tAddrSet, ...) or the unquoted string
	c        constant
	err      string // tErr: what is wrong
}

// format is how an integer constant was written; it decides how it prints
// and how wide OVN considers it (expr_constant_width).
type format uint8

const (
	fDecimal format = iota
	fHex
	fIPv4
	fIPv6
	fMAC
)

type constant struct {
	format format
	value  *big.Int
	mask   *big.Int // nil when not masked
}

// maxIntBits is the size of OVS's union mf_subvalue, the largest constant
// OVN's lexer holds.
const maxIntBits = 1024

type lexer struct {
	s   string
	pos int
}

func isID1(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.'
}

func isIDn(c byte) bool { return isID1(c) || c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (lx *lexer) at(i int) byte {
	if i < len(lx.s) {
		return lx.s[i]
	}
	return 0
}

// next returns the next token, skipping white space and comments.
func (lx *lexer) next() token {
	for {
		p := lx.pos
		switch c := lx.at(p); {
		case p >= len(lx.s):
			return token{kind: tEnd, off: p, end: p}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			lx.pos++
			continue
		case c == '/' && lx.at(p+1) == '/':
			for lx.pos < len(lx.s) && lx.s[lx.pos] != '\n' {
				lx.pos++
			}
			continue
		case c == '/' && lx.at(p+1) == '*':
			end := strings.Index(lx.s[p+2:], "*/")
			nl := strings.IndexByte(lx.s[p+2:], '\n')
			if end < 0 || nl >= 0 && nl < end {
				lx.pos = len(lx.s)
				if nl >= 0 {
					lx.pos = p + 2 + nl
				}
				return lx.fail(p, "\"/*\" without matching \"*/\"")
			}
			lx.pos = p + 2 + end + 2
			continue
		}
		return lx.token(lx.pos)
	}
}

func (lx *lexer) fail(off int, msg string) token {
	return token{kind: tErr, off: off, end: lx.pos, err: msg}
}

func (lx *lexer) simple(p, n int, k tokKind) token {
	lx.pos = p + n
	return token{kind: k, off: p, end: lx.pos}
}

func (lx *lexer) token(p int) token {
	c, c1 := lx.s[p], lx.at(p+1)
	two := func(second byte, k2, k1 tokKind) token {
		if c1 == second {
			return lx.simple(p, 2, k2)
		}
		return lx.simple(p, 1, k1)
	}
	switch c {
	case '(':
		return lx.simple(p, 1, tLParen)
	case ')':
		return lx.simple(p, 1, tRParen)
	case '{':
		return lx.simple(p, 1, tLCurly)
	case '}':
		return lx.simple(p, 1, tRCurly)
	case '[':
		return lx.simple(p, 1, tLSquare)
	case ']':
		return lx.simple(p, 1, tRSquare)
	case ',':
		return lx.simple(p, 1, tComma)
	case ';':
		return lx.simple(p, 1, tSemicolon)
	case '=':
		return two('=', tEq, tEquals)
	case '!':
		return two('=', tNe, tNot)
	case '>':
		return two('=', tGe, tGt)
	case '-':
		return two('-', tDecrement, tHyphen)
	case '<':
		if c1 == '-' && lx.at(p+2) == '>' {
			return lx.simple(p, 3, tExchange)
		}
		return two('=', tLe, tLt)
	case '&', '|', '.':
		if c1 == c {
			return lx.simple(p, 2, map[byte]tokKind{'&': tAnd, '|': tOr, '.': tEllipsis}[c])
		}
		lx.pos = p + 1
		if c == '.' {
			return lx.fail(p, `"." is valid only in ".." or a number`)
		}
		return lx.fail(p, `"`+string(c)+`" is valid only in "`+string(c)+string(c)+`"`)
	case '/':
		lx.pos = p + 1
		return lx.fail(p, `"/" is valid only in "//" or "/*", or after a number`)
	case '$':
		return lx.name(p, tAddrSet)
	case '@':
		return lx.name(p, tPortGroup)
	case '^':
		return lx.name(p, tTemplate)
	case '"':
		return lx.quoted(p)
	case ':':
		if c1 != ':' {
			return lx.simple(p, 1, tColon)
		}
		return lx.integer(p) // an IPv6 address starting "::"
	}
	switch {
	case c >= '0' && c <= '9':
		return lx.integer(p)
	case isHex(c):
		// A MAC or IPv6 address may start like an identifier, but its hex
		// digits are followed by ':', which never follows an identifier's.
		q := p
		for q < len(lx.s) && isHex(lx.s[q]) {
			q++
		}
		if lx.at(q) == ':' {
			return lx.integer(p)
		}
		return lx.id(p, p, tID)
	case isID1(c):
		return lx.id(p, p, tID)
	}
	r, n := utf8.DecodeRuneInString(lx.s[p:])
	lx.pos = p + n
	if r == utf8.RuneError || r < ' ' || r == 0x7f {
		return lx.fail(p, "invalid byte in input")
	}
	return lx.fail(p, "invalid character in input")
}

func (lx *lexer) id(off, p int, k tokKind) token {
	q := p + 1
	for q < len(lx.s) && isIDn(lx.s[q]) {
		q++
	}
	lx.pos = q
	return token{kind: k, off: off, end: q, str: lx.s[p:q]}
}

// name lexes $name, @name and ^name.
func (lx *lexer) name(p int, k tokKind) token {
	if !isID1(lx.at(p + 1)) {
		lx.pos = p + 1
		return lx.fail(p, `"`+lx.s[p:p+1]+`" must be followed by a name`)
	}
	return lx.id(p, p+1, k)
}

// quoted lexes a string with the escapes of JSON, as OVN does.
func (lx *lexer) quoted(p int) token {
	var b strings.Builder
	for q := p + 1; q < len(lx.s); {
		c := lx.s[q]
		switch c {
		case '"':
			lx.pos = q + 1
			return token{kind: tString, off: p, end: lx.pos, str: b.String()}
		case 0:
			lx.pos = q + 1
			return lx.fail(p, "NUL byte in quoted string")
		case '\\':
			n, msg := unescape(lx.s[q:], &b)
			if msg != "" {
				lx.pos = min(q+max(n, 2), len(lx.s))
				return lx.fail(p, msg)
			}
			q += n
		default:
			b.WriteByte(c)
			q++
		}
	}
	lx.pos = len(lx.s)
	return lx.fail(p, "input ends inside quoted string")
}

// unescape decodes the escape at the start of s into b and returns how
// many bytes it took, or what is wrong with it.
func unescape(s string, b *strings.Builder) (int, string) {
	if len(s) < 2 {
		return 1, "quoted string may not end with backslash"
	}
	if i := strings.IndexByte(`"\/bfnrt`, s[1]); i >= 0 {
		b.WriteByte("\"\\/\b\f\n\r\t"[i])
		return 2, ""
	}
	if s[1] != 'u' {
		return 2, `bad escape \` + s[1:2]
	}
	r, ok := hex4(s[2:])
	switch {
	case !ok:
		return 2, `malformed \u escape`
	case r == 0:
		return 6, `\u0000 is not allowed`
	case r >= 0xdc00 && r <= 0xdfff:
		return 6, `\u escape is a lone low surrogate`
	case r < 0xd800 || r > 0xdbff:
		b.WriteRune(r)
		return 6, ""
	}
	lo, ok := rune(0), len(s) >= 8 && s[6] == '\\' && s[7] == 'u'
	if ok {
		lo, ok = hex4(s[8:])
	}
	if !ok || lo < 0xdc00 || lo > 0xdfff {
		return 6, `\u escape is a high surrogate without its low surrogate`
	}
	b.WriteRune(0x10000 + (r-0xd800)<<10 + (lo - 0xdc00))
	return 12, ""
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := range 4 {
		if !isHex(s[i]) {
			return 0, false
		}
		d := rune(s[i] | 0x20)
		if d <= '9' {
			d -= '0'
		} else {
			d -= 'a' - 10
		}
		r = r<<4 | d
	}
	return r, true
}

// integer lexes a decimal, hexadecimal, IPv4, IPv6 or MAC constant and an
// optional "/mask".
func (lx *lexer) integer(p int) token {
	c, q, msg := lx.number(p)
	if msg != "" {
		lx.pos = q
		return lx.fail(p, msg)
	}
	if lx.at(q) != '/' {
		lx.pos = q
		return token{kind: tInt, off: p, end: q, c: c}
	}
	m, q, msg := lx.number(q + 1)
	lx.pos = q
	if msg != "" {
		return lx.fail(p, msg)
	}
	bits := m.value.Int64()
	switch {
	case c.format == m.format:
		c.mask = m.value
	case c.format == fIPv4 && m.format == fDecimal && m.value.IsInt64() && bits <= 32:
		c.mask = prefixMask(32, int(bits))
	case c.format == fIPv6 && m.format == fDecimal && m.value.IsInt64() && bits <= 128:
		c.mask = prefixMask(128, int(bits))
	case c.format == fDecimal && m.format == fHex && c.value.Sign() == 0:
		c.format, c.mask = fHex, m.value
	default:
		return lx.fail(p, "value and mask have incompatible formats")
	}
	c.value = new(big.Int).And(c.value, c.mask)
	return token{kind: tInt, off: p, end: q, c: c}
}

// prefixMask is an n-bit mask whose top bits ones are set.
func prefixMask(n, ones int) *big.Int {
	all := new(big.Int).Lsh(big.NewInt(1), uint(n))
	all.Sub(all, big.NewInt(1))
	low := new(big.Int).Lsh(big.NewInt(1), uint(n-ones))
	low.Sub(low, big.NewInt(1))
	return all.Xor(all, low)
}

// number lexes one numeric constant starting at p and returns where it ends.
func (lx *lexer) number(p int) (constant, int, string) {
	// The extent: a colon never follows a dot (1.2.3.4:80 is three
	// tokens) and ".." ends it (1..3 in a bit range).
	q, sawDot := p, false
	for q < len(lx.s) {
		c := lx.s[q]
		if !(isAlnum(c) || c == ':' && !sawDot || c == '.' && lx.at(q+1) != '.') {
			break
		}
		sawDot = sawDot || c == '.'
		q++
	}
	t := lx.s[p:q]
	switch {
	case t == "":
		return constant{}, q, "integer constant expected"
	case len(t) == 17 && isMAC(t):
		v, _ := new(big.Int).SetString(strings.ReplaceAll(t, ":", ""), 16)
		return constant{format: fMAC, value: v}, q, ""
	case strings.Trim(t, "0123456789") == "":
		if t[0] == '0' && len(t) > 1 {
			return constant{}, q, "decimal constants must not have leading zeros"
		}
		v, _ := new(big.Int).SetString(t, 10)
		if v.BitLen() > 64 {
			return constant{}, q, "decimal constants must be less than 2**64"
		}
		return constant{format: fDecimal, value: v}, q, ""
	case len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'):
		if len(t) == 2 {
			return constant{}, q, "hex digits expected after " + t
		}
		v, ok := new(big.Int).SetString(t[2:], 16)
		if !ok {
			return constant{}, q, "invalid syntax in hexadecimal constant"
		}
		if v.BitLen() > maxIntBits {
			return constant{}, q, "hexadecimal constant is wider than 1024 bits"
		}
		return constant{format: fHex, value: v}, q, ""
	}
	if a, err := netip.ParseAddr(t); err == nil && len(t) < 46 && a.Zone() == "" {
		if a.Is4() {
			b := a.As4()
			return constant{format: fIPv4, value: new(big.Int).SetBytes(b[:])}, q, ""
		}
		b := a.As16()
		return constant{format: fIPv6, value: new(big.Int).SetBytes(b[:])}, q, ""
	}
	return constant{}, q, "invalid numeric constant"
}

func isMAC(t string) bool {
	for i := range len(t) {
		if i%3 == 2 && t[i] != ':' || i%3 != 2 && !isHex(t[i]) {
			return false
		}
	}
	return true
}
