# Another tool's meter (the ACL logs below name it: meter() is not a builtin
# yet), and its own switch, port group, address set and ACLs, which destroy
# must leave alone.
ovn-nbctl meter-add acl-meter drop 10 pktps
ovn-nbctl ls-add other -- lsp-add other other-p1
ovn-nbctl lsp-set-addresses other-p1 "04:ac:10:ff:09:01 10.9.0.1"
ovn-nbctl pg-add other_pg other-p1
ovn-nbctl create Address_Set name=other_as addresses=10.9.0.0/24
ovn-nbctl acl-add other to-lport 100 'ip4.src == $other_as' allow
ovn-nbctl acl-add other_pg from-lport 100 'inport == @other_pg' drop
