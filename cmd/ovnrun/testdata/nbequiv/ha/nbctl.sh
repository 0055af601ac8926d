# An HA chassis group of three chassis, the gateway of a distributed router
# port and the chassis that binds an external switch port.
ovn-nbctl ha-chassis-group-add g1
ovn-nbctl ha-chassis-group-add-chassis g1 chassis-a 30
ovn-nbctl ha-chassis-group-add-chassis g1 chassis-b 20
ovn-nbctl ha-chassis-group-add-chassis g1 chassis-c 10
g=$(ovn-nbctl --bare --columns=_uuid find HA_Chassis_Group name=g1)
ovn-nbctl ls-add ext
ovn-nbctl lsp-add ext ext-physnet
ovn-nbctl lsp-set-type ext-physnet localnet
ovn-nbctl lsp-set-addresses ext-physnet unknown
ovn-nbctl lsp-set-options ext-physnet network_name=physnet1
ovn-nbctl lr-add lr1
ovn-nbctl lrp-add lr1 lr1-ext 00:00:00:00:03:00 172.16.3.254/24
ovn-nbctl set Logical_Router_Port lr1-ext ha_chassis_group="$g"
ovn-nbctl lsp-add ext ext-lr1
ovn-nbctl lsp-set-type ext-lr1 router
ovn-nbctl lsp-set-addresses ext-lr1 router
ovn-nbctl lsp-set-options ext-lr1 router-port=lr1-ext
ovn-nbctl lsp-add ext bm1
ovn-nbctl lsp-set-type bm1 external
ovn-nbctl lsp-set-addresses bm1 "04:ac:10:ff:03:05 172.16.3.5"
ovn-nbctl set Logical_Switch_Port bm1 ha_chassis_group="$g"
