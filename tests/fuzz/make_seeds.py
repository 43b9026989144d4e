#!/usr/bin/env python3
"""Write the hand-made seeds of each fuzz target into tests/fuzz/corpus.

Each seed is a small input in the layout its target reads (see the comment
at the top of tests/fuzz/fuzz_*.c), named by the SHA-1 of its bytes as
libFuzzer names what it finds.  Run once; tools/fuzz.sh --merge adds what
the fuzzer finds.  Usage: make_seeds.py [CORPUS_DIR]
"""
import hashlib
import os
import struct
import sys

CMSG = 16           # sizeof(struct cmsghdr) on LP64 Linux
SOL_UDP, UDP_GRO = 17, 104
IPPROTO_IP, IP_TOS, IP_PKTINFO = 0, 1, 8
IPPROTO_IPV6, IPV6_PKTINFO, IPV6_TCLASS = 41, 50, 67


def u16(v):
    return struct.pack('<H', v)


def u32(v):
    return struct.pack('<I', v)


def control_seed(gro, with_control, max_dgram, length, flags, records, style=0,
                 namekind=0, family=0):
    """fuzz_control: mode, max_datagram, port, length, flags, name, control."""
    mode = (1 if gro else 0) | (2 if with_control else 0) | (4 if gro else 0) | 0x20
    out = bytes([mode]) + u16(max_dgram - 1) + u16(4433) + u32(length)
    out += bytes([flags, namekind]) + bytes(28 if namekind == 1 else 16) + bytes([family])
    if with_control:
        out += bytes([len(records), style])
        for kind, value in records:
            out += bytes([kind, 0]) + value
    return out


def api_seed(ops):
    return b''.join(ops)


