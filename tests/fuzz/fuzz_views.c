/* fuzz_views.c - the view builder over a run of slots, taken a few views
 * at a time as budp_recv takes them: every call stays within its max and
 * the buffers, the cursor only moves forward, and the views of all calls
 * together are the simple split of each slot (one view, or one per GRO
 * segment clipped to max_datagram), with the slot's flags.
 *
 * Input: max_datagram, the slots (capacity, length, segment size, flags),
 * then the max of each call. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SLOTS 8
/* 8 slots of at most 64 segments, and room for a max past the end. */
#define MAX_VIEWS 1024

/* One view as the reference split gives it. */
struct ref_view {
    unsigned slot;
    uint32_t offset, len, flags;
};

static unsigned reference_split(const budp_rx_slot *slots, unsigned nslots,
                                uint32_t max_datagram, struct ref_view *out)
{
    unsigned n = 0;

    for (unsigned s = 0; s < nslots; s++) {
        const budp_rx_slot *sl = &slots[s];
        uint32_t seg = sl->segment_size;

        if (seg == 0 || sl->len == 0) {
            out[n++] = (struct ref_view){ s, 0, sl->len, sl->flags };
            continue;
        }
        for (uint32_t off = 0; off < sl->len; off += seg) {
            uint32_t len = sl->len - off < seg ? sl->len - off : seg;
            uint32_t flags = (sl->flags & ~BUDP_SLOT_LAST_CUT) | BUDP_DGRAM_COALESCED;

            if ((sl->flags & BUDP_SLOT_LAST_CUT) && off + len == sl->len)
                flags |= BUDP_DGRAM_TRUNCATED;
            if (len > max_datagram) {
                len = max_datagram;
                flags |= BUDP_DGRAM_TRUNCATED;
            }
            out[n++] = (struct ref_view){ s, off, len, flags };
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ref_view ref[MAX_VIEWS];
    static budp_datagram views[MAX_VIEWS];
    struct fuzz_input in;
    budp_rx_slot slots[MAX_SLOTS];
    uint32_t capacity[MAX_SLOTS];
    struct budp_view_cursor cur = { 0, 0 };
    struct budp_view_tally tally;
    uint8_t *seen[MAX_SLOTS];
    unsigned nslots, nref, got = 0;
    uint32_t max_datagram;
    uint64_t bytes = 0, expected_views = 0;
    int ok = 1;

    fuzz_input_init(&in, data, size);
    max_datagram = 1 + fuzz_u16(&in) % 65535;
    nslots = 1 + fuzz_u8(&in) % MAX_SLOTS;
    memset(slots, 0, sizeof slots);
    memset(seen, 0, sizeof seen);
    for (unsigned s = 0; s < nslots; s++) {
        uint8_t shape = fuzz_u8(&in), f;
        budp_rx_slot *sl = &slots[s];

        /* Small buffers most of the time: inputs stay fast. */
        capacity[s] = (shape & 1) ? 1u + fuzz_u16(&in) : 1u + fuzz_u8(&in) * 4u;
        sl->data = malloc(capacity[s]);
        seen[s] = calloc(capacity[s], 1);
        if (sl->data == NULL || seen[s] == NULL) {
            ok = 0;
            nslots = s + 1;
            break;
        }
        memset(budp_slot_buffer(sl), (int)s, capacity[s]);
        sl->len = fuzz_u16(&in) % (capacity[s] + 1);
        /* What budp_msg_finish_recv promises a slot is: a single datagram
         * within max_datagram, or GRO segments, at most 64 of them. */
        if (shape & 2) {
            uint32_t seg = 1 + fuzz_u16(&in) % 65535;
            if (sl->len > 0 && seg < sl->len &&
                (sl->len + seg - 1) / seg <= BUDP_GRO_MAX_SEGMENTS)
                sl->segment_size = (uint16_t)seg;
        }
        if (sl->segment_size == 0 && sl->len > max_datagram)
            sl->len = max_datagram;
        f = fuzz_u8(&in);
        sl->flags = f & (BUDP_DGRAM_TRUNCATED | BUDP_DGRAM_HAS_LOCAL |
                         BUDP_DGRAM_HAS_ECN | BUDP_DGRAM_CONTROL_TRUNCATED);
        /* The cut mark exists on GRO slots only (budp_msg_finish_recv). */
        if ((f & 0x80) && sl->segment_size != 0)
            sl->flags |= BUDP_SLOT_LAST_CUT;
        sl->ecn = (sl->flags & BUDP_DGRAM_HAS_ECN) ? fuzz_u8(&in) & 3 : 0;
        sl->peer.family = BUDP_AF_INET;
        sl->peer.port = (uint16_t)s;
        /* A slot is its own view: its destination is all zero without
         * the flag. */
        if (sl->flags & BUDP_DGRAM_HAS_LOCAL) {
            sl->local.family = BUDP_AF_INET6;
            sl->local.port = (uint16_t)(s + 100);
        }
        expected_views += budp_slot_datagrams(sl);
    }
    if (!ok)
        goto out;
    FUZZ_CHECK(expected_views <= MAX_VIEWS);
    nref = reference_split(slots, nslots, max_datagram, ref);
    FUZZ_CHECK(nref == expected_views);

    memset(&tally, 0, sizeof tally);
    while (got < nref) {
        unsigned max = fuzz_empty(&in) ? 64 : fuzz_u8(&in) % 70;
        struct budp_view_cursor before = cur;
        unsigned n;

        /* The sentinel past max must stay untouched. */
        if (max + got < MAX_VIEWS)
            memset(&views[got + max], 0xee, sizeof views[0]);
        n = budp_views_fill(slots, nslots, &cur, &views[got], max, max_datagram, &tally);
        FUZZ_CHECK(n <= max);
        FUZZ_CHECK(n == (max < nref - got ? max : nref - got));
        if (max + got < MAX_VIEWS) {
            const uint8_t *b = (const uint8_t *)&views[got + max];
            for (size_t i = 0; i < sizeof views[0]; i++)
                FUZZ_CHECK(b[i] == 0xee);
        }
        if (n > 0)
            FUZZ_CHECK(cur.slot > before.slot ||
                       (cur.slot == before.slot && cur.offset > before.offset));
        else
            FUZZ_CHECK(cur.slot == before.slot && cur.offset == before.offset);
        FUZZ_CHECK(cur.slot <= nslots);
        for (unsigned i = got; i < got + n; i++) {
            const budp_datagram *v = &views[i];
            const struct ref_view *r = &ref[i];
            const budp_rx_slot *sl = &slots[r->slot];

            FUZZ_CHECK(v->data == sl->data + r->offset);
            FUZZ_CHECK(v->len == r->len && v->flags == r->flags);
            FUZZ_CHECK(r->offset + v->len <= sl->len && sl->len <= capacity[r->slot]);
            FUZZ_CHECK(v->segment_size == sl->segment_size && v->ecn == sl->ecn);
            FUZZ_CHECK(v->peer.family == BUDP_AF_INET && v->peer.port == r->slot);
            if (v->flags & BUDP_DGRAM_HAS_LOCAL)
                FUZZ_CHECK(v->local.family == BUDP_AF_INET6 &&
                           v->local.port == r->slot + 100);
            else
                FUZZ_CHECK(v->local.family == BUDP_AF_UNSPEC && v->local.port == 0);
            for (uint32_t b = 0; b < v->len; b++) {
                FUZZ_CHECK(v->data[b] == (uint8_t)r->slot);
                FUZZ_CHECK(seen[r->slot][r->offset + b]++ == 0);
            }
            bytes += v->len;
        }
        got += n;
    }
    FUZZ_CHECK(cur.slot == nslots && cur.offset == 0);
    FUZZ_CHECK(budp_views_fill(slots, nslots, &cur, views, 8, max_datagram, &tally) == 0);
    FUZZ_CHECK(tally.datagrams == nref && tally.bytes == bytes);
    /* Every byte viewed once where no segment was clipped. */
    for (unsigned s = 0; s < nslots; s++) {
        int clipped = slots[s].segment_size > max_datagram;
        for (uint32_t b = 0; b < slots[s].len; b++)
            FUZZ_CHECK(clipped || seen[s][b] == 1);
    }
out:
    for (unsigned s = 0; s < nslots; s++) {
        free(budp_slot_buffer(&slots[s]));
        free(seen[s]);
    }
    return 0;
}
