# A load balancer with IPv4 and IPv6 VIPs, with and without ports, on two
# switches and a gateway router, with selection fields, a health check and
# the ip_port_mappings it needs; a udp load balancer in a group that is on a
# switch and the router (ovn-nbctl 23.03 has no lb-group commands).
ovn-nbctl ls-add sw1
ovn-nbctl ls-add sw2
ovn-nbctl lsp-add sw1 sw1-p1
ovn-nbctl lsp-set-addresses sw1-p1 "04:ac:10:00:00:02 10.0.0.2"
ovn-nbctl lr-add gw1
ovn-nbctl set Logical_Router gw1 options:chassis=chassis-1
ovn-nbctl lb-add web 172.16.0.10:80 10.0.0.2:8080,10.0.0.3:8080
ovn-nbctl lb-add web 172.16.0.11 10.0.0.2,10.0.0.3
ovn-nbctl lb-add web [fd00::10]:80 [fd00::2]:8080,[fd00::3]:8080
ovn-nbctl ls-lb-add sw1 web
ovn-nbctl ls-lb-add sw2 web
ovn-nbctl lr-lb-add gw1 web
ovn-nbctl set Load_Balancer web 'ip_port_mappings:"10.0.0.2"="sw1-p1:10.0.0.254"' selection_fields=ip_src,ip_dst
ovn-nbctl --id=@hc create Load_Balancer_Health_Check 'vip="172.16.0.10:80"' options:interval=5 options:timeout=20 -- add Load_Balancer web health_check @hc
ovn-nbctl lb-add dns 172.16.0.53:53 10.0.0.5:53,10.0.0.6:53 udp
dns=$(ovn-nbctl --bare --columns=_uuid find Load_Balancer name=dns)
g=$(ovn-nbctl create Load_Balancer_Group name=g1 load_balancer="$dns")
ovn-nbctl add Logical_Switch sw2 load_balancer_group "$g"
ovn-nbctl add Logical_Router gw1 load_balancer_group "$g"
