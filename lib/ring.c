/* ring.c - the SPSC slot ring.  Acquire/release on the two indices carries
 * the slot contents across threads; the sequentially consistent stores and
 * loads used by the wake-up protocol live in receiver.c. */
#include "build_config.h"

#include <errno.h>

#include "ring.h"

int budp_ring_init(struct budp_ring *r, uint32_t capacity, uint32_t slot_bytes,
                   uint32_t headroom)
{
    int rc;

    if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        return -EINVAL;
    rc = budp_slots_alloc(&r->slots, &r->memory, capacity, slot_bytes, headroom);
    if (rc < 0)
        return rc;
    r->capacity = capacity;
    r->mask = capacity - 1;
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    return 0;
}

void budp_ring_destroy(struct budp_ring *r)
{
    budp_slots_free(r->slots, r->memory);
    r->slots = NULL;
    r->memory = NULL;
}

uint32_t budp_ring_free_run(struct budp_ring *r, budp_rx_slot **first)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t free_slots = r->capacity - (tail - head);
    uint32_t to_wrap = r->capacity - (tail & r->mask);

    *first = &r->slots[tail & r->mask];
    return free_slots < to_wrap ? free_slots : to_wrap;
}

void budp_ring_commit(struct budp_ring *r, uint32_t n)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + n, memory_order_seq_cst);
}

uint32_t budp_ring_ready(const struct budp_ring *r, uint32_t from)
{
    return atomic_load_explicit(&((struct budp_ring *)r)->tail,
                                memory_order_seq_cst) - from;
}

uint32_t budp_ring_ready_run(struct budp_ring *r, uint32_t from,
                             budp_rx_slot **first)
{
    uint32_t ready = budp_ring_ready(r, from);
    uint32_t to_wrap = r->capacity - (from & r->mask);

    *first = &r->slots[from & r->mask];
    return ready < to_wrap ? ready : to_wrap;
}

void budp_ring_release(struct budp_ring *r, uint32_t upto)
{
    atomic_store_explicit(&r->head, upto, memory_order_seq_cst);
}
