# Another tool's HA chassis group, with a chassis of the same name as ours,
# used by its own distributed gateway port.
ovn-nbctl ha-chassis-group-add other-g
ovn-nbctl ha-chassis-group-add-chassis other-g chassis-a 5
ovn-nbctl lr-add other
ovn-nbctl lrp-add other other-up 00:00:00:00:09:00 192.0.2.1/24
g=$(ovn-nbctl --bare --columns=_uuid find HA_Chassis_Group name=other-g)
ovn-nbctl set Logical_Router_Port other-up ha_chassis_group="$g"
