/* views.c - slots to views; a GRO slot becomes one view per segment. */
#include "config.h"

#include <string.h>

#include "views.h"

unsigned budp_slot_datagrams(const struct budp_rx_slot *slot)
{
    if (slot->segment_size == 0 || slot->len == 0)
        return 1;
    return (slot->len + slot->segment_size - 1) / slot->segment_size;
}

static inline void view_of(budp_datagram *v, const struct budp_rx_slot *slot,
                           uint32_t offset, uint32_t len, uint32_t max_datagram,
                           struct budp_view_tally *tally)
{
    uint32_t flags = slot->flags;

    if (slot->segment_size != 0) {
        flags |= BUDP_DGRAM_COALESCED;
        if (flags & BUDP_SLOT_LAST_CUT) {
            flags &= ~BUDP_SLOT_LAST_CUT;
            if (offset + len == slot->len)
                flags |= BUDP_DGRAM_TRUNCATED;
        }
        if (len > max_datagram) {
            len = max_datagram;
            flags |= BUDP_DGRAM_TRUNCATED;
        }
    }
    v->data = slot->buf + offset;
    v->len = len;
    v->flags = flags;
    v->peer = slot->peer;
    if (flags & BUDP_DGRAM_HAS_LOCAL)
        v->local = slot->local;
    else
        memset(&v->local, 0, sizeof v->local);
    v->segment_size = slot->segment_size;
    v->ecn = slot->ecn;
    /* time_ns and reserved stay as the views were allocated: zero.  No
     * option fills them yet, and views are const to the application. */
    tally->datagrams++;
    tally->bytes += len;
    /* One test on the common path for the two rare flags. */
    if (flags & (BUDP_DGRAM_TRUNCATED | BUDP_DGRAM_CONTROL_TRUNCATED)) {
        tally->truncated += !!(flags & BUDP_DGRAM_TRUNCATED);
        tally->control_truncated += !!(flags & BUDP_DGRAM_CONTROL_TRUNCATED);
    }
}

unsigned budp_views_fill(const struct budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, budp_datagram *views,
                         unsigned max, uint32_t max_datagram,
                         struct budp_view_tally *tally)
{
    unsigned n = 0;

    while (n < max && cur->slot < nslots) {
        const struct budp_rx_slot *slot = &slots[cur->slot];

        if (slot->segment_size == 0 || slot->len == 0) {
            view_of(&views[n++], slot, 0, slot->len, max_datagram, tally);
            cur->slot++;
            continue;
        }
        /* GRO: every segment is segment_size bytes but the last, which may
         * be shorter. */
        while (n < max && cur->offset < slot->len) {
            uint32_t left = slot->len - cur->offset;
            uint32_t len = left < slot->segment_size ? left : slot->segment_size;
            view_of(&views[n++], slot, cur->offset, len, max_datagram, tally);
            cur->offset += len;
        }
        if (cur->offset >= slot->len) {
            if (slot->len > slot->segment_size)
                tally->coalesced++;
            cur->slot++;
            cur->offset = 0;
        }
    }
    return n;
}
