# Another tool's router with a port, a route and a NAT rule of its own.
ovn-nbctl lr-add other
ovn-nbctl lrp-add other other-up 00:00:00:00:09:00 192.0.2.1/24
ovn-nbctl lr-route-add other 0.0.0.0/0 192.0.2.254
ovn-nbctl lr-nat-add other snat 192.0.2.1 10.9.0.0/16
