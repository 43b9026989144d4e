# C test suites
