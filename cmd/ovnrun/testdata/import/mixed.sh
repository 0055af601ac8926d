ovn-nbctl ls-add mx