def seeds():
    control = [
        control_seed(False, False, 2048, 100, 0, []),
        control_seed(False, False, 2048, 3000, 1, []),            # MSG_TRUNC
        control_seed(False, False, 100, 2049, 0, [], namekind=1, family=1),
        control_seed(True, True, 1500, 6000, 0, [(0, u32(1200))]),  # GRO split
        control_seed(True, True, 1500, 64 * 100, 0, [(0, u32(100))]),
        control_seed(True, True, 1500, 65 * 100, 0, [(0, u32(100))]),  # too many
        control_seed(True, True, 1500, 100, 0, [(0, u32(0))]),
        control_seed(True, True, 1500, 100, 2, [(0, u32(50))]),     # MSG_CTRUNC
        control_seed(False, True, 2048, 10, 0,
                     [(1, bytes([1, 0, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1])),
                      (3, b'\x02')]),
        control_seed(False, True, 2048, 10, 0,
                     [(2, bytes([0xfe, 0x80] + [0] * 13 + [1]) + u32(3)),
                      (5, u32(3))], namekind=1, family=1),
        control_seed(False, True, 2048, 10, 0,
                     [(0, u32(10))] * 7, style=0),                   # runs out
        control_seed(False, True, 2048, 10, 0,
                     [(0, u32(10))] * 7, style=1),                   # BSD cut
        control_seed(True, True, 2048, 10, 0, [(4, u32(1))], style=2),
        # Control space runs out at a destination address's header: cut as
        # the BSDs cut (cmsg_len kept), it must not be read.
        control_seed(False, True, 2048, 10, 0,
                     [(0, u32(10))] * 6 + [(1, bytes([1, 0, 0, 0, 127, 0, 0, 1] * 2)[:12])],
                     style=1),
        # Receive times (kind 7, a struct timespec): alone, beside a GRO
        # segment size (every segment carries it), and cut short.
        control_seed(False, True, 2048, 10, 0, [(7, struct.pack('<qq', 1764500000, 123456789))]),
        control_seed(True, True, 1500, 6000, 0,
                     [(0, u32(1200)), (7, struct.pack('<qq', 1764500000, 5))]),
        control_seed(False, True, 2048, 10, 0,
                     [(0, u32(10))] * 5 + [(7, struct.pack('<qq', 1, 2))], style=0),
        # A 9-byte source address of family AF_INET is no address.
        control_seed(False, False, 2048, 10, 0, [], namekind=2 | (9 << 2), family=0),
    ]
    views = [
        u16(2047) + bytes([1, 2, 200, 0, 0, 0x0f, 64]),
        u16(1499) + bytes([2, 3, 0xff, 0xff, 0x20, 0x03, 0x40, 0x01, 0, 1]) + bytes([1] * 20),
        u16(99) + bytes([4]) + bytes([3, 0x10, 0x27, 0x10, 0x27, 0x64, 0x00, 0x01]) * 4
        + bytes([0, 1, 2, 3, 5, 64, 0, 7]),
        u16(0) + bytes([0, 0, 0, 0, 0]),
    ]
    addr = [
        b'\x00127.0.0.1\x00' + u16(53) + bytes(24) + b'\x40',
        b'\x01::1\x00' + u16(443) + bytes(24) + b'\x40',
        b'\x01fe80::1%1\x00' + u16(1) + bytes(24) + b'\x10',
        b'\x01::ffff:10.0.0.1\x00' + u16(9) + bytes(24) + b'\x08',
        b'\x02127.1\x00' + u16(0) + u16(4) + u16(80) + bytes(20) + b'\x03',
        b'\x09255.255.255.255\x00' + u16(65535) + bytes(24) + b'\x07\x10' + bytes(16) + b'\x01',
        b'\x01fe80::1%4294967295\x00' + u16(7) + bytes(24) + b'\x05',
        b'\x00\x00\x00' + bytes(24) + b'\x3f\x1c' + bytes(28) + b'\x01',
    ]
    bind4 = bytes([0x00, 0x00, 0x08, 0x00])       # 127.0.0.1, batch 8
    bind6 = bytes([0x10, 0x01, 0x08, 0x00])       # ::1
    bind_t = bytes([0x20, 0x02, 0x14, 0x02])      # threaded, ring 4
    bind_cb = bytes([0x20, 0x06, 0x14, 0x02])     # callback thread
    bind_gro = bytes([0x00, 0x00, 0x20, 0x70])    # GRO, GSO, PKTINFO
    to0 = 0x00
    api = [
        api_seed([bind4, bytes([0x10, 0x00, 0x00]), bind4[:0],
                  bytes([0x01, 0x82, 0x05]) + bytes([0, to0]) * 3,
                  bytes([0x04, 0x10])]),
        api_seed([bind4, bytes([0x10, 0x00, 0x08, 0x00]),
                  bytes([0x11, 0x83, 0x06]) + bytes([0, 0x00]) * 4,
                  bytes([0x04, 0x20, 0x0a, 0x00, 0x0b])]),
        api_seed([bind6, bytes([0x10, 0x01, 0x08, 0x40]),
                  bytes([0x01, 0x01, 0x05, 0x01, 0x05, 0x01]),
                  bytes([0x06, 0x10, 0x00, 0x08, 0x00, 0x07, 0x10])]),
        api_seed([bind_t, bytes([0x01, 0x80, 0x08]) + bytes([0, 0x00]),
                  bytes([0x09, 0x00, 0x04, 0x08, 0x0a, 0x00, 0x0d, 0x04, 0x01, 0x0e])]),
        api_seed([bind_cb, bytes([0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x0b, 0x0a, 0x00])]),
        api_seed([bind_gro, bytes([0x01, 0x87, 0x07]) + bytes([0, 0x00]) * 8,
                  bytes([0x04, 0x40, 0x04, 0x40, 0x0a, 0x00])]),
        api_seed([bind4, bytes([0x08, 0x1c, 0x01, 0x01, 0x00, 0x00, 0x07, 0x10])]),
        api_seed([bind4, bytes([0x0c, 0x05, 0x01, 0x00, 0x00, 0x00, 0x04, 0x01, 0x0f, 0x0b])]),
        api_seed([bind4, bytes([0x01, 0x00, 0x00, 0x06, 0x01, 0x00, 0x00, 0x46]),
                  bytes([0x01, 0x00, 0x00, 0x04, 0x01])]),
        api_seed([bytes([0x00, 0xf8, 0x00, 0x00]), bytes([0x00, 0x06, 0x00, 0x00]),
                  bytes([0x00, 0xc0, 0x00, 0x03])]),
    ]
    return {'control': control, 'views': views, 'addr': addr, 'api': api}


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus')
    for target, items in seeds().items():
        d = os.path.join(top, target)
        os.makedirs(d, exist_ok=True)
        for data in items:
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(d, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
