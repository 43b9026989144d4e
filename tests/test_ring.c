/* test_ring.c - the SPSC slot ring on its own: indices, wrap, batch commit
 * and release, and a two-thread transfer that TSan checks. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "testutil.h"

START_TEST(test_init_rejects_bad_capacity)
{
    struct budp_ring r;

    ck_assert_int_lt(budp_ring_init(&r, 0, 16, 0), 0);
    ck_assert_int_lt(budp_ring_init(&r, 1, 16, 0), 0);
    ck_assert_int_lt(budp_ring_init(&r, 6, 16, 0), 0);
    ck_assert_int_eq(budp_ring_init(&r, 8, 16, 0), 0);
    ck_assert_uint_eq(r.mask, 7);
    budp_ring_destroy(&r);
}
END_TEST

START_TEST(test_fill_commit_release)
{
    struct budp_ring r;
    budp_rx_slot *first;

    ck_assert_int_eq(budp_ring_init(&r, 8, 16, 0), 0);
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 8);
    ck_assert_ptr_eq(first, &r.slots[0]);
    ck_assert_uint_eq(budp_ring_ready(&r, 0), 0);

    budp_ring_commit(&r, 5);
    ck_assert_uint_eq(budp_ring_ready(&r, 0), 5);
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 3);
    ck_assert_ptr_eq(first, &r.slots[5]);

    /* Nothing released yet: the free run stops at the capacity. */
    budp_ring_commit(&r, 3);
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 0);

    /* Release 6: free slots are 0..5, but the run from tail (8 -> slot 0)
     * is contiguous up to head's slot. */
    budp_ring_release(&r, 6);
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 6);
    ck_assert_ptr_eq(first, &r.slots[0]);
    budp_ring_destroy(&r);
}
END_TEST

START_TEST(test_ready_run_stops_at_wrap)
{
    struct budp_ring r;
    budp_rx_slot *first;

    ck_assert_int_eq(budp_ring_init(&r, 4, 16, 0), 0);
    budp_ring_commit(&r, 3);
    budp_ring_release(&r, 3);
    budp_ring_free_run(&r, &first);
    ck_assert_ptr_eq(first, &r.slots[3]);
    budp_ring_commit(&r, 1);        /* slot 3 */
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 3); /* slots 0..2 */
    budp_ring_commit(&r, 2);        /* slots 0, 1 */
    ck_assert_uint_eq(budp_ring_ready(&r, 3), 3);
    ck_assert_uint_eq(budp_ring_ready_run(&r, 3, &first), 1);
    ck_assert_ptr_eq(first, &r.slots[3]);
    ck_assert_uint_eq(budp_ring_ready_run(&r, 4, &first), 2);
    ck_assert_ptr_eq(first, &r.slots[0]);
    budp_ring_destroy(&r);
}
END_TEST

START_TEST(test_indices_wrap_at_32_bits)
{
    struct budp_ring r;
    budp_rx_slot *first;
    uint32_t start = UINT32_MAX - 2;

    ck_assert_int_eq(budp_ring_init(&r, 8, 16, 0), 0);
    atomic_store(&r.tail, start);
    atomic_store(&r.head, start);
    ck_assert_uint_eq(budp_ring_free_run(&r, &first), 8 - (start & 7));
    budp_ring_commit(&r, 5);        /* tail wraps past zero */
    ck_assert_uint_eq(budp_ring_ready(&r, start), 5);
    budp_ring_release(&r, start + 5);
    ck_assert_uint_eq(budp_ring_ready(&r, start + 5), 0);
    budp_ring_destroy(&r);
}
END_TEST

/* Two threads: the producer writes a sequence number into each slot; the
 * consumer checks that every number arrives once, in order. */
struct transfer {
    struct budp_ring ring;
    uint32_t total;
};

static void *producer(void *arg)
{
    struct transfer *t = arg;
    uint32_t seq = 0;

    while (seq < t->total) {
        budp_rx_slot *first;
        uint32_t room = budp_ring_free_run(&t->ring, &first);
        uint32_t n = room < t->total - seq ? room : t->total - seq;

        if (n > 7)
            n = 7; /* odd batches exercise the wrap */
        for (uint32_t i = 0; i < n; i++) {
            memcpy(budp_slot_buffer(&first[i]), &seq, sizeof seq);
            first[i].len = sizeof seq;
            seq++;
        }
        if (n > 0)
            budp_ring_commit(&t->ring, n);
        else
            sched_yield();
    }
    return NULL;
}

START_TEST(test_two_thread_transfer)
{
    struct transfer t;
    pthread_t th;
    uint32_t expect = 0, read = 0;

    t.total = tu_scaled(200000, 5000);
    ck_assert_int_eq(budp_ring_init(&t.ring, 16, 8, 0), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, producer, &t), 0);
    while (expect < t.total) {
        budp_rx_slot *first;
        uint32_t n = budp_ring_ready_run(&t.ring, read, &first);

        for (uint32_t i = 0; i < n; i++) {
            uint32_t got;
            ck_assert_uint_eq(first[i].len, sizeof got);
            memcpy(&got, first[i].data, sizeof got);
            ck_assert_uint_eq(got, expect);
            expect++;
        }
        read += n;
        if (n > 0)
            budp_ring_release(&t.ring, read);
        else
            sched_yield();
    }
    pthread_join(th, NULL);
    ck_assert_uint_eq(budp_ring_ready(&t.ring, read), 0);
    budp_ring_destroy(&t.ring);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("ring");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_init_rejects_bad_capacity);
    tcase_add_test(tc, test_fill_commit_release);
    tcase_add_test(tc, test_ready_run_stops_at_wrap);
    tcase_add_test(tc, test_indices_wrap_at_32_bits);
    tcase_add_test(tc, test_two_thread_transfer);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
