"""Import batchudp in a fresh interpreter and report what the import did.

    python import_probe.py [--roundtrip] [--expect-bundled]

Prints JSON: where the library was loaded from, the processes the import
started, the libraries it opened, whether it imported asyncio and, with
--roundtrip, whether a batch sent between two loopback sockets came back
intact and what asking for backend 'uring' gives.  With --expect-bundled
it prints each fact checked instead and exits 1 unless the library came
from inside the package, the import started no process and left asyncio
alone, and the round trip (if asked for) succeeded and found no uring
backend (the library a wheel carries is compiled without liburing).

test_loader.py and bundled-check.sh run it, with the interpreter and the
environment under test, from outside the source tree.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time

# Every way Python starts a process raises one of these audit events
# (ctypes.util.find_library and pkg-config go through subprocess.Popen).
SPAWN_EVENTS = {
    "subprocess.Popen",
    "os.posix_spawn",
    "os.spawn",
    "os.exec",
    "os.system",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
}

spawned = []
dlopened = []


def audit(event, args):
    if event in SPAWN_EVENTS:
        spawned.append("%s %r" % (event, args[:2]))
    elif event == "ctypes.dlopen" and args[0] is not None:
        dlopened.append(str(args[0]))


def mapped(path):
    """Whether path is mapped into this process (None: cannot tell here)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            maps = f.read()
    except OSError:
        return None
    real = os.path.realpath(path)
    return any(line.endswith(" " + real) for line in maps.splitlines())


def roundtrip(batchudp):
    """Send 16 datagrams from one loopback socket to another; True when
    they all arrive, in order, byte for byte, from the sender."""
    payloads = [b"batchudp %2d " % i + bytes(range(i * 7)) for i in range(16)]
    with batchudp.Socket.bind("127.0.0.1", 0) as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        dest = rx.local_addr()
        sent = 0
        while sent < len(payloads):
            sent += tx.send([(p, dest) for p in payloads[sent:]])
        got = []
        deadline = time.monotonic() + 5
        while len(got) < len(payloads) and time.monotonic() < deadline:
            batch = rx.recv()
            if not batch:
                rx.wait(0.2)
            got.extend(batch)
        return [d.data for d in got] == payloads and all(d.peer == tx.local_addr() for d in got)


def uring(batchudp):
    """What asking for backend 'uring' gives: the socket's backend, or the
    error's errno name."""
    try:
        with batchudp.Socket.bind("127.0.0.1", 0, backend="uring") as sock:
            return sock.backend
    except batchudp.Error as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def main():
    preloaded = "asyncio" in sys.modules
    sys.addaudithook(audit)
    import batchudp

    facts = {
        "library_path": batchudp.library_path,
        "package_dir": os.path.dirname(os.path.abspath(batchudp.__file__)),
        "prefix": sys.prefix,
        "bundled_path": batchudp._lib.bundled_path(),
        "spawned": list(spawned),
        "dlopened": list(dlopened),
        "asyncio_preloaded": preloaded,
        "asyncio_imported": "asyncio" in sys.modules and not preloaded,
        "mapped": mapped(batchudp.library_path),
        "roundtrip": roundtrip(batchudp) if "--roundtrip" in sys.argv else None,
        "uring": uring(batchudp) if "--roundtrip" in sys.argv else None,
    }
    if "--expect-bundled" not in sys.argv:
        print(json.dumps(facts))
        return 0

    path = facts["library_path"]
    checks = [
        ("batchudp imported from this environment (%s)" % sys.prefix,
         facts["package_dir"].startswith(os.path.join(sys.prefix, ""))),
        ("library loaded from %s" % path, True),
        ("it lies inside the package (%s)" % facts["package_dir"],
         os.path.dirname(path) == facts["package_dir"] and path == facts["bundled_path"]),
        ("it is the library this process mapped", facts["mapped"] is not False),
        ("import opened no other library (opened: %s)" % ", ".join(facts["dlopened"]),
         facts["dlopened"] == [path]),
        ("import started no process%s" % "".join("\n    " + s for s in facts["spawned"]),
         not facts["spawned"]),
        ("import did not import asyncio", not facts["asyncio_imported"] and not preloaded),
    ]
    if facts["roundtrip"] is not None:
        checks.append(("16 datagrams sent on 127.0.0.1 came back byte for byte",
                       facts["roundtrip"]))
        checks.append(("backend 'uring' is ENOTSUP, the library built without liburing (%s)"
                       % facts["uring"], facts["uring"] == errno.errorcode[errno.ENOTSUP]))
    for what, ok in checks:
        print("  %s: %s" % ("ok" if ok else "FAILED", what))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
