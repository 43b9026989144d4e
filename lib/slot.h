/* slot.h - a receive slot: one buffer the kernel writes into, and what the
 * backend learnt about the datagram (or GRO super-datagram) it holds. */
#ifndef BUDP_SLOT_H
#define BUDP_SLOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "batchudp.h"

struct budp_rx_slot {
    uint8_t  *buf;          /* capacity bytes, owned by the socket or ring */
    uint32_t  len;          /* bytes kept (never above max_datagram unless
                               the slot holds GRO segments) */
    uint32_t  flags;        /* BUDP_DGRAM_TRUNCATED, _HAS_LOCAL, _HAS_ECN,
                               _CONTROL_TRUNCATED */
    uint16_t  segment_size; /* GRO: size of each segment; 0 = one datagram */
    uint8_t   ecn;
    budp_addr peer;
    budp_addr local;
};

/* slot.flags: the library's own mark beside the BUDP_DGRAM_* flags, never
 * handed out: a GRO slot whose last segment the kernel cut (MSG_TRUNC), so
 * that segment's view is flagged BUDP_DGRAM_TRUNCATED. */
#define BUDP_SLOT_LAST_CUT 0x80000000u

/* What a receive needs to know beyond the slots themselves. */
struct budp_rx_params {
    uint32_t capacity;      /* bytes per slot buffer */
    uint32_t max_datagram;  /* BUDP_OPT_MAX_DATAGRAM */
    uint16_t local_port;    /* the socket's port, for destination addresses */
    int      gro;           /* UDP_GRO is on: a slot may hold many datagrams */
    /* The socket's kernel_anomalies counter (NULL: not counted), bumped
     * where an untrusted result is met: off the common path. */
    _Atomic uint64_t *anomalies;
};

/* Bytes a slot of capacity bytes takes (each rounded up to a cache line,
 * so that neighbours never share one). */
uint64_t budp_slot_stride(uint32_t capacity);

/* Slot buffers for count slots of capacity bytes each, in one allocation
 * of budp_slot_stride(capacity) * count bytes.  0 or -ENOMEM. */
int budp_slots_alloc(struct budp_rx_slot **slots, uint8_t **memory,
                     unsigned count, uint32_t capacity);
void budp_slots_free(struct budp_rx_slot *slots, uint8_t *memory);

#endif
