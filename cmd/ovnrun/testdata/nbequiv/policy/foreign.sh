# Another tool's router with a policy and a route watched by BFD.
ovn-nbctl lr-add other
ovn-nbctl lrp-add other other-up 00:00:00:00:09:00 192.0.2.1/24
ovn-nbctl lr-policy-add other 100 "ip4.src == 10.9.0.0/16" reroute 192.0.2.254
ovn-nbctl --bfd lr-route-add other 0.0.0.0/0 192.0.2.254 other-up
