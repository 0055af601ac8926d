# QoS rules (policing with a burst, marking, both), meters (one made by
# meter-add with a second band added by hand, one --fair), a DNS row on two
# switches, static MAC bindings on a router port, and a mirror attached to
# two ports.
ovn-nbctl ls-add ls1
ovn-nbctl ls-add ls2
ovn-nbctl lsp-add ls1 vm1
ovn-nbctl lsp-set-addresses vm1 "04:ac:10:ff:01:05 172.16.1.5"
ovn-nbctl lsp-add ls2 vm2
ovn-nbctl qos-add ls1 from-lport 100 'inport == "vm1"' rate=1000 burst=100 dscp=10
ovn-nbctl qos-add ls1 to-lport 200 'ip4.dst == 172.16.1.5' dscp=46
ovn-nbctl qos-add ls2 from-lport 50 ip4 rate=2000
ovn-nbctl meter-add m1 drop 1000 kbps 100
ovn-nbctl -- --id=@b create Meter_Band action=drop rate=5000 burst_size=500 -- add Meter m1 bands @b
ovn-nbctl --fair meter-add m2 drop 10 pktps
d=$(ovn-nbctl create DNS records='"vm1.example.org"="172.16.1.5" "vm2.example.org"="172.16.2.6 2001:db8::6"')
ovn-nbctl add Logical_Switch ls1 dns_records "$d"
ovn-nbctl add Logical_Switch ls2 dns_records "$d"
ovn-nbctl lr-add lr1
ovn-nbctl lrp-add lr1 lr1-ls1 00:00:00:00:01:00 172.16.1.254/24
ovn-nbctl static-mac-binding-add lr1-ls1 172.16.1.77 0a:00:00:00:00:77
ovn-nbctl static-mac-binding-add lr1-ls1 172.16.1.78 0a:00:00:00:00:78
s=$(ovn-nbctl --bare --columns=_uuid find Static_MAC_Binding ip=172.16.1.78)
ovn-nbctl set Static_MAC_Binding "$s" override_dynamic_mac=true
ovn-nbctl mirror-add mir1 gre 5 from-lport 192.0.2.1
ovn-nbctl lsp-attach-mirror vm1 mir1
ovn-nbctl lsp-attach-mirror vm2 mir1
