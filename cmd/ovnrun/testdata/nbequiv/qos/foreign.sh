# Another tool's QoS rule, meter, DNS row, static MAC binding and mirror on
# a switch and router of its own.
ovn-nbctl ls-add other
ovn-nbctl lsp-add other other-p1
ovn-nbctl qos-add other to-lport 10 ip4 rate=500
ovn-nbctl meter-add other-meter drop 10 pktps
d=$(ovn-nbctl create DNS records='"other.example.org"="10.9.0.5"')
ovn-nbctl add Logical_Switch other dns_records "$d"
ovn-nbctl lr-add other-r
ovn-nbctl lrp-add other-r other-r-p 00:00:00:00:09:00 10.9.0.1/24
ovn-nbctl static-mac-binding-add other-r-p 10.9.0.77 0a:00:00:00:09:77
ovn-nbctl mirror-add other-mirror erspan 7 to-lport 192.0.2.9
ovn-nbctl lsp-attach-mirror other-p1 other-mirror
