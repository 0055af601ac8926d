# A long ovn-nbctl script as a lab engineer writes one: every family of the whole-Northbound
# issue, in the order a lab grows rather than table by table, with shell variables, row UUIDs
# captured from create, and the generic set/add/create commands beside the typed ones.
# Only shapes a runbook can declare: TestImportRoundTrip/mixed imports the NB it builds and
# expects the same rows and logical flow counts back (edges.sh holds the shapes it cannot).
# Chassis are plain names.

# Meters first: ACL logging and CoPP name them.
ovn-nbctl meter-add acl-meter drop 100 pktps 10
ovn-nbctl -- --id=@b create Meter_Band action=drop rate=500 burst_size=50 -- add Meter acl-meter bands @b
ovn-nbctl --fair meter-add arp-meter drop 200 pktps
ovn-nbctl meter-add svc-meter drop 1000 kbps

# Tenant switch: subnet with excluded addresses, dual stack, DHCP for both families.
ovn-nbctl ls-add tenant -- set Logical_Switch tenant other_config:subnet=10.10.0.0/24 \
  other_config:ipv6_prefix=fd10:: 'other_config:exclude_ips="10.10.0.1 10.10.0.200..10.10.0.250"'
d4=$(ovn-nbctl create DHCP_Options cidr=10.10.0.0/24 \
  options='"server_id"="10.10.0.1" "server_mac"="02:00:0a:10:00:01" "lease_time"="3600" "router"="10.10.0.1" "dns_server"="{10.10.0.1, 192.0.2.53}"')
d6=$(ovn-nbctl create DHCP_Options 'cidr="fd10::/64"' options='"server_id"="02:00:0a:10:00:01" "dns_server"="fd10::1"')
for i in 1 2 3; do
  ovn-nbctl lsp-add tenant vm$i
  ovn-nbctl lsp-set-addresses vm$i "02:00:0a:10:00:1$i 10.10.0.1$i fd10::1$i"
  ovn-nbctl lsp-set-port-security vm$i "02:00:0a:10:00:1$i 10.10.0.1$i fd10::1$i"
  ovn-nbctl lsp-set-dhcpv4-options vm$i "$d4"
  ovn-nbctl lsp-set-dhcpv6-options vm$i "$d6"
done
ovn-nbctl lsp-add tenant pxe1 -- lsp-set-addresses pxe1 "02:00:0a:10:00:21 dynamic"
ovn-nbctl lsp-set-dhcpv4-options pxe1 "$d4"
ovn-nbctl lsp-add tenant dyn1 -- lsp-set-addresses dyn1 "02:00:0a:10:00:31 dynamic"
ovn-nbctl lsp-set-enabled dyn1 disabled
# Containers on vm1: parent and tag.
ovn-nbctl lsp-add tenant c1 vm1 101
ovn-nbctl lsp-set-addresses c1 "02:00:0a:10:01:01 10.10.0.101"
ovn-nbctl lsp-add tenant c2 vm1 102
ovn-nbctl lsp-set-addresses c2 "02:00:0a:10:01:02 10.10.0.102"
# A virtual port whose address vm2 or vm3 may claim.
ovn-nbctl lsp-add tenant vip1
ovn-nbctl lsp-set-type vip1 virtual
ovn-nbctl lsp-set-addresses vip1 "02:00:0a:10:00:99 10.10.0.99"
ovn-nbctl lsp-set-options vip1 virtual-ip=10.10.0.99 virtual-parents=vm2,vm3
# A port nobody binds yet, and one left to the unknown-address flood.
ovn-nbctl lsp-add tenant spare
ovn-nbctl lsp-add tenant flood -- lsp-set-addresses flood unknown

# HA chassis group for the external ports and the provider router port.
ovn-nbctl ha-chassis-group-add ext-ha
ovn-nbctl ha-chassis-group-add-chassis ext-ha gw-a 30
ovn-nbctl ha-chassis-group-add-chassis ext-ha gw-b 20
ha=$(ovn-nbctl --bare --columns=_uuid find HA_Chassis_Group name=ext-ha)

# Provider switch: localnet with a VLAN, an external (bare metal) port on the HA group.
ovn-nbctl ls-add provider
ovn-nbctl set Logical_Switch provider other_config:subnet=192.0.2.0/24
ovn-nbctl lsp-add provider provider-physnet
ovn-nbctl lsp-set-type provider-physnet localnet
ovn-nbctl lsp-set-addresses provider-physnet unknown
ovn-nbctl lsp-set-options provider-physnet network_name=physnet1
ovn-nbctl set Logical_Switch_Port provider-physnet tag_request=200
ovn-nbctl lsp-add provider bm1
ovn-nbctl lsp-set-type bm1 external
ovn-nbctl lsp-set-addresses bm1 "02:00:0a:20:00:05 192.0.2.5"
ovn-nbctl set Logical_Switch_Port bm1 ha_chassis_group="$ha"

