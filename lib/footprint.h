/* footprint.h - how much receive memory a socket's options ask for: the
 * ring's automatic size, and the cap on what one socket may take. */
#ifndef BUDP_FOOTPRINT_H
#define BUDP_FOOTPRINT_H

#include <stdint.h>

#include "options.h"
#include "slot.h"

/* What a socket's receive side will allocate, from its options and the
 * slot size it settled on (GRO's 64 KiB, or the largest datagram). */
struct budp_footprint {
    uint32_t ring_slots;   /* threaded: slots in the ring; 0 inline */
    uint64_t bytes;        /* slots, drop slots and views together */
};

/* Work out the footprint of options o with slots of slot_capacity bytes and
 * view_capacity views.  Returns 0, or -EINVAL when it is above
 * BUDP_MEMORY_LIMIT. */
int budp_footprint_plan(struct budp_footprint *f, const struct budp_options *o,
                        uint32_t slot_capacity, unsigned view_capacity);

#endif
