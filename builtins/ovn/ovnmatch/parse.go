package ovnmatch

import (
	"fmt"
	"slices"
)

// Error is why Parse refused a match.
type Error struct {
	Offset int    // byte offset in the match of the offending token
	Token  string // that token as written; "" at the end of the input
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg) }

// maxParenDepth is OVN's MAX_PAREN_DEPTH.
const maxParenDepth = 100

// Parse parses s as the match of a logical flow (the match column of ACL,
// Logical_Router_Policy, QoS) and refuses what OVN 23.03's expr_parse()
// refuses, plus a few things OVN accepts but that cannot be meant (see the
// package comment). A refusal is an *Error.
func Parse(s string) (e *Expr, err error) {
	p := &parser{lx: lexer{s: s}, refs: &Expr{}}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			e, err = nil, p.err
		}
	}()
	p.advance()
	root := p.expr()
	if p.tok.kind != tEnd {
		p.fail(p.tok, "expected end of input, got %s%s", p.describe(p.tok), wordHint(p.tok))
	}
	p.refs.root = root
	for _, l := range []*[]string{&p.refs.addrSets, &p.refs.portGroups, &p.refs.ports} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return p.refs, nil
}

type bailout struct{}

type parser struct {
	lx    lexer
	tok   token
	not   bool // inside an odd number of "!"
	depth int
	err   *Error
	refs  *Expr // collects what the match names
}

func (p *parser) advance() { p.tok = p.lx.next() }

func (p *parser) accept(k tokKind) bool {
	if p.tok.kind == k {
		p.advance()
		return true
	}
	return false
}

func (p *parser) text(t token) string { return p.lx.s[t.off:t.end] }

func (p *parser) describe(t token) string {
	if t.kind == tEnd {
		return "end of input"
	}
	return fmt.Sprintf("%q", p.text(t))
}

// fail stops parsing with an error at token at. As in OVN, an error in the
// token being looked at wins: whatever else went wrong follows from it.
func (p *parser) fail(at token, format string, args ...any) {
	if p.tok.kind == tErr {
		at = p.tok
		format, args = "%s", []any{p.tok.err}
	}
	p.err = &Error{Offset: at.off, Token: p.text(at), Msg: fmt.Sprintf(format, args...)}
	panic(bailout{})
}

func (p *parser) expect(k tokKind, what, after string) token {
	t := p.tok
	if !p.accept(k) {
		p.fail(t, "expected %s after %s, got %s", what, after, p.describe(t))
	}
	return t
}

// expr parses a chain of terms joined by one of "&&" and "||".
func (p *parser) expr() node {
	first := p.notExpr()
	op := p.tok.kind
	if op != tAnd && op != tOr {
		return first
	}
	n := andOr{or: op == tOr, terms: []node{first}}
	for p.accept(op) {
		n.terms = append(n.terms, p.notExpr())
	}
	if p.tok.kind == tAnd || p.tok.kind == tOr {
		p.fail(p.tok, `%q after %q needs parentheses: OVN refuses "&&" and "||" together without them`,
			p.text(p.tok), map[bool]string{false: "&&", true: "||"}[n.or])
	}
	return n
}

func (p *parser) notExpr() node {
	bang := p.tok
	if !p.accept(tNot) {
		n, _ := p.primary()
		return n
	}
	p.not = !p.not
	n, atomic := p.primary()
	p.not = !p.not
	if !atomic {
		p.fail(bang, `the operand of "!" needs parentheses, e.g. !(%s)`, fmtNode(n))
	}
	return not{n}
}

func fmtNode(n node) string { return (&Expr{root: n}).String() }

// primary parses one term; atomic says whether "!" may apply to it as is.
func (p *parser) primary() (n node, atomic bool) {
	switch t := p.tok; t.kind {
	case tLParen:
		p.advance()
		if p.depth >= maxParenDepth {
			p.fail(t, "parentheses nested deeper than %d", maxParenDepth)
		}
		p.depth++
		x := p.expr()
		p.depth--
		p.expect(tRParen, `")"`, fmtNode(x))
		return paren{x}, true
	case tID:
		if next := p.lx; next.next().kind == tLParen {
			return p.function(), true
		}
		return p.fieldFirst()
	}
	return p.constantFirst()
}

func (p *parser) function() node {
	id := p.tok
	if id.str != "is_chassis_resident" {
		p.fail(id, "unknown function %q%s", id.str, suggest(id.str, []string{"is_chassis_resident"}))
	}
	p.advance()
	p.advance() // "("
	port := p.tok
	if port.kind != tString {
		p.fail(port, "expected a quoted port name in is_chassis_resident(), got %s", p.describe(port))
	}
	p.advance()
	p.expect(tRParen, `")"`, "is_chassis_resident("+p.text(port))
	p.refs.ports = append(p.refs.ports, port.str)
	return chassisResident{port.str}
}

func isRelop(k tokKind) bool { return k >= tEq && k <= tGe }

// fieldFirst parses "field", "field op set".
func (p *parser) fieldFirst() (node, bool) {
	start := p.tok
	f := p.field()
	op := p.tok
	if !isRelop(op.kind) {
		if f.sym.width == 0 || op.kind == tEquals {
			p.fail(op, `expected "==", "!=", "<", "<=", ">" or ">=" after %s, got %s`, f, p.describe(op))
		}
		if f.bits() > 1 && !p.not {
			p.fail(start, `%s is %d bits wide: compare it, e.g. "%s != 0"`, f, f.bits(), f)
		}
		zero := valueSet{items: []value{{kind: vInt, c: constant{format: fHex, value: bigZero()}, off: start.off}}}
		p.check(f, start, token{kind: tNe, off: start.off, end: start.off}, zero)
		return bareField{f}, true
	}
	p.advance()
	set := p.set()
	p.check(f, start, op, set)
	return cmp{f: f, op: op.kind, set: set}, false
}

