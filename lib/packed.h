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

/* Append v, made by a view fill that tallied it in one: 1 when it was
 * written, 0 when it does not fit (nothing written; the caller puts the
 * view back). */
int budp_packed_add(struct budp_packed *p, const budp_datagram *v,
                    const struct budp_view_tally *one);

#endif
