# PLACEHOLDER, not the long mixed script issue 14 asks for (not written yet): one switch, so that
# the test has the source wired in. The nbequiv cases cover the families for now.
ovn-nbctl ls-add mx