// constantFirst parses "1", "0", "set op field" and "set op field op set".
func (p *parser) constantFirst() (node, bool) {
	first := p.tok
	c1 := p.set()
	if v := c1.items[0]; !isRelop(p.tok.kind) && !c1.curly && v.kind == vInt &&
		v.c.format == fDecimal && v.c.mask == nil && v.c.value.BitLen() <= 1 {
		return boolConst(v.c.value.Sign() == 1), true
	}
	op1 := p.tok
	if !isRelop(op1.kind) {
		p.fail(op1, `expected "==", "!=", "<", "<=", ">" or ">=" after %s, got %s`, p.text(first), p.describe(op1))
	}
	p.advance()
	fieldTok := p.tok
	f := p.field()
	op2 := p.tok
	if !isRelop(op2.kind) {
		p.check(f, fieldTok, turned(op1), c1)
		return cmp{f: f, op: turned(op1).kind, set: c1}, false
	}
	p.advance()
	c2 := p.set()
	lt := func(k tokKind) bool { return k == tLt || k == tLe }
	gt := func(k tokKind) bool { return k == tGt || k == tGe }
	if !(lt(op1.kind) && lt(op2.kind) || gt(op1.kind) && gt(op2.kind)) {
		p.fail(op2, "a range must read x < field < y or x > field > y (each < may be <=, each > may be >=)")
	}
	p.check(f, fieldTok, turned(op1), c1)
	p.check(f, fieldTok, op2, c2)
	return cmp{f: f, op: op2.kind, set: c2, lo: &c1, loOp: op1.kind}, false
}

// turned is op with its operands swapped: "1 < x" is "x > 1".
func turned(op token) token {
	op.kind = map[tokKind]tokKind{tEq: tEq, tNe: tNe, tLt: tGt, tLe: tGe, tGt: tLt, tGe: tLe}[op.kind]
	return op
}

// field parses a field name and an optional [bit] or [low..high].
func (p *parser) field() fieldRef {
	id := p.tok
	if id.kind != tID {
		p.fail(id, "expected a field name, got %s", p.describe(id))
	}
	sym := symbols[id.str]
	if sym == nil {
		p.fail(id, "unknown field %q%s", id.str, fieldHint(id.str))
	}
	p.advance()
	f := fieldRef{sym: sym, hi: sym.width - 1}
	if !p.accept(tLSquare) {
		return f
	}
	if sym.width == 0 {
		p.fail(id, "cannot select bits of string field %s", sym.name)
	}
	f.subset = true
	f.lo = p.smallInt(id.str + "[")
	f.hi = f.lo
	if p.accept(tEllipsis) {
		f.hi = p.smallInt(id.str + "[..")
	}
	end := p.expect(tRSquare, `"]"`, id.str+"[")
	whole := token{off: id.off, end: end.end}
	switch {
	case f.lo > f.hi:
		p.fail(whole, "invalid bit range %d to %d", f.lo, f.hi)
	case f.hi >= sym.width:
		p.fail(whole, "cannot select bits %d to %d of %d-bit field %s", f.lo, f.hi, sym.width, sym.name)
	case sym.level == nominal && (f.lo != 0 || f.hi != sym.width-1):
		p.fail(whole, "cannot select bits of nominal field %s", sym.name)
	}
	return f
}

func (p *parser) smallInt(after string) int {
	t := p.tok
	if t.kind != tInt || t.c.format != fDecimal || t.c.mask != nil || t.c.value.BitLen() > 31 {
		p.fail(t, "expected a bit number after %s, got %s", after, p.describe(t))
	}
	p.advance()
	return int(t.c.value.Int64())
}

// set parses one constant or a {}-enclosed list of them, commas optional.
func (p *parser) set() valueSet {
	if !p.accept(tLCurly) {
		return valueSet{items: []value{p.value(nil)}}
	}
	s := valueSet{curly: true}
	for {
		s.items = append(s.items, p.value(s.items))
		p.accept(tComma)
		if p.accept(tRCurly) {
			return s
		}
	}
}

func (p *parser) value(prev []value) value {
	t := p.tok
	v := value{off: t.off, s: t.str, c: t.c}
	switch t.kind {
	case tInt:
		v.kind = vInt
	case tString:
		v.kind = vString
	case tAddrSet:
		v.kind = vAddrSet
		p.refs.addrSets = append(p.refs.addrSets, t.str)
	case tPortGroup:
		v.kind = vPortGroup
		p.refs.portGroups = append(p.refs.portGroups, t.str)
	case tTemplate:
		p.fail(t, "template %q: this check needs the match with templates expanded", p.text(t))
	default:
		p.fail(t, "expected a constant, got %s", p.describe(t))
	}
	if len(prev) > 0 && prev[0].isString() != v.isString() {
		p.fail(t, "%s in a set of %s", p.text(t), map[bool]string{false: "integers", true: "strings"}[prev[0].isString()])
	}
	p.advance()
	return v
}
