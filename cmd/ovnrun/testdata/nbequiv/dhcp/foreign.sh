# Another tool's DHCP options on another switch's port.
ovn-nbctl ls-add other -- set Logical_Switch other other_config:subnet=10.9.0.0/24
d=$(ovn-nbctl create DHCP_Options cidr=10.9.0.0/24 options='"server_id"="10.9.0.1" "server_mac"="00:00:00:00:09:00" "lease_time"="3600"')
ovn-nbctl lsp-add other other-p1 -- lsp-set-addresses other-p1 "0a:00:00:00:09:01 dynamic"
ovn-nbctl lsp-set-dhcpv4-options other-p1 "$d"
