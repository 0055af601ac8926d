package ovnmatch

// The symbol table of OVN 23.03's logical-flow expressions, as data.
//
// It follows ovn_init_symtab() in ovn-org/ovn lib/logical-fields.c (tag
// v23.03.1), with the bit numbers of include/ovn/logical-fields.h and the
// widths and maskability of the OpenFlow fields in openvswitch/ovs
// include/openvswitch/meta-flow.h (v3.1.0): a field OVS can mask bit by bit
// is ordinal, any other is nominal. Subfields take their parent's level; a
// predicate is nominal when its expansion compares a nominal field, Boolean
// otherwise (expr_symtab_add_predicate). TestSymtabConsistent parses every
// expansion below with this package to check widths and levels.
//
// MFF_N_LOG_REGS is 10 in 23.03: reg0-reg9, xreg0-xreg4, xxreg0-xxreg1.

// level is how a symbol may be compared (OVN's enum expr_level).
type level uint8

const (
	nominal level = iota // only ==, and only positively: eth.type, ip.proto, inport
	boolean              // ==, != but no ordering: predicates over maskable fields
	ordinal              // all relational operators: addresses, ports, registers
)

func (l level) String() string {
	return [...]string{"nominal", "Boolean", "ordinal"}[l]
}

// symbol is one name of the table.
type symbol struct {
	name  string
	width int // bits; 0 for a string field (inport, outport)
	level level
	// def is the OpenFlow field (MFF_...), the parent subfield
	// ("ct_state[1]") or the predicate's expansion ("eth.type == 0x800").
	def  string
	kind symbolKind
}

type symbolKind uint8

const (
	kField symbolKind = iota
	kSubfield
	kPredicate
	kString
)

func fld(name string, width int, l level, mff string) symbol {
	return symbol{name, width, l, mff, kField}
}
func sub(name string, width int, parent string) symbol {
	return symbol{name, width, ordinal, parent, kSubfield}
}
func pred(name string, l level, expansion string) symbol {
	return symbol{name, 1, l, expansion, kPredicate}
}

