# The NB shapes a runbook cannot declare, each as small as it comes: TestImportRoundTrip/edges
# imports the NB and expects exactly the differences of edges.known.diff.

# Two DHCP_Options rows for one CIDR (Neutron makes one per port): the second is dhcp(key=).
ovn-nbctl ls-add net -- set Logical_Switch net other_config:subnet=10.50.0.0/24
d=$(ovn-nbctl create DHCP_Options cidr=10.50.0.0/24 \
  options='"server_id"="10.50.0.1" "server_mac"="02:00:0a:50:00:01" "lease_time"="3600" "router"="10.50.0.1"')
pxe=$(ovn-nbctl create DHCP_Options cidr=10.50.0.0/24 \
  options='"server_id"="10.50.0.1" "server_mac"="02:00:0a:50:00:01" "lease_time"="600" "router"="10.50.0.1" "bootfile_name"="pxelinux.0"')
ovn-nbctl lsp-add net vm1 -- lsp-set-addresses vm1 "02:00:0a:50:00:11 10.50.0.11"
ovn-nbctl lsp-set-dhcpv4-options vm1 "$d"
ovn-nbctl lsp-add net vm2 -- lsp-set-addresses vm2 "02:00:0a:50:00:12 10.50.0.12"
ovn-nbctl lsp-set-dhcpv4-options vm2 "$d"
ovn-nbctl lsp-add net pxe1 -- lsp-set-addresses pxe1 "02:00:0a:50:00:21 10.50.0.21"
ovn-nbctl lsp-set-dhcpv4-options pxe1 "$pxe"

# Two routers peered both ways, and a third port on b whose peer does not name it back.
ovn-nbctl lr-add a -- lr-add b
ovn-nbctl lrp-add a a-b 02:00:0a:60:00:01 169.254.0.1/30 peer=b-a
ovn-nbctl lrp-add b b-a 02:00:0a:60:00:02 169.254.0.2/30 peer=a-b
ovn-nbctl lrp-add b b-stub 02:00:0a:60:00:09 169.254.9.1/30 peer=a-b

# One Copp row that a router and a switch both reference: row(on=) names one referrer.
ovn-nbctl meter-add arp-meter drop 200 pktps
copp=$(ovn-nbctl create Copp name=shared-copp meters:arp=arp-meter)
ovn-nbctl set Logical_Router a copp="$copp" -- set Logical_Switch net copp="$copp"
