/* footprint.c - the ring's automatic size and the per-socket memory cap. */
#include "build_config.h"

#include <errno.h>

#include "footprint.h"

/* What an automatic ring may spend on slots.  A threaded socket with the
 * defaults then stays near 1 MiB whatever the slot size: 256 slots of a
 * 2 KiB datagram, or 16 of GRO's 64 KiB, each of which holds up to 64
 * coalesced datagrams. */
#define AUTO_RING_BYTES (1u << 20)
#define AUTO_RING_MAX_SLOTS 256u
#define AUTO_RING_MIN_SLOTS 4u

static uint32_t auto_ring_slots(uint64_t stride)
{
    uint32_t slots = AUTO_RING_MAX_SLOTS;

    while (slots > AUTO_RING_MIN_SLOTS && slots * stride > AUTO_RING_BYTES)
        slots /= 2;
    return slots;
}

int budp_footprint_plan(struct budp_footprint *f, const struct budp_options *o,
                        uint32_t slot_capacity, unsigned view_capacity)
{
    uint64_t stride = budp_slot_stride(slot_capacity);
    uint64_t batch = (uint64_t)budp_opt(o, BUDP_OPT_BATCH_SIZE);
    uint64_t slots;

    f->ring_slots = 0;
    if (budp_opt(o, BUDP_OPT_THREADED)) {
        int64_t asked = budp_opt(o, BUDP_OPT_RING_CAPACITY);
        f->ring_slots = asked > 0 ? (uint32_t)asked : auto_ring_slots(stride);
        slots = f->ring_slots;
        /* OVERFLOW_DROP reads what does not fit into a batch of its own. */
        if (budp_opt(o, BUDP_OPT_OVERFLOW) == BUDP_OVERFLOW_DROP &&
            !budp_opt(o, BUDP_OPT_CALLBACK_THREAD))
            slots += batch;
    } else {
        slots = batch;
    }
    f->bytes = slots * stride + (uint64_t)view_capacity * sizeof(budp_datagram);
    return f->bytes > BUDP_MEMORY_LIMIT ? -EINVAL : 0;
}
