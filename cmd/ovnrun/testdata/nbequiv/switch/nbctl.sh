# Switches and their ports: subnet and exclude_ips for dynamic addresses,
# dynamic and static addresses, port security, a disabled port, a localnet
# port with a VLAN tag.
ovn-nbctl ls-add sw1
ovn-nbctl set Logical_Switch sw1 other_config:subnet=10.1.0.0/24 other_config:ipv6_prefix=2001:db8:1::0
ovn-nbctl set Logical_Switch sw1 'other_config:exclude_ips="10.1.0.1 10.1.0.10..10.1.0.20"'
ovn-nbctl lsp-add sw1 vm1
ovn-nbctl lsp-set-addresses vm1 "04:ac:10:00:00:01 dynamic"
ovn-nbctl lsp-add sw1 vm2
ovn-nbctl lsp-set-addresses vm2 "04:ac:10:00:00:02 10.1.0.50 2001:db8:1::50"
ovn-nbctl lsp-set-port-security vm2 "04:ac:10:00:00:02 10.1.0.50"
ovn-nbctl lsp-add sw1 vm3
ovn-nbctl lsp-set-addresses vm3 "04:ac:10:00:00:03 dynamic"
ovn-nbctl lsp-set-enabled vm3 disabled
ovn-nbctl lsp-add sw1 vm4
ovn-nbctl lsp-set-addresses vm4 04:ac:10:00:00:04
ovn-nbctl ls-add sw2
ovn-nbctl lsp-add sw2 sw2-physnet
ovn-nbctl lsp-set-type sw2-physnet localnet
ovn-nbctl lsp-set-addresses sw2-physnet unknown
ovn-nbctl lsp-set-options sw2-physnet network_name=physnet1
ovn-nbctl set Logical_Switch_Port sw2-physnet tag_request=100
