/* test_views.c - slots to views: GRO super-datagrams split into their
 * segments without copying, with every edge case of the last segment. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"
#include "testutil.h"

static uint8_t buffer[65536];

static budp_rx_slot gro_slot(uint32_t len, uint16_t segment)
{
    budp_rx_slot s;

    memset(&s, 0, sizeof s);
    s.data = buffer;
    s.len = len;
    s.segment_size = segment;
    s.peer.family = BUDP_AF_INET;
    s.peer.port = 4242;
    return s;
}

/* Split one slot fully with views of at most `step` per fill; check every
 * view points at the right bytes. */
static unsigned split_all(const budp_rx_slot *slot, unsigned step,
                          uint32_t max_datagram, struct budp_view_tally *tally)
{
    static budp_datagram views[70000];
    struct budp_view_cursor cur = { 0, 0 };
    unsigned total = 0;
    uint32_t offset = 0;

    memset(tally, 0, sizeof *tally);
    while (cur.slot < 1) {
        unsigned n = budp_views_fill(slot, 1, &cur, views + total, step,
                                     max_datagram, tally);
        ck_assert_uint_gt(n, 0);
        ck_assert_uint_le(n, step);
        for (unsigned i = 0; i < n; i++) {
            const budp_datagram *v = &views[total + i];
            ck_assert_ptr_eq(v->data, slot->data + offset);
            ck_assert_uint_eq(v->peer.port, 4242);
            ck_assert_uint_eq(v->segment_size, slot->segment_size);
            if (slot->segment_size)
                ck_assert(v->flags & BUDP_DGRAM_COALESCED);
            offset += slot->segment_size && slot->segment_size < slot->len - offset
                          ? slot->segment_size : slot->len - offset;
        }
        total += n;
    }
    ck_assert_uint_eq(offset, slot->len);
    /* The cursor stands past the slot, nothing of it left over. */
    ck_assert_uint_eq(cur.slot, 1);
    ck_assert_uint_eq(cur.offset, 0);
    return total;
}

START_TEST(test_plain_slot_is_one_view)
{
    budp_rx_slot s = gro_slot(1200, 0);
    struct budp_view_tally t;

    ck_assert_uint_eq(split_all(&s, 64, 2048, &t), 1);
    ck_assert_uint_eq(t.bytes, 1200);
    ck_assert_uint_eq(t.coalesced, 0);
}
END_TEST

START_TEST(test_last_segment_shorter)
{
    budp_rx_slot s = gro_slot(1400 * 9 + 123, 1400);
    struct budp_view_tally t;

    ck_assert_uint_eq(split_all(&s, 64, 2048, &t), 10);
    ck_assert_uint_eq(t.bytes, 1400 * 9 + 123);
    ck_assert_uint_eq(t.coalesced, 1);
}
END_TEST

START_TEST(test_one_segment)
{
    budp_rx_slot s = gro_slot(1400, 1400);
    struct budp_view_tally t;

    ck_assert_uint_eq(split_all(&s, 64, 2048, &t), 1);
    ck_assert_uint_eq(t.coalesced, 0);
}
END_TEST

START_TEST(test_segment_size_one)
{
    budp_rx_slot s = gro_slot(64, 1);
    struct budp_view_tally t;

    ck_assert_uint_eq(split_all(&s, 64, 2048, &t), 64);
    ck_assert_uint_eq(t.datagrams, 64);
}
END_TEST

START_TEST(test_sixty_four_segments_in_small_steps)
{
    budp_rx_slot s = gro_slot(64 * 1000, 1000);
    struct budp_view_tally t;

    /* A view array smaller than the segment count: the cursor resumes. */
    ck_assert_uint_eq(split_all(&s, 5, 2048, &t), 64);
    ck_assert_uint_eq(t.coalesced, 1);
}
END_TEST

START_TEST(test_largest_coalesced_size)
{
    budp_rx_slot s = gro_slot(65535, 1472);
    struct budp_view_tally t;
    unsigned expect = (65535 + 1471) / 1472;

    ck_assert_uint_eq(split_all(&s, 64, 2048, &t), expect);
    ck_assert_uint_eq(t.bytes, 65535);
}
END_TEST

START_TEST(test_segments_longer_than_max_are_truncated)
{
    budp_rx_slot s = gro_slot(3000, 1000);
    budp_datagram views[8];
    struct budp_view_cursor cur = { 0, 0 };
    struct budp_view_tally t;

    memset(&t, 0, sizeof t);
    ck_assert_uint_eq(budp_views_fill(&s, 1, &cur, views, 8, 600, &t), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(views[i].len, 600);
        ck_assert(views[i].flags & BUDP_DGRAM_TRUNCATED);
        ck_assert_ptr_eq(views[i].data, buffer + 1000 * i);
    }
    ck_assert_uint_eq(t.truncated, 3);
}
END_TEST

/* MSG_TRUNC on a GRO receive: its last segment, and only that one, is
 * flagged cut; the library's own mark never reaches a view. */
START_TEST(test_cut_receive_flags_its_last_segment)
{
    budp_rx_slot slot = gro_slot(250, 100);
    struct budp_view_cursor cur = { 0, 0 };
    struct budp_view_tally tally;
    budp_datagram v[4];
    unsigned n;

    memset(&tally, 0, sizeof tally);
    slot.flags = BUDP_SLOT_LAST_CUT;
    /* Two fills, so that the last segment is met in a fill of its own. */
    n = budp_views_fill(&slot, 1, &cur, v, 2, 2048, &tally);
    n += budp_views_fill(&slot, 1, &cur, v + n, 2, 2048, &tally);
    ck_assert_uint_eq(n, 3);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(v[i].flags & BUDP_SLOT_LAST_CUT, 0);
        ck_assert_uint_eq(!!(v[i].flags & BUDP_DGRAM_TRUNCATED), i == 2);
    }
    ck_assert_uint_eq(v[2].len, 50);
    ck_assert_uint_eq(tally.truncated, 1);
}
END_TEST

START_TEST(test_mixed_slots_keep_order)
{
    budp_rx_slot slots[3] = { gro_slot(10, 0), gro_slot(30, 10), gro_slot(0, 0) };
    budp_datagram views[8];
    struct budp_view_cursor cur = { 0, 0 };
    struct budp_view_tally t;

    memset(&t, 0, sizeof t);
    ck_assert_uint_eq(budp_views_fill(slots, 3, &cur, views, 8, 2048, &t), 5);
    ck_assert_uint_eq(views[0].len, 10);
    ck_assert_uint_eq(views[1].len, 10);
    ck_assert_uint_eq(views[3].len, 10);
    ck_assert_uint_eq(views[4].len, 0);
    ck_assert_uint_eq(cur.slot, 3);
    ck_assert_uint_eq(budp_slot_datagrams(&slots[1]), 3);
    ck_assert_uint_eq(budp_slot_datagrams(&slots[2]), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("views");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, test_plain_slot_is_one_view);
    tcase_add_test(tc, test_last_segment_shorter);
    tcase_add_test(tc, test_one_segment);
    tcase_add_test(tc, test_segment_size_one);
    tcase_add_test(tc, test_sixty_four_segments_in_small_steps);
    tcase_add_test(tc, test_largest_coalesced_size);
    tcase_add_test(tc, test_segments_longer_than_max_are_truncated);
    tcase_add_test(tc, test_mixed_slots_keep_order);
    tcase_add_test(tc, test_cut_receive_flags_its_last_segment);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
