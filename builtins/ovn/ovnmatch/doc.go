// Package ovnmatch parses the match of an OVN logical flow (the match
// column of ACL, Logical_Router_Policy and QoS) the way OVN 23.03 does, so a
// runbook's typo is refused when the runbook is evaluated rather than
// dropped by ovn-controller ("parsing expression failed") after apply.
//
// Parse accepts what OVN's expr_parse() (ovn-org/ovn lib/expr.c, lexer in
// lib/lex.c) accepts with the symbol table of fields.go: fields and their
// bit selections (reg0[0..15], ct.est), ==, !=, <, <=, >, >=, ranges
// (1 < tcp.dst < 100), sets {a, b} (commas optional), integers in decimal
// or hex, IPv4, IPv6 and Ethernet addresses, value/mask and CIDR prefixes,
// quoted port names, $address_set and @port_group references, !, && and ||
// (never mixed without parentheses), 1 and 0, and is_chassis_resident().
// It refuses what OVN refuses, with an *Error naming the byte offset and
// token: unknown fields (suggesting the closest name), a string compared
// with an integer field or the reverse, constants wider than the field,
// orderings on nominal fields (eth.type, ip.proto, inport), nominal
// predicates tested negatively (!ip4), "!=" on nominal fields, and so on.
//
// It also refuses what OVN accepts but cannot be meant: a constant wider
// than the bits selected (reg0[0..3] == 0xff, where OVN keeps the low
// bits), an address of another kind than the field's (ip6.src == 10.0.0.1),
// an ordering against an address set, and templates (^name), which
// ovn-controller expands before parsing and this package cannot.
//
// What it cannot check without the Northbound database: that address sets,
// port groups and ports exist (Expr lists them), and the values of address
// sets (ip4.src == $set_of_ipv6 is refused by OVN only when it is used).
//
// The package imports only the standard library.
package ovnmatch
