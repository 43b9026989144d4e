# binding suites