// symtab lists every symbol in ovn_init_symtab()'s order.
var symtab = []symbol{
	{"inport", 0, nominal, "MFF_LOG_INPORT", kString},
	{"outport", 0, nominal, "MFF_LOG_OUTPORT", kString},

	fld("xxreg0", 128, ordinal, "MFF_XXREG0"),
	fld("xxreg1", 128, ordinal, "MFF_XXREG1"),
	sub("xreg0", 64, "xxreg0[64..127]"),
	sub("xreg1", 64, "xxreg0[0..63]"),
	sub("xreg2", 64, "xxreg1[64..127]"),
	sub("xreg3", 64, "xxreg1[0..63]"),
	fld("xreg4", 64, ordinal, "MFF_XREG4"),
	sub("reg0", 32, "xxreg0[96..127]"),
	sub("reg1", 32, "xxreg0[64..95]"),
	sub("reg2", 32, "xxreg0[32..63]"),
	sub("reg3", 32, "xxreg0[0..31]"),
	sub("reg4", 32, "xxreg1[96..127]"),
	sub("reg5", 32, "xxreg1[64..95]"),
	sub("reg6", 32, "xxreg1[32..63]"),
	sub("reg7", 32, "xxreg1[0..31]"),
	sub("reg8", 32, "xreg4[32..63]"),
	sub("reg9", 32, "xreg4[0..31]"),

	fld("flags", 32, ordinal, "MFF_LOG_FLAGS"),
	sub("flags.loopback", 1, "flags[0]"),
	sub("flags.force_snat_for_dnat", 1, "flags[2]"),
	sub("flags.force_snat_for_lb", 1, "flags[3]"),
	sub("flags.skip_snat_for_lb", 1, "flags[9]"),
	sub("flags.use_snat_zone", 1, "flags[11]"),

	fld("ct_mark", 32, ordinal, "MFF_CT_MARK"),
	sub("ct_mark.blocked", 1, "ct_mark[0]"),
	sub("ct_mark.natted", 1, "ct_mark[1]"),
	sub("ct_mark.ecmp_reply_port", 16, "ct_mark[16..31]"),
	sub("ct_mark.skip_snat", 1, "ct_mark[2]"),
	sub("ct_mark.force_snat", 1, "ct_mark[3]"),
	fld("ct_label", 128, ordinal, "MFF_CT_LABEL"),
	sub("ct_label.blocked", 1, "ct_label[0]"),
	sub("ct_label.natted", 1, "ct_label[1]"),
	sub("ct_label.ecmp_reply_eth", 48, "ct_label[32..79]"),
	sub("ct_label.ecmp_reply_port", 16, "ct_label[80..95]"),
	sub("ct_label.label", 32, "ct_label[96..127]"),
	sub("ct_label.skip_snat", 1, "ct_label[2]"),
	sub("ct_label.force_snat", 1, "ct_label[3]"),
	fld("ct_state", 32, ordinal, "MFF_CT_STATE"),
	sub("ct.new", 1, "ct_state[0]"),
	sub("ct.est", 1, "ct_state[1]"),
	sub("ct.rel", 1, "ct_state[2]"),
	sub("ct.rpl", 1, "ct_state[3]"),
	sub("ct.inv", 1, "ct_state[4]"),
	sub("ct.trk", 1, "ct_state[5]"),
	sub("ct.snat", 1, "ct_state[6]"),
	sub("ct.dnat", 1, "ct_state[7]"),

	fld("eth.src", 48, ordinal, "MFF_ETH_SRC"),
	fld("eth.dst", 48, ordinal, "MFF_ETH_DST"),
	fld("eth.type", 16, nominal, "MFF_ETH_TYPE"),
	pred("eth.bcast", boolean, "eth.dst == ff:ff:ff:ff:ff:ff"),
	sub("eth.mcast", 1, "eth.dst[40]"),
	pred("eth.mcastv6", boolean, "eth.dst[32..47] == 0x3333"),

	fld("vlan.tci", 16, ordinal, "MFF_VLAN_TCI"),
	pred("vlan.present", boolean, "vlan.tci[12]"),
	sub("vlan.pcp", 3, "vlan.tci[13..15]"),
	sub("vlan.vid", 12, "vlan.tci[0..11]"),

	pred("ip4", nominal, "eth.type == 0x800"),
	pred("ip6", nominal, "eth.type == 0x86dd"),
	pred("ip", nominal, "ip4 || ip6"),
	fld("ip.proto", 8, nominal, "MFF_IP_PROTO"),
	fld("ip.dscp", 6, nominal, "MFF_IP_DSCP_SHIFTED"),
	fld("ip.ecn", 2, nominal, "MFF_IP_ECN"),
	fld("ip.ttl", 8, nominal, "MFF_IP_TTL"),

	fld("ip4.src", 32, ordinal, "MFF_IPV4_SRC"),
	fld("ip4.dst", 32, ordinal, "MFF_IPV4_DST"),
	pred("ip4.src_mcast", boolean, "ip4.src[28..31] == 0xe"),
	pred("ip4.mcast", boolean, "eth.mcast && ip4.dst[28..31] == 0xe"),

	pred("icmp4", nominal, "ip4 && ip.proto == 1"),
	fld("icmp4.type", 8, nominal, "MFF_ICMPV4_TYPE"),
	fld("icmp4.code", 8, nominal, "MFF_ICMPV4_CODE"),
	pred("igmp", nominal, "ip4 && ip.proto == 2"),

	fld("ip6.src", 128, ordinal, "MFF_IPV6_SRC"),
	fld("ip6.dst", 128, ordinal, "MFF_IPV6_DST"),
	fld("ip6.label", 20, ordinal, "MFF_IPV6_LABEL"),
	pred("ip6.mcast_rsvd", boolean, "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0"),
	pred("ip6.mcast_all_nodes", boolean, "ip6.dst == ff01::1 || ip6.dst == ff02::1"),
	pred("ip6.mcast_all_rtrs", boolean, "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2"),
	pred("ip6.mcast_sol_node", boolean, "ip6.dst == ff02::1:ff00:0000/104"),
	pred("ip6.mcast_flood", boolean, "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)"),
	pred("ip6.mcast", boolean, "eth.mcastv6 && ip6.dst[120..127] == 0xff"),

	pred("icmp6", nominal, "ip6 && ip.proto == 58"),
	fld("icmp6.type", 8, nominal, "MFF_ICMPV6_TYPE"),
	fld("icmp6.code", 8, nominal, "MFF_ICMPV6_CODE"),
	pred("icmp", nominal, "icmp4 || icmp6"),

	fld("ip.frag", 2, ordinal, "MFF_IP_FRAG"),
	pred("ip.is_frag", boolean, "ip.frag[0]"),
	pred("ip.later_frag", boolean, "ip.frag[1]"),
	pred("ip.first_frag", boolean, "ip.is_frag && !ip.later_frag"),

	pred("arp", nominal, "eth.type == 0x806"),
	fld("arp.op", 16, nominal, "MFF_ARP_OP"),
	fld("arp.spa", 32, ordinal, "MFF_ARP_SPA"),
	fld("arp.sha", 48, ordinal, "MFF_ARP_SHA"),
	fld("arp.tpa", 32, ordinal, "MFF_ARP_TPA"),
	fld("arp.tha", 48, ordinal, "MFF_ARP_THA"),
	pred("rarp", nominal, "eth.type == 0x8035"),
	fld("rarp.op", 16, nominal, "MFF_ARP_OP"),
	fld("rarp.spa", 32, ordinal, "MFF_ARP_SPA"),
	fld("rarp.sha", 48, ordinal, "MFF_ARP_SHA"),
	fld("rarp.tpa", 32, ordinal, "MFF_ARP_TPA"),
	fld("rarp.tha", 48, ordinal, "MFF_ARP_THA"),

	pred("nd", nominal, "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255"),
	pred("nd_ns", nominal, "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255"),
	pred("nd_na", nominal, "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255"),
	pred("nd_rs", nominal, "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255"),
	pred("nd_ra", nominal, "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255"),
	fld("nd.target", 128, ordinal, "MFF_ND_TARGET"),
	fld("nd.sll", 48, ordinal, "MFF_ND_SLL"),
	fld("nd.tll", 48, ordinal, "MFF_ND_TLL"),
	pred("mldv1", nominal, "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}"),
	pred("mldv2", nominal, "ip6.dst == ff02::16 && icmp6.type == 143"),

	pred("tcp", nominal, "ip.proto == 6"),
	fld("tcp.src", 16, ordinal, "MFF_TCP_SRC"),
	fld("tcp.dst", 16, ordinal, "MFF_TCP_DST"),
	fld("tcp.flags", 12, ordinal, "MFF_TCP_FLAGS"),
	pred("udp", nominal, "ip.proto == 17"),
	fld("udp.src", 16, ordinal, "MFF_UDP_SRC"),
	fld("udp.dst", 16, ordinal, "MFF_UDP_DST"),
	pred("sctp", nominal, "ip.proto == 132"),
	fld("sctp.src", 16, ordinal, "MFF_SCTP_SRC"),
	fld("sctp.dst", 16, ordinal, "MFF_SCTP_DST"),

	fld("pkt.mark", 32, ordinal, "MFF_PKT_MARK"),
	// OVN's own fields (expr_symtab_add_ovn_field): always nominal.
	fld("icmp4.frag_mtu", 16, nominal, "OVN_ICMP4_FRAG_MTU"),
	fld("icmp6.frag_mtu", 32, nominal, "OVN_ICMP6_FRAG_MTU"),
}

// symbols indexes symtab by name.
var symbols = func() map[string]*symbol {
	m := make(map[string]*symbol, len(symtab))
	for i := range symtab {
		m[symtab[i].name] = &symtab[i]
	}
	return m
}()
