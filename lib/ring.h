/* ring.h - single-producer single-consumer ring of receive slots.
 *
 * The producer (receiver thread) fills free slots in place and commits them
 * in batches; the consumer reads committed slots and releases them in
 * batches.  Indices run freely and wrap at 2^32; the slot of index i is
 * i & mask.  Capacity is a power of two. */
#ifndef BUDP_RING_H
#define BUDP_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "slot.h"

struct budp_ring {
    budp_rx_slot *slots;
    uint8_t *memory;
    uint32_t capacity;
    uint32_t mask;
    /* Each index on its own cache line: the two threads write one each. */
    alignas(64) _Atomic uint32_t tail; /* written by the producer */
    alignas(64) _Atomic uint32_t head; /* written by the consumer */
};

int  budp_ring_init(struct budp_ring *r, uint32_t capacity, uint32_t slot_bytes,
                    uint32_t headroom);
void budp_ring_destroy(struct budp_ring *r);

/* Producer: the free slots that follow tail without wrapping; *first
 * receives the first of them.  Returns their count (0: full). */
uint32_t budp_ring_free_run(struct budp_ring *r, budp_rx_slot **first);
/* Producer: publish n filled slots. */
void budp_ring_commit(struct budp_ring *r, uint32_t n);

/* Consumer: committed slots from index `from` (>= head) on. */
uint32_t budp_ring_ready(const struct budp_ring *r, uint32_t from);
/* Consumer: the committed slots from `from` that do not wrap; *first
 * receives the first. */
uint32_t budp_ring_ready_run(struct budp_ring *r, uint32_t from,
                             budp_rx_slot **first);
/* Consumer: return every slot before index `upto` to the producer. */
void budp_ring_release(struct budp_ring *r, uint32_t upto);

#endif
