"""``python -m batchudp``: which libbatchudp this binding uses."""

from __future__ import annotations

import sys

import batchudp


def main() -> int:
    """Print the library version, its path and the default backend."""
    print("batchudp %s (Python binding)" % batchudp.__version__)
    print("library version: %s" % batchudp.library_version_string())
    print("library path:    %s" % batchudp.library_path)
    try:
        with batchudp.Socket.bind("127.0.0.1", 0) as sock:
            backend = sock.backend
    except batchudp.Error as exc:
        print("default backend: unknown (%s)" % exc)
        return 1
    print("default backend: %s" % backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
