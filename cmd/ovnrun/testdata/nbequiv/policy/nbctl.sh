# Router policies (reroute to one and to two next hops with pkt_mark, drop,
# allow), ECMP routes watched by BFD sessions that lr-route-add --bfd
# creates and reuses, and a tuned session made with create BFD.
ovn-nbctl ls-add ls1
ovn-nbctl lr-add lr1
ovn-nbctl lrp-add lr1 lr1-ls1 00:00:00:00:01:00 172.16.1.254/24
ovn-nbctl lsp-add ls1 ls1-lr1
ovn-nbctl lsp-set-type ls1-lr1 router
ovn-nbctl lsp-set-addresses ls1-lr1 00:00:00:00:01:00
ovn-nbctl lsp-set-options ls1-lr1 router-port=lr1-ls1
ovn-nbctl lrp-add lr1 lr1-up 00:00:00:00:03:00 172.16.3.254/24
ovn-nbctl lr-policy-add lr1 100 "ip4.src == 172.16.1.0/24 && ip4.dst == 10.0.0.0/8" reroute 172.16.3.1,172.16.3.2 pkt_mark=5
ovn-nbctl lr-policy-add lr1 90 "ip4.src == 172.16.1.10" reroute 172.16.3.1
ovn-nbctl lr-policy-add lr1 50 'inport == "lr1-ls1" && ip4.dst == 192.0.2.0/24' drop
ovn-nbctl lr-policy-add lr1 40 "ip4.dst == 192.0.2.1" allow
ovn-nbctl --bfd lr-route-add lr1 10.0.0.0/8 172.16.3.1 lr1-up
ovn-nbctl --ecmp --bfd lr-route-add lr1 10.0.0.0/8 172.16.3.2 lr1-up
ovn-nbctl --bfd lr-route-add lr1 10.1.0.0/16 172.16.3.1
b=$(ovn-nbctl create BFD logical_port=lr1-up dst_ip=172.16.3.3 min_tx=500 min_rx=0 detect_mult=3)
ovn-nbctl --bfd="$b" lr-route-add lr1 10.2.0.0/16 172.16.3.3
