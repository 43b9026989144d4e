# Example programs: built by make check so they never rot.
check_PROGRAMS += tools/examples/echo
tools_examples_echo_SOURCES = tools/examples/echo.c
tools_examples_echo_LDADD = lib/libbatchudp.la
