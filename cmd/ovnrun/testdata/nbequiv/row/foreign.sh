# Another tool's rows of the tables row() reaches: a forwarding group on its
# own switch, a Copp, and a template variable of another chassis. Destroy
# must leave them alone.
ovn-nbctl ls-add other
ovn-nbctl lsp-add other other-p1
ovn-nbctl -- --id=@fg create Forwarding_Group name=other-fg vip=10.9.0.1 vmac='"00:00:00:00:09:fe"' child_port=other-p1 \
  -- add Logical_Switch other forwarding_groups @fg
ovn-nbctl create Copp name=other-copp meters:arp=other-meter
ovn-nbctl create Chassis_Template_Var chassis=hv9 variables:vip=10.9.0.10
