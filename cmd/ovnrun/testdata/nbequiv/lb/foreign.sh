# Another tool's load balancer on its own switch, which destroy must leave alone.
ovn-nbctl ls-add other
ovn-nbctl lb-add other-lb 192.0.2.10:80 10.9.0.2:80
ovn-nbctl ls-lb-add other other-lb
