/* packed.c - appending views to budp_recv_packed's output. */
#include "config.h"

#include <string.h>

#include "packed.h"

void budp_packed_init(struct budp_packed *p, uint8_t *buf, size_t size,
                      uint32_t *lens, uint32_t *flags, budp_addr *peers)
{
    memset(p, 0, sizeof *p);
    p->buf = buf;
    p->size = size;
    p->lens = lens;
    p->flags = flags;
    p->peers = peers;
}

int budp_packed_add(struct budp_packed *p, const budp_datagram *v,
                    const struct budp_view_tally *one)
{
    if (v->len > p->size - p->used)
        return 0;
    memcpy(p->buf + p->used, v->data, v->len);
    p->used += v->len;
    p->lens[p->n] = v->len;
    if (p->flags != NULL)
        p->flags[p->n] = v->flags;
    if (p->peers != NULL)
        p->peers[p->n] = v->peer;
    p->n++;
    p->tally.datagrams += one->datagrams;
    p->tally.bytes += one->bytes;
    p->tally.truncated += one->truncated;
    p->tally.coalesced += one->coalesced;
    p->tally.control_truncated += one->control_truncated;
    return 1;
}
