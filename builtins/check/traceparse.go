package check

import (
	"fmt"
	"regexp"
	"strings"
)

// Reading `ovn-trace --summary`: a tree of pipelines, one block per
// logical datapath and direction, nested as the packet moves on:
//
//	ingress(dp="ls2", inport="h1_v0_vnet2") {
//	    outport = "ls2-lr1";
//	    output;
//	    egress(dp="ls2", inport="h1_v0_vnet2", outport="ls2-lr1") {
//	        /* output to "ls2-lr1", type "patch" */;
//	        ingress(dp="lr1", inport="lr1-ls2") {
//	            ...
//
// Other blocks (multicast groups, ct_next, arp, clone...) are looked
// through: the pipelines inside them belong to the enclosing one. Only
// what says where the packet goes is kept; the parser ignores the rest, so
// that a statement it does not know never breaks it.

// Pipeline is one pass of the packet through a logical datapath's ingress
// or egress pipeline.
type Pipeline struct {
	Datapath string
	Stage    string // "ingress" or "egress"
	InPort   string
	OutPort  string // egress only
	// Via is the chassis-redirect port the packet was sent to just before
	// this pipeline ("cr-lr1-ls3"): it runs on that port's chassis.
	Via string
	// NAT lists the address translations applied here: "snat 172.16.3.100",
	// "dnat 172.16.2.10", "lb backends=...".
	NAT []string
	// Outputs are the ports the packet is output to from this pipeline.
	Outputs []Output
	Dropped bool
	// ARP is set when the router has no MAC binding for the next hop: the
	// packet waits, and what follows is the ARP request it triggers.
	ARP bool
	// Children are the pipelines the packet goes through next, in order.
	Children []*Pipeline
}

// Output is a port a packet is output to, with its type in the southbound
// database: "patch" leads to another datapath, "" is a VM interface,
// "localnet" the physical network.
type Output struct {
	Port string
	Type string
}

var (
	pipelineRE = regexp.MustCompile(`^(ingress|egress)\((.*)\)$`)
	attrRE     = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
	outputRE   = regexp.MustCompile(`^/\* output to "((?:[^"\\]|\\.)*)", type "([^"]*)" \*/$`)
	redirectRE = regexp.MustCompile(`^/\* Replacing type "chassisredirect" outport "((?:[^"\\]|\\.)*)" with distributed port`)
	natRE      = regexp.MustCompile(`^ct_(snat|dnat)(?:_in_czone)?\((.+)\)$`)
	lbRE       = regexp.MustCompile(`^ct_lb(?:_mark)?\((.+)\)$`)
)

// maxTraceDepth bounds the nesting of blocks: real traces nest a few levels
// per datapath crossed, and the pipelines are walked recursively.
const maxTraceDepth = 1000

// ParseTraceSummary reads the output of `ovn-trace --summary` into the
// pipeline the packet enters first. An error names the line of the output
// it stopped at.
func ParseTraceSummary(out string) (*Pipeline, error) {
	var (
		root   *Pipeline
		stack  []*Pipeline // the pipeline each open block belongs to; nil outside any
		opened []int       // the line each open block starts at
		via    = map[*Pipeline]string{}
	)
	current := func() *Pipeline {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	lines := strings.Split(out, "\n")
	fail := func(n int, format string, args ...any) error {
		return fmt.Errorf("ovn-trace output line %d: "+format, append([]any{n}, args...)...)
	}
	for n, line := range lines {
		n++
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line == "}" || line == "};":
			if len(stack) == 0 {
				return nil, fail(n, "unbalanced }")
			}
			stack, opened = stack[:len(stack)-1], opened[:len(opened)-1]
			continue
		case strings.HasSuffix(line, "{"):
			if len(stack) == maxTraceDepth {
				return nil, fail(n, "blocks nested more than %d deep", maxTraceDepth)
			}
			opened = append(opened, n)
			header := strings.TrimSpace(strings.TrimSuffix(line, "{"))
			parent := current()
			m := pipelineRE.FindStringSubmatch(header)
			if m == nil { // a block looked through
				stack = append(stack, parent)
				continue
			}
			p := &Pipeline{Stage: m[1]}
			for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
				switch a[1] {
				case "dp":
					p.Datapath = a[2]
				case "inport":
					p.InPort = a[2]
				case "outport":
					p.OutPort = a[2]
				}
			}
			switch {
			case parent != nil:
				p.Via, via[parent] = via[parent], ""
				parent.Children = append(parent.Children, p)
			case root == nil:
				root = p
			default:
				return nil, fail(n, "a second top-level pipeline")
			}
			stack = append(stack, p)
			continue
		}
		p := current()
		if p == nil {
			continue
		}
		stmt := strings.TrimSpace(strings.TrimSuffix(line, ";"))
		if m := outputRE.FindStringSubmatch(stmt); m != nil {
			p.Outputs = append(p.Outputs, Output{Port: m[1], Type: m[2]})
		} else if m := redirectRE.FindStringSubmatch(stmt); m != nil {
			via[p] = m[1]
		} else if m := natRE.FindStringSubmatch(stmt); m != nil {
			p.NAT = append(p.NAT, m[1]+" "+m[2])
		} else if m := lbRE.FindStringSubmatch(stmt); m != nil {
			p.NAT = append(p.NAT, "lb "+m[1])
		} else if stmt == "drop" {
			p.Dropped = true
		} else if stmt == "/* No MAC binding. */" {
			p.ARP = true
		}
	}
	end := len(lines)
	if end > 1 && lines[end-1] == "" { // after the last newline
		end--
	}
	if len(stack) != 0 {
		return nil, fail(end, "the output ends inside %d open block(s), the outermost from line %d", len(stack), opened[0])
	}
	if root == nil {
		return nil, fail(end, "the output ends with no pipeline: %q", firstLine(out))
	}
	return root, nil
}

// Exits are the outputs of the trace that leave the logical network's
// datapaths: to VM interfaces, localnet ports and other non-patch ports,
// in the order the packet reaches them.
func (p *Pipeline) Exits() []Output {
	var out []Output
	p.walk(func(q *Pipeline) {
		for _, o := range q.Outputs {
			if o.Type != "patch" {
				out = append(out, o)
			}
		}
	})
	return out
}

// walk calls fn on p and every pipeline after it, depth first.
func (p *Pipeline) walk(fn func(*Pipeline)) {
	fn(p)
	for _, c := range p.Children {
		c.walk(fn)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