# The edge router: tenant and provider links, a distributed gateway port with two chassis.
ovn-nbctl lr-add edge
ovn-nbctl lrp-add edge edge-tenant 02:00:0a:10:00:01 10.10.0.1/24 fd10::1/64
ovn-nbctl set Logical_Router_Port edge-tenant ipv6_ra_configs:address_mode=dhcpv6_stateful ipv6_ra_configs:send_periodic=true
ovn-nbctl lsp-add tenant tenant-edge
ovn-nbctl lsp-set-type tenant-edge router
ovn-nbctl lsp-set-addresses tenant-edge router
ovn-nbctl lsp-set-options tenant-edge router-port=edge-tenant
ovn-nbctl lrp-add edge edge-provider 02:00:0a:20:00:01 192.0.2.1/24
ovn-nbctl lsp-add provider provider-edge -- lsp-set-type provider-edge router \
  -- lsp-set-addresses provider-edge 02:00:0a:20:00:01 -- lsp-set-options provider-edge router-port=edge-provider
ovn-nbctl lrp-set-gateway-chassis edge-provider gw-a 20
ovn-nbctl lrp-set-gateway-chassis edge-provider gw-b 10

# NAT through the gateway port.
ovn-nbctl lr-nat-add edge snat 192.0.2.1 10.10.0.0/24
ovn-nbctl lr-nat-add edge dnat 192.0.2.80 10.10.0.11
ovn-nbctl lr-nat-add edge dnat_and_snat 192.0.2.12 10.10.0.12 vm2 02:00:0a:20:01:12
ovn-nbctl --stateless lr-nat-add edge dnat_and_snat 192.0.2.13 10.10.0.13

# A transit router linked to edge, routes with ECMP, BFD, a route table, policies.
ovn-nbctl lr-add transit
ovn-nbctl lrp-add edge edge-transit 02:00:0a:30:00:01 169.254.0.1/29 peer=transit-edge
ovn-nbctl lrp-add transit transit-edge 02:00:0a:30:00:02 169.254.0.2/29 peer=edge-transit
ovn-nbctl lr-route-add edge 0.0.0.0/0 192.0.2.254
ovn-nbctl --ecmp lr-route-add edge 10.20.0.0/16 169.254.0.2
ovn-nbctl --ecmp lr-route-add edge 10.20.0.0/16 169.254.0.3 edge-transit
ovn-nbctl --bfd lr-route-add transit 10.10.0.0/24 169.254.0.1 transit-edge
b=$(ovn-nbctl create BFD logical_port=transit-edge dst_ip=169.254.0.5 min_tx=300 min_rx=300 detect_mult=5)
ovn-nbctl --bfd="$b" lr-route-add transit 10.30.0.0/16 169.254.0.5
ovn-nbctl --route-table=blue lr-route-add transit 10.40.0.0/16 169.254.0.1
ovn-nbctl --policy=src-ip lr-route-add edge 10.10.0.128/25 192.0.2.253
ovn-nbctl set Logical_Router_Port transit-edge options:route_table=blue
ovn-nbctl lr-policy-add edge 1000 "ip4.src == 10.10.0.0/24 && ip4.dst == 10.20.0.0/16" reroute 169.254.0.2
ovn-nbctl lr-policy-add edge 900 "ip4.dst == 198.51.100.0/24" drop
ovn-nbctl lr-policy-add edge 800 "ip4.src == 10.10.0.13" allow pkt_mark=13
ovn-nbctl static-mac-binding-add edge-provider 192.0.2.250 02:00:0a:20:00:fa

# An L3 gateway router on one chassis, for the services network.
ovn-nbctl lr-add svc-gw -- set Logical_Router svc-gw options:chassis=gw-a
ovn-nbctl ls-add svc
ovn-nbctl lrp-add svc-gw svc-gw-svc 02:00:0a:40:00:01 10.40.0.1/24
ovn-nbctl lsp-add svc svc-svc-gw -- lsp-set-type svc-svc-gw router -- lsp-set-addresses svc-svc-gw router \
  -- lsp-set-options svc-svc-gw router-port=svc-gw-svc
