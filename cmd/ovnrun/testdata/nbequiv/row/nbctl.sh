# Rows of tables no builtin describes, as an operator makes them with the
# generic commands: a forwarding group on a switch
# (a non-root row, created and referenced in one command), and root rows: a
# Copp that a switch uses, a template variable.
ovn-nbctl ls-add sw1
ovn-nbctl lsp-add sw1 p1
ovn-nbctl lsp-add sw1 p2
ovn-nbctl lr-add lr1
ovn-nbctl -- --id=@fg create Forwarding_Group name=fg1 vip=10.0.0.1 vmac='"00:00:00:00:00:fe"' child_port=p1,p2 liveness=true \
  -- add Logical_Switch sw1 forwarding_groups @fg
copp=$(ovn-nbctl create Copp name=copp1 meters:arp=meter1 meters:icmp4-error=meter2)
ovn-nbctl set Logical_Switch sw1 copp=$copp
ovn-nbctl create Chassis_Template_Var chassis=hv1 variables:vip=10.0.0.10 variables:port=8080
