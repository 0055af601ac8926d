# Another tool's switch with a dynamic port, which destroy must leave alone.
ovn-nbctl ls-add other -- set Logical_Switch other other_config:subnet=10.9.0.0/24
ovn-nbctl lsp-add other other-p1 -- lsp-set-addresses other-p1 dynamic
