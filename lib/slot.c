/* slot.c - slot memory: count slot buffers in one allocation, each on
 * cache lines of its own. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "slot.h"

uint64_t budp_slot_stride(uint64_t capacity)
{
    return ((uint64_t)capacity + 63) & ~(uint64_t)63;
}

int budp_slots_alloc(budp_rx_slot **slots, uint8_t **memory,
                     unsigned count, uint32_t capacity, uint32_t headroom)
{
    /* Each buffer rounded up to a cache line so neighbours never share one. */
    uint64_t stride = budp_slot_stride(capacity + (uint64_t)headroom);
    budp_rx_slot *s;
    uint8_t *m;

    /* A 32-bit size_t cannot hold a large ring of GRO-sized slots. */
    if (count == 0 || stride > SIZE_MAX / count)
        return -ENOMEM;
    s = calloc(count, sizeof *s);
    /* Zeroed: a kernel that fills buffers from a completion ring does so
     * where Valgrind cannot see, and must not be taken for a read of
     * memory never written. */
    m = calloc(count, (size_t)stride);

    if (s == NULL || m == NULL) {
        free(s);
        free(m);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < count; i++)
        s[i].data = m + stride * i + headroom;
    *slots = s;
    *memory = m;
    return 0;
}

void budp_slots_free(budp_rx_slot *slots, uint8_t *memory)
{
    free(slots);
    free(memory);
}