ovn-nbctl lsp-add svc web1 -- lsp-set-addresses web1 "02:00:0a:40:00:11 10.40.0.11"
ovn-nbctl lsp-add svc web2 -- lsp-set-addresses web2 "02:00:0a:40:00:12 10.40.0.12"
ovn-nbctl lsp-add svc dns1 -- lsp-set-addresses dns1 "02:00:0a:40:00:35 10.40.0.35"

# Address sets, port groups, ACLs on a switch and on a port group.
ovn-nbctl create Address_Set name=mgmt 'addresses="192.0.2.0/28","198.51.100.7"'
ovn-nbctl create Address_Set name=mgmt6 'addresses="2001:db8:ff::/48"'
ovn-nbctl pg-add pg_web web1 web2
ovn-nbctl pg-add pg_tenant vm1 vm2 vm3
ovn-nbctl acl-add svc to-lport 1000 'outport == "dns1" && udp.dst == 53' allow-related
ovn-nbctl acl-add svc to-lport 0 1 drop
ovn-nbctl --log --name=web-deny --severity=warning --meter=acl-meter acl-add pg_web to-lport 900 'outport == @pg_web && ip4' drop
ovn-nbctl --name=web-in acl-add pg_web to-lport 1000 'outport == @pg_web && tcp.dst == 80 && ip4.src == $mgmt' allow-related
# ovn-nbctl --name turns logging on; a named ACL that does not log is set so afterwards.
acl=$(ovn-nbctl --bare --columns=_uuid find ACL name=web-in)
ovn-nbctl set ACL "$acl" log=false
ovn-nbctl --apply-after-lb acl-add pg_tenant from-lport 500 'inport == @pg_tenant && ip6.dst == $mgmt6' allow-stateless
ovn-nbctl --label=42 acl-add pg_tenant from-lport 400 'inport == @pg_tenant && ip4.dst == $pg_web_ip4' allow

# Load balancers: TCP with a health check and a port mapping, UDP in a group.
ovn-nbctl lb-add web-lb 10.40.0.100:80 10.40.0.11:80,10.40.0.12:80
ovn-nbctl lb-add web-lb '[fd40::100]:80' '[fd40::11]:80,[fd40::12]:80'
ovn-nbctl set Load_Balancer web-lb 'ip_port_mappings:"10.40.0.11"="web1:10.40.0.2"' \
  'ip_port_mappings:"10.40.0.12"="web2:10.40.0.2"' selection_fields=ip_src,tp_src
ovn-nbctl --id=@hc create Load_Balancer_Health_Check 'vip="10.40.0.100:80"' options:interval=10 \
  options:timeout=5 options:success_count=3 options:failure_count=3 -- add Load_Balancer web-lb health_check @hc
ovn-nbctl ls-lb-add svc web-lb
ovn-nbctl lr-lb-add svc-gw web-lb
ovn-nbctl lb-add dns-lb 10.40.0.53:53 10.40.0.35:53 udp
dnslb=$(ovn-nbctl --bare --columns=_uuid find Load_Balancer name=dns-lb)
g=$(ovn-nbctl create Load_Balancer_Group name=svc-lbs load_balancer="$dnslb")
ovn-nbctl add Logical_Switch svc load_balancer_group "$g" -- add Logical_Router svc-gw load_balancer_group "$g"

# QoS on the tenant switch.
ovn-nbctl qos-add tenant from-lport 100 'inport == "vm1"' rate=10000 burst=1000
ovn-nbctl qos-add tenant to-lport 200 'ip4.dst == 10.10.0.12' dscp=34

# DNS records for the tenant and service switches.
dns=$(ovn-nbctl create DNS records='"vm1.lab.example"="10.10.0.11 fd10::11" "web.lab.example"="10.40.0.100"' external_ids:zone=lab)
ovn-nbctl add Logical_Switch tenant dns_records "$dns" -- add Logical_Switch svc dns_records "$dns"

# Mirror the web servers to a collector.
ovn-nbctl mirror-add web-mirror gre 7 to-lport 192.0.2.99
ovn-nbctl lsp-attach-mirror web1 web-mirror
ovn-nbctl lsp-attach-mirror web2 web-mirror

# Control-plane protection on the edge router and, with a Copp row of its own, the service switch.
copp=$(ovn-nbctl create Copp name=edge-copp meters:arp=arp-meter meters:icmp4-error=svc-meter)
svccopp=$(ovn-nbctl create Copp name=svc-copp meters:arp=arp-meter)
ovn-nbctl set Logical_Router edge copp="$copp" -- set Logical_Switch svc copp="$svccopp"

# A forwarding group over the two web servers.
ovn-nbctl --liveness fwd-group-add web-fg svc 10.40.0.200 02:00:0a:40:00:c8 web1 web2
