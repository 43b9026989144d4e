/* options.h - the options object and the validated settings a socket keeps. */
#ifndef BUDP_OPTIONS_H
#define BUDP_OPTIONS_H

#include <stdint.h>

#include "batchudp.h"

#define BUDP_OPT_FIRST BUDP_OPT_BATCH_SIZE
#define BUDP_OPT_LAST  BUDP_OPT_ZEROCOPY
#define BUDP_OPT_COUNT (BUDP_OPT_LAST - BUDP_OPT_FIRST + 1)

/* Largest datagram a GRO receive can carry: the slot size while GRO is on. */
#define BUDP_GRO_SLOT_BYTES 65535u

/* Bytes of a receive slot: one past the largest datagram accepted whole,
 * so that a platform that truncates without saying so (MSG_TRUNC) still
 * shows it by filling the slot. */
static inline uint32_t budp_slot_capacity(int gro, uint32_t max_datagram)
{
    return gro ? BUDP_GRO_SLOT_BYTES + 1 : max_datagram + 1;
}

struct budp_options {
    int64_t value[BUDP_OPT_COUNT];
};

/* Fill o with every default. */
void budp_options_defaults(struct budp_options *o);

/* The value of key in o (key known to be valid). */
int64_t budp_opt(const struct budp_options *o, int key);

#endif
