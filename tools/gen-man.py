#!/usr/bin/env python3
"""Write libbatchudp's manual pages from include/batchudp.h.

Usage:
  gen-man.py HEADER --list       the page names, one a line
  gen-man.py HEADER PAGE.3       the page, on standard output

One page per call, so that make can build each page by its own rule (in
parallel, and only those out of date) without a stamp file."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manpages import header, pages  # noqa: E402


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        try:
            manual = pages.Manual(header.parse(f.read()))
        except (header.HeaderError, pages.PageError) as e:
            sys.stderr.write("gen-man.py: %s: %s\n" % (argv[1], e))
            return 1
    if argv[2] == "--list":
        sys.stdout.write("".join(n + "\n" for n in manual.names()))
        return 0
    name = os.path.basename(argv[2])
    if not name.endswith(".3"):
        sys.stderr.write("gen-man.py: %s: not a section 3 page\n" % argv[2])
        return 2
    try:
        sys.stdout.write(manual.render(name[:-2]))
    except pages.PageError as e:
        sys.stderr.write("gen-man.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
