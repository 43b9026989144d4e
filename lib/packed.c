/* packed.c - appending datagrams to budp_recv_packed's output. */
#include "build_config.h"

#include <string.h>

#include "inline.h"
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

/* Append v, which fits. */
static inline void put(struct budp_packed *p, const budp_datagram *v)
{
    memcpy(p->buf + p->used, v->data, v->len);
    p->used += v->len;
    p->lens[p->n] = v->len;
    if (p->flags != NULL)
        p->flags[p->n] = v->flags;
    if (p->peers != NULL)
        p->peers[p->n] = v->peer;
    p->n++;
}

/* Append the slots from cur->slot on that hold one datagram each, while
 * they fit and p->n < max; stops at a GRO slot.  The common path of
 * budp_recv_packed: no copy of the view, and few enough values live across
 * memcpy for all of them to stay in registers.  with_meta: 0 when the
 * caller asked for neither flags nor peers (a loop without their tests). */
BUDP_ALWAYS_INLINE void append_singles_with(struct budp_packed *p,
                                            const budp_rx_slot *slots,
                                            unsigned nslots,
                                            struct budp_view_cursor *cur,
                                            unsigned max, int with_meta)
{
    const budp_rx_slot *slot = &slots[cur->slot], *end = &slots[nslots];
    uint8_t *out = p->buf + p->used;
    size_t room = p->size - p->used;
    unsigned n = p->n;

    if ((size_t)(end - slot) > max - n)
        end = slot + (max - n);
    for (; slot < end; slot++) {
        uint32_t len = slot->len;

        if ((slot->segment_size != 0 && len != 0) || len > room)
            break;
        memcpy(out, slot->data, len);
        out += len;
        room -= len;
        p->lens[n] = len;
        if (with_meta && p->flags != NULL)
            p->flags[n] = slot->flags;
        if (with_meta && p->peers != NULL)
            p->peers[n] = slot->peer;
        if (slot->flags & BUDP_TALLY_RARE_FLAGS)
            budp_view_tally_rare(&p->tally, slot->flags);
        n++;
    }
    /* The payload bytes handed out are the bytes appended. */
    p->tally.datagrams += n - p->n;
    p->tally.bytes += (size_t)(out - (p->buf + p->used));
    p->used = (size_t)(out - p->buf);
    p->n = n;
    cur->slot = (unsigned)(slot - slots);
}

static void append_singles(struct budp_packed *p, const budp_rx_slot *slots,
                           unsigned nslots, struct budp_view_cursor *cur,
                           unsigned max)
{
    if (p->flags == NULL && p->peers == NULL)
        append_singles_with(p, slots, nslots, cur, max, 0);
    else
        append_singles_with(p, slots, nslots, cur, max, 1);
}

unsigned budp_packed_from_slots(struct budp_packed *p, const budp_rx_slot *slots,
                                unsigned nslots, struct budp_view_cursor *cur,
                                unsigned max, budp_datagram *scratch,
                                unsigned scratch_capacity, uint32_t max_datagram)
{
    unsigned before = p->n;

    while (p->n < max && cur->slot < nslots) {
        const budp_rx_slot *slot = &slots[cur->slot];
        unsigned want, k;

        if (cur->offset == 0 && (slot->segment_size == 0 || slot->len == 0)) {
            unsigned at = cur->slot;

            append_singles(p, slots, nslots, cur, max);
            if (cur->slot == at)
                break;   /* the next datagram does not fit */
            continue;
        }
        /* GRO segments, split into views. */
        want = max - p->n < scratch_capacity ? max - p->n : scratch_capacity;
        k = budp_views_fill_within(slots, nslots, cur, scratch, want, max_datagram,
                                   p->size - p->used, &p->tally);
        if (k == 0)
            break;
        for (unsigned i = 0; i < k; i++)
            put(p, &scratch[i]);
    }
    return p->n - before;
}
