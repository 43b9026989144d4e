/* slot.h - a receive slot: one buffer the kernel writes into, and what the
 * backend learnt about the datagram (or GRO super-datagram) it holds. */
#ifndef BUDP_SLOT_H
#define BUDP_SLOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "batchudp.h"

/* A receive slot is a budp_datagram: the backend writes what it learnt
 * about the datagram it received straight into the view the application
 * will read.
 *  data          the slot's buffer (capacity bytes, owned by the socket or
 *                the ring; the library writes it through budp_slot_buffer)
 *  len           bytes kept: never above max_datagram unless the slot holds
 *                GRO segments
 *  flags         BUDP_DGRAM_*, and BUDP_SLOT_LAST_CUT on a GRO slot
 *  peer, local   as in a view (local all zero without BUDP_DGRAM_HAS_LOCAL)
 *  segment_size  GRO: the size of each segment; 0 for one datagram (always
 *                0 when len is 0)
 *  ecn           as in a view
 *  time_ns, reserved  zero (slots are allocated zeroed, never written)
 * So a slot that holds one datagram is its own view, handed out without a
 * copy (budp_views_take); a GRO slot is split into views (budp_views_fill). */
typedef budp_datagram budp_rx_slot;

/* The slot's buffer, to receive into.  Its memory is the library's own,
 * writable; the view's const is for the application. */
static inline uint8_t *budp_slot_buffer(const budp_rx_slot *slot)
{
    return (uint8_t *)(uintptr_t)slot->data;
}

/* slot.flags: the library's own mark beside the BUDP_DGRAM_* flags, never
 * handed out: a GRO slot whose last segment the kernel cut (MSG_TRUNC), so
 * that segment's view is flagged BUDP_DGRAM_TRUNCATED. */
#define BUDP_SLOT_LAST_CUT 0x80000000u

/* What a receive needs to know beyond the slots themselves. */
struct budp_rx_params {
    uint32_t capacity;      /* bytes per slot buffer */
    uint32_t headroom;      /* bytes before each slot's data, the
                               backend's (budp_backend_facts.rx_headroom) */
    uint32_t max_datagram;  /* BUDP_OPT_MAX_DATAGRAM */
    uint32_t plain_max;     /* the smaller of the two: the longest result
                               budp_msg_finish_recv takes by its short path
                               (0: none; a kernel claiming more than the
                               slot holds goes the long way) */
    uint16_t local_port;    /* the socket's port, for destination addresses */
    int      gro;           /* UDP_GRO is on: a slot may hold many datagrams */
    /* The socket's kernel_anomalies counter (NULL: not counted), bumped
     * where an untrusted result is met: off the common path. */
    _Atomic uint64_t *anomalies;
};

/* What the slots of one receive hold in all, gathered by the backend as it
 * reads them back, so that a whole batch is handed out without another
 * pass over it. */
struct budp_rx_summary {
    uint64_t bytes;         /* the slots' len, summed */
    uint32_t flags;         /* their flags, or'ed */
    uint32_t segments;      /* their segment_size, or'ed: 0 when no slot
                               holds GRO segments */
};

/* Add slot, just filled, to sum. */
static inline void budp_rx_summary_add(struct budp_rx_summary *sum,
                                       const budp_rx_slot *slot)
{
    sum->bytes += slot->len;
    sum->flags |= slot->flags;
    sum->segments |= slot->segment_size;
}

/* Bytes a slot of capacity bytes takes (each rounded up to a cache line,
 * so that neighbours never share one). */
uint64_t budp_slot_stride(uint64_t capacity);

/* Slot buffers for count slots of capacity bytes each, each data pointer
 * headroom bytes (a multiple of 64) into its buffer, in one zeroed
 * allocation of budp_slot_stride(headroom + capacity) * count bytes.
 * 0 or -ENOMEM. */
int budp_slots_alloc(budp_rx_slot **slots, uint8_t **memory,
                     unsigned count, uint32_t capacity, uint32_t headroom);
void budp_slots_free(budp_rx_slot *slots, uint8_t *memory);

#endif
