# A router linked to two switches (router-type peer ports), a distributed
# gateway port on two chassis with priorities, static routes (one with an
# output port), NAT (snat, and distributed dnat_and_snat with logical_port
# and external_mac), and a gateway router pinned to a chassis.
ovn-nbctl ls-add ls1
ovn-nbctl ls-add ext
ovn-nbctl lr-add lr1
ovn-nbctl lrp-add lr1 lr1-ls1 00:00:00:00:01:00 172.16.1.254/24
ovn-nbctl lsp-add ls1 ls1-lr1
ovn-nbctl lsp-set-type ls1-lr1 router
ovn-nbctl lsp-set-addresses ls1-lr1 00:00:00:00:01:00
ovn-nbctl lsp-set-options ls1-lr1 router-port=lr1-ls1
ovn-nbctl lrp-add lr1 lr1-ext 00:00:00:00:03:00 172.16.3.254/24
ovn-nbctl lsp-add ext ext-lr1
ovn-nbctl lsp-set-type ext-lr1 router
ovn-nbctl lsp-set-addresses ext-lr1 router
ovn-nbctl lsp-set-options ext-lr1 router-port=lr1-ext
ovn-nbctl lsp-add ext ext-physnet
ovn-nbctl lsp-set-type ext-physnet localnet
ovn-nbctl lsp-set-addresses ext-physnet unknown
ovn-nbctl lsp-set-options ext-physnet network_name=physnet1
ovn-nbctl lrp-set-gateway-chassis lr1-ext chassis-a 20
ovn-nbctl lrp-set-gateway-chassis lr1-ext chassis-b 10
ovn-nbctl lr-route-add lr1 10.0.0.0/8 172.16.3.1
ovn-nbctl lr-route-add lr1 192.168.0.0/16 172.16.1.1 lr1-ls1
ovn-nbctl lsp-add ls1 vm1
ovn-nbctl lsp-set-addresses vm1 "04:ac:10:ff:01:05 172.16.1.5"
ovn-nbctl lr-nat-add lr1 snat 172.16.3.10 172.16.1.0/24
ovn-nbctl lr-nat-add lr1 dnat_and_snat 172.16.3.11 172.16.1.5 vm1 f0:00:00:00:00:01
ovn-nbctl lr-add gw1
ovn-nbctl set Logical_Router gw1 options:chassis=chassis-c
ovn-nbctl lrp-add gw1 gw1-ext 00:00:00:00:04:00 172.16.3.253/24
ovn-nbctl lsp-add ext ext-gw1
ovn-nbctl lsp-set-type ext-gw1 router
ovn-nbctl lsp-set-addresses ext-gw1 00:00:00:00:04:00
ovn-nbctl lsp-set-options ext-gw1 router-port=gw1-ext
