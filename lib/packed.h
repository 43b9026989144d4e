/* packed.h - budp_recv_packed's output: payloads back to back in the
 * caller's buffer, lengths, flags and peers in the caller's arrays. */
#ifndef BUDP_PACKED_H
#define BUDP_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "views.h"

struct budp_packed {
    uint8_t   *buf;
    size_t     size, used;
    uint32_t  *lens;
    uint32_t  *flags;   /* may be NULL */
    budp_addr *peers;   /* may be NULL */
    unsigned   n;       /* datagrams written */
    struct budp_view_tally tally;
};

void budp_packed_init(struct budp_packed *p, uint8_t *buf, size_t size,
                      uint32_t *lens, uint32_t *flags, budp_addr *peers);

/* Append the datagrams of slots[cur->slot .. nslots) while p->n < max and
 * they fit in the buffer, advancing cur: a slot that holds one datagram
 * straight from the slot, the segments of a GRO slot through views split
 * into scratch (scratch_capacity of them).  Returns the count appended; 0
 * with slots left means the next datagram alone is larger than the room
 * left. */
unsigned budp_packed_from_slots(struct budp_packed *p, const budp_rx_slot *slots,
                                unsigned nslots, struct budp_view_cursor *cur,
                                unsigned max, budp_datagram *scratch,
                                unsigned scratch_capacity, uint32_t max_datagram);

#endif
