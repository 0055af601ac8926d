# DHCPv4 and DHCPv6 options, attached to ports, as the seed creates them.
ovn-nbctl ls-add ls1
ovn-nbctl set Logical_Switch ls1 other_config:subnet=172.16.1.0/24 other_config:ipv6_prefix=2001:db8:1::0
d4=$(ovn-nbctl create DHCP_Options cidr=172.16.1.0/24 options='"server_id"="172.16.1.254" "server_mac"="00:00:00:00:01:00" "lease_time"="36000" "router"="172.16.1.254" "dns_server"="{172.16.1.254, 172.16.1.253}" "mtu"="1400"')
d6=$(ovn-nbctl create DHCP_Options 'cidr="2001:db8:1::0/64"' options='"server_id"="00:00:00:00:01:00" "dns_server"="2001:db8:1::254"')
ovn-nbctl lsp-add ls1 vm1
ovn-nbctl lsp-set-addresses vm1 "04:ac:10:ff:01:94 dynamic"
ovn-nbctl lsp-set-dhcpv4-options vm1 "$d4"
ovn-nbctl lsp-set-dhcpv6-options vm1 "$d6"
ovn-nbctl lsp-add ls1 vm2
ovn-nbctl lsp-set-addresses vm2 "04:ac:10:ff:01:95 172.16.1.20 2001:db8:1::20"
ovn-nbctl lsp-set-dhcpv4-options vm2 "$d4"
# A second row for the same CIDR, as Neutron makes one per port with options of its own.
pxe=$(ovn-nbctl create DHCP_Options cidr=172.16.1.0/24 options='"server_id"="172.16.1.254" "server_mac"="00:00:00:00:01:00" "lease_time"="600" "bootfile_name"="pxelinux.0"')
ovn-nbctl lsp-add ls1 vm3
ovn-nbctl lsp-set-addresses vm3 "04:ac:10:ff:01:96 dynamic"
ovn-nbctl lsp-set-dhcpv4-options vm3 "$pxe"
