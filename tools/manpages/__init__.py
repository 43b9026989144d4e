"""Manual pages from include/batchudp.h: see tools/gen-man.py."""
