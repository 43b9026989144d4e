/* bpf_tstamp.h - an observer of departure times: a tc egress program
 * that writes each packet's skb->tstamp (the SO_TXTIME time the kernel
 * attached to it) over the first 8 bytes of its UDP payload, so the
 * receiver sees which time each packet (each GSO train: one packet) left
 * with, on a kernel without a queue discipline that honours it. */
#ifndef BUDP_TEST_BPF_TSTAMP_H
#define BUDP_TEST_BPF_TSTAMP_H

#include <stddef.h>

/* Attach the program to dev's egress in namespace ns (IPv4 packets with
 * a 20-byte header).  0, or -1 with the reason in why (size bytes). */
int bpf_tstamp_attach(const char *ns, const char *dev, char *why, size_t size);

#endif
