/* test_veth.c - GRO and GSO across a real link: two network namespaces made
 * by this test and joined by a veth pair.  Exits 77 (skipped, with the
 * reason) where the machine does not allow creating them. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "testutil.h"

static char ns_a[32], ns_b[32];

/* A veth pair: 10.203.0.1 in a, 10.203.0.2 in b, MTU 1500.  The neighbour
 * entries are made permanent: datagrams sent while ARP still resolves wait
 * in a small queue and the overflow is dropped before any socket sees it. */
static int setup_namespaces(void)
{
    if (tn_make(ns_a, sizeof ns_a, "a") < 0 || tn_make(ns_b, sizeof ns_b, "b") < 0)
        return -1;
    if (tn_run("ip link add va address 02:00:00:00:00:0a netns %s type veth "
               "peer name vb address 02:00:00:00:00:0b netns %s", ns_a, ns_b) != 0 ||
        tn_run("ip -n %s addr add 10.203.0.1/24 dev va", ns_a) != 0 ||
        tn_run("ip -n %s addr add 10.203.0.2/24 dev vb", ns_b) != 0 ||
        tn_run("ip -n %s link set va up", ns_a) != 0 ||
        tn_run("ip -n %s link set vb up", ns_b) != 0 ||
        tn_run("ip -n %s neigh replace 10.203.0.2 lladdr 02:00:00:00:00:0b dev va "
               "nud permanent", ns_a) != 0 ||
        tn_run("ip -n %s neigh replace 10.203.0.1 lladdr 02:00:00:00:00:0a dev vb "
               "nud permanent", ns_b) != 0)
        return -1;
    return 0;
}

/* A UDP socket created inside namespace ns, bound to host, wrapped. */
static budp_socket *socket_in(const char *ns, const char *host, const budp_options *o,
                              int *fd_out)
{
    int fd = tn_socket_in(ns, AF_INET, host);
    budp_socket *s = NULL;

    ck_assert_int_eq(budp_open(&s, fd, o), 0);
    *fd_out = fd;
    return s;
}

static void across(unsigned count, size_t size, int gro, int gso, budp_stats *rx_st,
                   budp_stats *tx_st)
{
    budp_options *orx = tu_options(BUDP_OPT_GRO, (int64_t)gro,
                                   BUDP_OPT_RECV_BUFFER, (int64_t)(8 << 20), 0);
    budp_options *otx = tu_options(BUDP_OPT_GSO, (int64_t)gso, BUDP_OPT_BATCH_SIZE,
                                   (int64_t)8, 0);
    int fa, fb;
    budp_socket *tx = socket_in(ns_a, "10.203.0.1", otx, &fa);
    budp_socket *rx = socket_in(ns_b, "10.203.0.2", orx, &fb);
    budp_addr dest = tu_local(rx);

    /* Paced by tu_send_seq's batches of 8 so no queue overflows. */
    tu_send_seq(tx, &dest, 0, 0, count, size, 8);
    ck_assert_uint_eq(tu_recv_seq(rx, count, 2000), count);
    *rx_st = tu_stats(rx);
    *tx_st = tu_stats(tx);
    ck_assert_uint_eq(rx_st->rx_truncated, 0);
    budp_close(rx);
    budp_close(tx);
    close(fa);
    close(fb);
    budp_options_free(orx);
    budp_options_free(otx);
}

START_TEST(test_gso_to_gro_across_veth)
{
    budp_stats rx, tx;

    across(tu_scaled(4000, 200), 1400, 1, 1, &rx, &tx);
    printf("veth GSO->GRO: tx_coalesced %llu, rx_coalesced %llu, rx_syscalls %llu\n",
           (unsigned long long)tx.tx_coalesced, (unsigned long long)rx.rx_coalesced,
           (unsigned long long)rx.rx_syscalls);
    ck_assert_uint_gt(tx.tx_coalesced, 0);
    ck_assert_uint_gt(rx.rx_coalesced, 0);
}
END_TEST

START_TEST(test_gso_without_gro_across_veth)
{
    budp_stats rx, tx;

    across(tu_scaled(4000, 200), 1400, 0, 1, &rx, &tx);
    ck_assert_uint_gt(tx.tx_coalesced, 0);
    ck_assert_uint_eq(rx.rx_coalesced, 0);
}
END_TEST

START_TEST(test_plain_to_gro_across_veth)
{
    budp_stats rx, tx;

    across(tu_scaled(2000, 200), 700, 1, 0, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 0);
}
END_TEST

START_TEST(test_segments_over_mtu_fall_back)
{
    budp_stats rx, tx;

    /* 2000-byte segments do not fit the 1500-byte MTU: the kernel refuses
     * the GSO send, the library sends them one by one, IP fragments them,
     * and they arrive whole. */
    across(64, 2000, 1, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_gso_fallbacks, 1);
    ck_assert_uint_eq(tx.tx_coalesced, 0);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    if (geteuid() != 0 || setup_namespaces() < 0) {
        printf("SKIP: cannot create network namespaces here (needs root and "
               "`ip netns`); the veth GRO/GSO tests did not run\n");
        return 77;
    }
    s = suite_create("veth");
    tc = tcase_create("veth");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gso_to_gro_across_veth);
    tcase_add_test(tc, test_gso_without_gro_across_veth);
    tcase_add_test(tc, test_plain_to_gro_across_veth);
    tcase_add_test(tc, test_segments_over_mtu_fall_back);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
