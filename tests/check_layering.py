#!/usr/bin/env python3
"""The library's layering, checked from its sources.

1. No include cycle among lib/'s modules.  A module is a file stem:
   views.c and views.h are one module, and module A depends on module B
   when a file of A includes B.h.  A cycle means two parts of the library
   cannot be understood, tested or replaced apart.
2. Platform code stays behind the seam: only the platform layer (sys.h
   and its sys_*.c, notify, addr) and the backends (backend_*.c and the
   posix_* files they share) may use errno, the socket and poll headers or
   call the system.  The rest is generic code that a Windows or io_uring
   port does not touch.

Usage: check_layering.py LIBDIR.  Prints what it checked; exits 1 on a
violation."""
import os
import re
import sys

PLATFORM = re.compile(r"^(sys|sys_\w+|notify|addr|backend_\w+|posix_\w+|msgx|msgx_\w+)\.[ch]$")
SYSTEM_HEADERS = ("sys/socket.h", "poll.h", "unistd.h", "fcntl.h", "netinet/",
                  "arpa/", "sys/eventfd.h", "linux/", "netdb.h", "dlfcn.h")
SYSTEM_CALLS = ("recvmmsg", "sendmmsg", "recvmsg", "sendmsg", "recvfrom", "sendto",
                "setsockopt", "getsockopt", "getsockname", "getpeername", "socket",
                "bind", "connect", "poll", "close", "read", "write", "eventfd",
                "pipe", "pipe2", "fcntl", "nanosleep", "usleep")
CALL = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(SYSTEM_CALLS))
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def main(libdir):
    files = sorted(f for f in os.listdir(libdir) if f.endswith((".c", ".h")))
    stems = {os.path.splitext(f)[0] for f in files}
    graph = {s: set() for s in stems}
    problems = []
    for f in files:
        text = open(os.path.join(libdir, f), encoding="utf-8").read()
        stem = os.path.splitext(f)[0]
        for kind, name in INCLUDE.findall(text):
            target = os.path.splitext(name)[0]
            if kind == '"' and target in stems and target != stem:
                graph[stem].add(target)
            if (kind == "<" and not PLATFORM.match(f) and
                    any(name.startswith(h) for h in SYSTEM_HEADERS)):
                problems.append("%s: includes <%s> (platform code outside the "
                                "platform layer and the backends)" % (f, name))
        if not PLATFORM.match(f):
            code = strip_comments(text)
            if re.search(r"\berrno\b(?!\.h)", code):
                problems.append("%s: reads errno (use budp_sys_error)" % f)
            for m in CALL.finditer(code):
                problems.append("%s: calls %s() (the platform layer or a "
                                "backend does that)" % (f, m.group(1)))

    # Cycles, by depth-first search; each is reported once, from its first
    # module in sorted order.
    state = {}
    stack = []
    cycles = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    for c in cycles:
        problems.append("include cycle: " + " -> ".join(c))

    edges = sum(len(v) for v in graph.values())
    print("layering: %d files, %d modules, %d dependencies, %d platform files"
          % (len(files), len(stems), edges, sum(bool(PLATFORM.match(f)) for f in files)))
    for p in problems:
        print("layering: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_layering.py LIBDIR")
    sys.exit(main(sys.argv[1]))
