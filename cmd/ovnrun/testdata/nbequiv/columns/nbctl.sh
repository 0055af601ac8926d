# Columns set by hand with ovn-nbctl that the builtins now take: container
# ports (parent and tag), "unknown" addresses, a router-to-router link
# (peer on both sides), gateway_mtu and ipv6_ra_configs, a stateless NAT on
# a chosen gateway port, routes with a route table, a src-ip policy,
# discard, ECMP, and external_ids.
ovn-nbctl ls-add ls1
ovn-nbctl set Logical_Switch ls1 other_config:subnet=10.0.0.0/24 external_ids:owner=lab
ovn-nbctl lsp-add ls1 vm
ovn-nbctl lsp-set-addresses vm "0a:00:00:00:00:01 10.0.0.5" unknown
ovn-nbctl lsp-add ls1 c1 vm 42
ovn-nbctl lsp-set-addresses c1 "0a:00:00:00:00:02 10.0.0.6"
ovn-nbctl lr-add r1
ovn-nbctl lr-add r2
ovn-nbctl lrp-add r1 r1-r2 0a:00:00:00:01:01 192.168.0.1/30 peer=r2-r1
ovn-nbctl lrp-add r2 r2-r1 0a:00:00:00:01:02 192.168.0.2/30 peer=r1-r2
ovn-nbctl set Logical_Router_Port r1-r2 options:gateway_mtu=1400 ipv6_ra_configs:address_mode=slaac
ovn-nbctl lrp-add r1 r1-ls1 0a:00:00:00:01:04 10.0.0.254/24
ovn-nbctl lsp-add ls1 ls1-r1
ovn-nbctl lsp-set-type ls1-r1 router
ovn-nbctl lsp-set-addresses ls1-r1 router
ovn-nbctl lsp-set-options ls1-r1 router-port=r1-ls1
ovn-nbctl lrp-add r1 r1-ext 0a:00:00:00:01:03 172.16.0.1/24
ovn-nbctl lrp-set-gateway-chassis r1-ext c1 5
ovn-nbctl --stateless --gateway-port=r1-ext lr-nat-add r1 dnat_and_snat 172.16.0.5 10.0.0.5
ovn-nbctl --route-table=rtb1 --policy=src-ip lr-route-add r1 10.9.0.0/16 discard
ovn-nbctl --ecmp lr-route-add r1 10.8.0.0/16 192.168.0.2
ovn-nbctl --ecmp lr-route-add r1 10.8.0.0/16 192.168.0.3
