/* test_pacing_fq.c - departure times honoured: datagrams asked to leave
 * 10 ms apart arrive 10 ms apart through fq, one by one and as GSO
 * trains, and budp_pacing_support says so.  Exits 77 (skipped, with the
 * reason) where namespaces cannot be made or the kernel has no fq. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "netpath.h"
#include "testutil.h"

/* How late a datagram may arrive after its time: the receive time is
 * taken as the packet enters r, after fq's timer fired in a, both on a
 * shared, busy machine.  2 ms; BUDP_PACING_TOLERANCE_MS sets another (an
 * emulated machine's timers fire later: tools/pacing-vm.sh sets 5). */
static uint64_t tolerance_ns(void)
{
    const char *ms = getenv("BUDP_PACING_TOLERANCE_MS");

    return (ms != NULL && atoi(ms) > 0 ? (uint64_t)atoi(ms) : 2u) * 1000000u;
}

/* Each datagram arrives within the tolerance after its time, the schedule
 * placed at the least delayed arrival (fq never sends early, a busy
 * machine can only make a datagram late): so every gap is the one asked
 * within the tolerance, and the schedule does not drift.  The largest
 * lateness is printed, for the record. */
static void check_schedule(const uint64_t *arrival, const uint64_t *offsets, unsigned n,
                           const char *what)
{
    uint64_t base = UINT64_MAX, worst = 0, tolerance = tolerance_ns();

    for (unsigned i = 0; i < n; i++)
        if (arrival[i] - offsets[i] < base)
            base = arrival[i] - offsets[i];
    for (unsigned i = 0; i < n; i++) {
        uint64_t late = arrival[i] - offsets[i] - base;

        ck_assert_msg(late <= tolerance,
                      "%s: datagram %u arrived %.3f ms after its time (%.3f ms into the "
                      "schedule)", what, i, (double)late / 1e6,
                      (double)(arrival[i] - base) / 1e6);
        if (late > worst)
            worst = late;
    }
    printf("%s: every datagram within %.3f ms of its time (tolerance %.0f ms)\n", what,
           (double)worst / 1e6, (double)tolerance / 1e6);
}

START_TEST(pacing_honoured_by_fq)
{
    struct netpath_pair p;
    budp_socket *tx, *rx;
    char detail[128];
    uint64_t offsets[20], arrival[20];
    budp_stats warm;
    budp_addr dest;

    netpath_pair_open(&p, BUDP_BACKEND_AUTO);
    tx = p.tx;
    rx = p.rx;
    dest = tu_local(rx);

    /* A veth's own queue sends at once. */
    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    ck_assert_int_eq(netpath_support_from_a(tx, &dest, detail, sizeof detail), 0);
    printf("without fq: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "va: "));

    ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev va root fq", ns_a), 0);
    ck_assert_int_eq(netpath_support_from_a(tx, &dest, detail, sizeof detail), 1);
    printf("with fq: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "fq"));

    /* A round unchecked first: the paths it takes for the first time
     * (page faults, an emulator's translation) are not the pacing's. */
    for (unsigned i = 0; i < 5; i++)
        offsets[i] = (uint64_t)i * 2000000u;
    netpath_paced_round(tx, rx, 5, offsets, arrival, NULL);
    ck_assert_int_eq(budp_get_stats(tx, &warm, sizeof warm), (int)sizeof warm);

    /* 20 datagrams asked to leave 10 ms apart. */
    for (unsigned i = 0; i < 20; i++)
        offsets[i] = (uint64_t)i * 10000000u;
    netpath_paced_round(tx, rx, 20, offsets, arrival, NULL);
    check_schedule(arrival, offsets, 20, "one by one");
    /* Each went on its own: times 10 ms apart never share a GSO send. */
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, warm.tx_coalesced);

    /* Four GSO trains of five, the trains 10 ms apart: each train leaves
     * whole at its time. */
    for (unsigned i = 0; i < 20; i++)
        offsets[i] = (uint64_t)(i / 5) * 10000000u;
    netpath_paced_round(tx, rx, 20, offsets, arrival, NULL);
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, warm.tx_coalesced + 4);
    check_schedule(arrival, offsets, 20, "GSO trains");

    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    netpath_pair_close(&p);
}
END_TEST

