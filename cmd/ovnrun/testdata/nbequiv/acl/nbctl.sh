# A switch with three ports, a port group of two of them (then all three),
# address sets of each family, ACLs on the switch and on the port group whose
# matches name @pg, $as and the $pg_ip4 set ovn-northd makes, with logging,
# a label, apply-after-lb and a name without logging.
ovn-nbctl ls-add web
ovn-nbctl lsp-add web p1
ovn-nbctl lsp-set-addresses p1 "04:ac:10:ff:01:01 10.0.0.1"
ovn-nbctl lsp-add web p2
ovn-nbctl lsp-set-addresses p2 "04:ac:10:ff:01:02 10.0.0.2 2001:db8::2"
ovn-nbctl lsp-add web p3
ovn-nbctl lsp-set-addresses p3 "04:ac:10:ff:01:03 10.0.0.3"
ovn-nbctl pg-add pg_web p1 p2
ovn-nbctl pg-set-ports pg_web p1 p2 p3
ovn-nbctl pg-add pg_empty
ovn-nbctl create Address_Set name=allowed4 'addresses="10.0.0.0/8","192.0.2.1"'
ovn-nbctl create Address_Set name=allowed6 'addresses="2001:db8::/32"'
ovn-nbctl acl-add web to-lport 1001 'outport == @pg_web && ip4.src == $allowed4' allow-related
ovn-nbctl acl-add web to-lport 1000 'outport == "p1" && ip6.src == $allowed6' allow
ovn-nbctl acl-add web to-lport 0 1 drop
ovn-nbctl --log --name=deny-out --severity=alert --meter=acl-meter acl-add pg_web from-lport 900 'inport == @pg_web && ip4.dst == $pg_web_ip4' drop
ovn-nbctl --label=7 acl-add pg_web to-lport 1001 'outport == @pg_web && ip4.src == $allowed4' allow
ovn-nbctl --apply-after-lb acl-add pg_web from-lport 900 'inport == @pg_web && ip4.dst == $pg_web_ip4' allow-stateless
ovn-nbctl --type=port-group acl-add pg_empty to-lport 10 'outport == @pg_empty' reject
# A named ACL that does not log: --name turns logging on, so it is turned off afterwards.
ovn-nbctl --name=p2-in acl-add web to-lport 999 'outport == "p2"' allow-related
ovn-nbctl set ACL "$(ovn-nbctl --bare --columns=_uuid find ACL name=p2-in)" log=false
