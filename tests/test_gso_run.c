/* test_gso_run.c - which datagrams one UDP_SEGMENT send may carry. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "testutil.h"

static budp_datagram batch[200];
static uint8_t payload[2000];

static void make(unsigned n, uint32_t len)
{
    memset(batch, 0, sizeof batch);
    for (unsigned i = 0; i < n; i++) {
        batch[i].data = payload;
        batch[i].len = len;
        batch[i].peer.family = BUDP_AF_INET;
        batch[i].peer.port = 9;
        batch[i].peer.bytes[0] = 127;
        batch[i].peer.bytes[3] = 1;
    }
}

START_TEST(test_equal_sizes_one_run)
{
    make(10, 1200);
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 10);
}
END_TEST

START_TEST(test_run_capped_at_max_segments)
{
    make(65, 100);
    ck_assert_uint_eq(budp_gso_run(batch, 65, BUDP_GSO_MAX_SEGMENTS, 0), 64);
    ck_assert_uint_eq(budp_gso_run(batch + 64, 1, BUDP_GSO_MAX_SEGMENTS, 0), 1);
}
END_TEST

START_TEST(test_shorter_last_ends_run)
{
    make(10, 1000);
    batch[4].len = 500;
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 5);
}
END_TEST

START_TEST(test_longer_one_ends_run)
{
    make(10, 1000);
    batch[3].len = 1001;
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 3);
}
END_TEST

START_TEST(test_other_destination_ends_run)
{
    make(10, 1000);
    batch[6].peer.port = 10;
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 6);
    make(10, 1000);
    batch[2].local.family = BUDP_AF_INET;
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 2);
    make(10, 1000);
    batch[1].ecn = 1;
    ck_assert_uint_eq(budp_gso_run(batch, 10, 64, 0), 1);
}
END_TEST

START_TEST(test_unused_address_bytes_ignored)
{
    make(4, 1000);
    batch[2].peer.bytes[9] = 0xaa; /* beyond an IPv4 address */
    ck_assert_uint_eq(budp_gso_run(batch, 4, 64, 0), 4);
}
END_TEST

START_TEST(test_zero_length_never_coalesced)
{
    make(4, 0);
    ck_assert_uint_eq(budp_gso_run(batch, 4, 64, 0), 1);
    make(4, 100);
    batch[2].len = 0;
    ck_assert_uint_eq(budp_gso_run(batch, 4, 64, 0), 2);
}
END_TEST

START_TEST(test_total_bytes_bounded)
{
    make(64, 1472);
    /* 44 * 1472 = 64768 fits; 45 would pass 65507. */
    ck_assert_uint_eq(budp_gso_run(batch, 64, 64, 0), 44);
}
END_TEST

/* With pacing, a run leaves at its first datagram's time: later times in
 * order within BUDP_PACING_GRANULARITY_NS ride along, others start a new
 * send; without pacing a time is a malformed datagram. */
START_TEST(test_times_split_runs)
{
    const uint64_t t0 = 5000000000u, g = BUDP_PACING_GRANULARITY_NS;

    make(6, 1200);
    for (unsigned i = 0; i < 6; i++)
        batch[i].time_ns = t0;
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 6);
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 0), 1);
    batch[3].time_ns = t0 + g;          /* at the edge: rides along */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 6);
    batch[3].time_ns = t0 + g + 1;      /* past it: a new send */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 3);
    batch[3].time_ns = t0 - 1;          /* earlier than the first */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 3);
    batch[3].time_ns = 0;               /* "now" after a timed one */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 3);
    make(6, 1200);                       /* untimed: one run */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 6);
    batch[2].time_ns = t0;               /* a timed one after "now" */
    ck_assert_uint_eq(budp_gso_run(batch, 6, 64, 1), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gso_run");
    TCase *tc = tcase_create("run");

    tcase_add_test(tc, test_equal_sizes_one_run);
    tcase_add_test(tc, test_run_capped_at_max_segments);
    tcase_add_test(tc, test_shorter_last_ends_run);
    tcase_add_test(tc, test_longer_one_ends_run);
    tcase_add_test(tc, test_other_destination_ends_run);
    tcase_add_test(tc, test_unused_address_bytes_ignored);
    tcase_add_test(tc, test_zero_length_never_coalesced);
    tcase_add_test(tc, test_total_bytes_bounded);
    tcase_add_test(tc, test_times_split_runs);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