/* fq honours CLOCK_MONOTONIC only: a socket pacing in CLOCK_TAI is told
 * its times are not honoured there. */
START_TEST(pacing_support_names_the_clock)
{
    budp_socket *tai, *off;
    int f1, f2;
    char detail[128];
    budp_addr dest;

    ck_assert_int_eq(budp_addr_from_string(&dest, "10.204.1.2", 9), 0);
    tai = netpath_paced(BUDP_PACING_TAI, &f1);
    off = netpath_paced(BUDP_PACING_OFF, &f2);
    ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev va root fq", ns_a), 0);
    ck_assert_int_eq(netpath_support_from_a(tai, &dest, detail, sizeof detail), 0);
    ck_assert_ptr_nonnull(strstr(detail, "CLOCK_TAI"));
    ck_assert_int_eq(netpath_support_from_a(off, &dest, detail, sizeof detail), 0);
    ck_assert_ptr_nonnull(strstr(detail, "off"));
    /* No destination on an unconnected socket; no route. */
    ck_assert_int_eq(budp_pacing_support(tai, NULL, detail, sizeof detail), -EINVAL);
    ck_assert_int_eq(budp_addr_from_string(&dest, "192.0.2.1", 9), 0);
    tn_run("ip -n %s route del default 2>/dev/null", ns_a);
    ck_assert_int_eq(netpath_support_from_a(tai, &dest, detail, sizeof detail), -ENETUNREACH);
    tn_run("ip -n %s route add default via 10.204.1.2", ns_a);
    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    budp_close(tai);
    budp_close(off);
    close(f1);
    close(f2);
}
END_TEST

/* A multiqueue device: mq at the root, a queue discipline per transmit
 * queue.  Honoured only when every queue's is fq. */
START_TEST(pacing_support_through_mq)
{
    budp_socket *s;
    int fd;
    char detail[128];
    budp_addr dest;

    ck_assert_int_eq(tn_run("ip -n %s link add vm0 numtxqueues 4 type veth peer name vm1 "
                            "numtxqueues 4 netns %s", ns_a, ns_r), 0);
    ck_assert_int_eq(tn_run("ip -n %s addr add 10.205.0.1/24 dev vm0 && "
                            "ip -n %s link set vm0 up", ns_a, ns_a), 0);
    ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev vm0 root handle 1: mq",
                            ns_a), 0);
    for (int q = 1; q <= 4; q++)
        ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev vm0 parent 1:%d fq",
                                ns_a, q), 0);
    s = netpath_paced(BUDP_PACING_MONOTONIC, &fd);
    ck_assert_int_eq(budp_addr_from_string(&dest, "10.205.0.2", 9), 0);
    ck_assert_int_eq(netpath_support_from_a(s, &dest, detail, sizeof detail), 1);
    printf("mq, all fq: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "4 of 4"));
    ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev vm0 parent 1:3 pfifo",
                            ns_a), 0);
    ck_assert_int_eq(netpath_support_from_a(s, &dest, detail, sizeof detail), 0);
    printf("mq, one pfifo: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "3 of 4"));
    tn_run("ip -n %s link del vm0 2>/dev/null", ns_a);
    budp_close(s);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    if (netpath_setup_or_skip("the fq pacing tests") != 0 ||
        netpath_qdisc_or_skip("fq", "CONFIG_NET_SCH_FQ, the queue discipline that honours "
                              "CLOCK_MONOTONIC departure times", "the fq pacing tests") != 0)
        return 77;
    s = suite_create("pacing_fq");
    tc = tcase_create("fq");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pacing_honoured_by_fq);
    tcase_add_test(tc, pacing_support_names_the_clock);
    tcase_add_test(tc, pacing_support_through_mq);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
