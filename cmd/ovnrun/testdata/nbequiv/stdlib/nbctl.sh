# What the blocks of @stdlib//ovn.star stand for. gateway_router():
ovn-nbctl lr-add gw
ovn-nbctl set Logical_Router gw options:chassis=chassis-a
ovn-nbctl ls-add ext
ovn-nbctl lrp-add gw gw-ext 00:00:00:00:09:00 172.16.9.1/24
ovn-nbctl lsp-add ext ext-gw
ovn-nbctl lsp-set-type ext-gw router
ovn-nbctl lsp-set-addresses ext-gw 00:00:00:00:09:00
ovn-nbctl lsp-set-options ext-gw router-port=gw-ext
ovn-nbctl lsp-add ext ext-localnet
ovn-nbctl lsp-set-type ext-localnet localnet
ovn-nbctl lsp-set-addresses ext-localnet unknown
ovn-nbctl lsp-set-options ext-localnet network_name=physnet1
ovn-nbctl lr-nat-add gw snat 172.16.9.1 10.0.1.0/24
ovn-nbctl lr-nat-add gw dnat_and_snat 172.16.9.10 10.0.1.11
# dual_stack_switch(), with dhcp_for()'s options:
ovn-nbctl ls-add ls-web
ovn-nbctl set Logical_Switch ls-web other_config:subnet=10.0.1.0/24 other_config:ipv6_prefix=2001:db8:1::
ovn-nbctl lrp-add gw gw-ls-web 00:00:00:00:01:00 10.0.1.254/24 2001:db8:1::1/64
ovn-nbctl lsp-add ls-web ls-web-gw
ovn-nbctl lsp-set-type ls-web-gw router
ovn-nbctl lsp-set-addresses ls-web-gw 00:00:00:00:01:00
ovn-nbctl lsp-set-options ls-web-gw router-port=gw-ls-web
ovn-nbctl create DHCP_Options cidr=10.0.1.0/24 options='"server_id"="10.0.1.254" "server_mac"="00:00:00:00:01:00" "lease_time"="36000" "router"="10.0.1.254" "dns_server"="10.0.1.254"'
ovn-nbctl create DHCP_Options 'cidr="2001:db8:1::/64"' options='"server_id"="00:00:00:00:01:00" "dns_server"="2001:db8:1::254"'
# The backends, then web_tier():
ovn-nbctl lsp-add ls-web web1
ovn-nbctl lsp-set-addresses web1 "0a:00:00:00:01:11 10.0.1.11"
ovn-nbctl lsp-add ls-web web2
ovn-nbctl lsp-set-addresses web2 "0a:00:00:00:01:12 10.0.1.12"
ovn-nbctl lb-add web-vip 10.0.0.100:80 10.0.1.11:80,10.0.1.12:80 tcp
ovn-nbctl lr-lb-add gw web-vip
ovn-nbctl create Address_Set name=web_allowed addresses=10.0.2.10
ovn-nbctl pg-add web web1 web2
ovn-nbctl acl-add web to-lport 1002 'outport == @web && ip4.src == $web_allowed && tcp.dst == 80' allow-related
ovn-nbctl acl-add web to-lport 1001 'outport == @web && ip4' drop
# distributed_gateway() on two chassis, the first preferred:
ovn-nbctl lr-add r1
ovn-nbctl ls-add out1
ovn-nbctl lrp-add r1 r1-out1 00:00:00:00:0a:00 172.16.10.1/24
ovn-nbctl lsp-add out1 out1-r1
ovn-nbctl lsp-set-type out1-r1 router
ovn-nbctl lsp-set-addresses out1-r1 00:00:00:00:0a:00
ovn-nbctl lsp-set-options out1-r1 router-port=r1-out1
ovn-nbctl lsp-add out1 out1-localnet
ovn-nbctl lsp-set-type out1-localnet localnet
ovn-nbctl lsp-set-addresses out1-localnet unknown
ovn-nbctl lsp-set-options out1-localnet network_name=physnet1
ovn-nbctl lrp-set-gateway-chassis r1-out1 chassis-a 1
ovn-nbctl lrp-set-gateway-chassis r1-out1 chassis-b 0
# ha_gateway():
ovn-nbctl ha-chassis-group-add grp
ovn-nbctl ha-chassis-group-add-chassis grp chassis-a 20
ovn-nbctl ha-chassis-group-add-chassis grp chassis-b 10
g=$(ovn-nbctl --bare --columns=_uuid find HA_Chassis_Group name=grp)
ovn-nbctl ls-add out2
ovn-nbctl lrp-add r1 r1-out2 00:00:00:00:0b:00 172.16.11.1/24
ovn-nbctl set Logical_Router_Port r1-out2 ha_chassis_group="$g"
ovn-nbctl lsp-add out2 out2-r1
ovn-nbctl lsp-set-type out2-r1 router
ovn-nbctl lsp-set-addresses out2-r1 00:00:00:00:0b:00
ovn-nbctl lsp-set-options out2-r1 router-port=r1-out2
