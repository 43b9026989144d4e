/* test_netpath.c - pacing and path errors across real links, in the
 * namespaces of netpath_topology.h.  Exits 77 (skipped, with the reason)
 * where the machine does not allow creating namespaces. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "bpf_tstamp.h"
#include "netpath.h"
#include "testutil.h"

/* Without fq the same datagrams leave at once: what the capability's 0
 * means, and what tells the timings above from chance. */
START_TEST(pacing_not_honoured_without_fq)
{
    struct netpath_pair p;
    budp_socket *tx, *rx;
    char detail[128];
    uint64_t offsets[20], arrival[20];
    budp_addr dest;

    netpath_pair_open(&p, BUDP_BACKEND_AUTO);
    tx = p.tx;
    rx = p.rx;
    dest = tu_local(rx);
    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    ck_assert_int_eq(netpath_support_from_a(tx, &dest, detail, sizeof detail), 0);
    ck_assert_msg(strncmp(detail, "va: ", 4) == 0, "detail: %s", detail);
    /* The same answer for an IPv6 destination on that link, and for one
     * routed through r. */
    {
        budp_addr v6;
        ck_assert_int_eq(budp_addr_from_string(&v6, "fd04:2::2", 9), 0);
        ck_assert_int_eq(netpath_support_from_a(tx, &v6, detail, sizeof detail), 0);
        ck_assert_msg(strncmp(detail, "va: ", 4) == 0, "detail: %s", detail);
    }
    for (unsigned i = 0; i < 20; i++)
        offsets[i] = (uint64_t)i * 10000000u;
    netpath_paced_round(tx, rx, 20, offsets, arrival, NULL);
    ck_assert_msg(arrival[19] - arrival[0] < 100000000u,
                  "unpaced datagrams spread over %.1f ms",
                  (double)(arrival[19] - arrival[0]) / 1e6);
    netpath_pair_close(&p);
}
END_TEST

/* Each datagram leaves with the time it asked for, and a GSO train with
 * its first datagram's: seen by a tc program on a's link (bpf_tstamp.h)
 * that writes each packet's departure time into its payload.  No queue
 * discipline here honours the times (see test_pacing_fq for one that
 * does), so this checks what the library hands the kernel. */
START_TEST(departure_times_reach_the_packets)
{
    struct netpath_pair p;
    budp_socket *tx, *rx;
    char why[320];
    uint64_t offsets[20], arrival[20], stamped[40];

    if (bpf_tstamp_attach(ns_a, "va", why, sizeof why) < 0) {
        /* Counted as a failure: the kernel here has what this needs. */
        ck_abort_msg("observer not attached: %s", why);
    }
    netpath_pair_open(&p, BUDP_BACKEND_AUTO);
    tx = p.tx;
    rx = p.rx;
    /* One by one, 10 ms apart (and the last one untimed: it leaves at
     * once, with no time). */
    for (unsigned i = 0; i < 20; i++)
        offsets[i] = (uint64_t)i * 10000000u;
    netpath_paced_round(tx, rx, 20, offsets, arrival, stamped);
    for (unsigned i = 0; i < 20; i++)
        ck_assert_msg(stamped[i] == stamped[20 + i],
                      "datagram %u left with time %llu, asked %llu", i,
                      (unsigned long long)stamped[i], (unsigned long long)stamped[20 + i]);
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, 0);
    /* Four trains of five, 10 ms apart, the times within a train up to
     * the granularity apart: one packet each, with the first one's time
     * (the other segments' payloads are untouched). */
    for (unsigned i = 0; i < 20; i++)
        offsets[i] = (uint64_t)(i / 5) * 10000000u + (i % 5) * (BUDP_PACING_GRANULARITY_NS / 4);
    netpath_paced_round(tx, rx, 20, offsets, arrival, stamped);
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, 4);
    for (unsigned i = 0; i < 20; i++) {
        uint64_t expect = i % 5 == 0 ? stamped[20 + i] : 0;
        ck_assert_msg(stamped[i] == expect, "datagram %u left with time %llu, expected %llu",
                      i, (unsigned long long)stamped[i], (unsigned long long)expect);
    }
    netpath_pair_close(&p);
}
END_TEST

/* The loop backend (one sendmsg per datagram) hands the times over too. */
START_TEST(departure_times_on_loop_backend)
{
    struct netpath_pair p;
    budp_socket *tx, *rx;
    char why[320];
    uint64_t offsets[8], arrival[8], stamped[16];

    if (bpf_tstamp_attach(ns_a, "va", why, sizeof why) < 0)
        ck_abort_msg("observer not attached: %s", why);
    netpath_pair_open(&p, BUDP_BACKEND_LOOP);
    tx = p.tx;
    rx = p.rx;
    ck_assert_str_eq(budp_backend_name(tx), "loop");
    for (unsigned i = 0; i < 8; i++)
        offsets[i] = (uint64_t)i * 1000000u;
    netpath_paced_round(tx, rx, 8, offsets, arrival, stamped);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_uint_eq(stamped[i], stamped[8 + i]);
    netpath_pair_close(&p);
}
END_TEST

/* Read events from s until one of origin comes, or two seconds pass. */
static int event_of(budp_socket *s, int origin, budp_error_event *out)
{
    double deadline = tu_now_ms() + 2000;

    while (tu_now_ms() < deadline) {
        budp_error_event ev[8];
        int n = budp_recv_errors(s, ev, 8);

        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++)
            if (ev[i].origin == origin) {
                *out = ev[i];
                return 1;
            }
        if (n == 0)
            tu_sleep_ms(10);
    }
    return 0;
}

/* A 1400-byte datagram with the don't-fragment bit, to b behind r's
 * 1280-byte link: r's "fragmentation needed" (ICMPv6 "packet too big")
 * comes back as an event with b's address and the MTU; the next send of
 * that size is refused here, and reported so. */
static void path_mtu_round(int family, const char *src, const char *dst,
                           const char *router)
{
    int v6 = family == AF_INET6, fd = tn_socket_in(ns_a, family, src);
    int pmtu = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
    budp_options *o = tu_options(BUDP_OPT_ERRORS, (int64_t)1, 0);
    budp_socket *s = NULL;
    budp_addr dest, offender;
    budp_error_event ev;
    uint8_t payload[1400] = { 0 };
    budp_datagram d;

    ck_assert_int_eq(setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                                v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &pmtu,
                                sizeof pmtu), 0);
    ck_assert_int_eq(budp_open(&s, fd, o), 0);
    budp_options_free(o);
    ck_assert_int_eq(budp_addr_from_string(&dest, dst, 4433), 0);
    ck_assert_int_eq(budp_addr_from_string(&offender, router, 0), 0);
    d = tu_datagram(payload, sizeof payload, &dest);

    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    ck_assert_msg(event_of(s, v6 ? BUDP_ERROR_ORIGIN_ICMP6 : BUDP_ERROR_ORIGIN_ICMP, &ev),
                  "no ICMP event");
    ck_assert_int_eq(ev.error, -EMSGSIZE);
    ck_assert_uint_eq(ev.mtu, 1280);
    ck_assert_int_eq(ev.icmp_type, v6 ? 2 : 3);
    ck_assert_int_eq(ev.icmp_code, v6 ? 0 : 4);
    ck_assert_mem_eq(&ev.destination, &dest, sizeof dest);
    ck_assert_mem_eq(&ev.offender, &offender, sizeof offender);

    /* The path MTU is known now: the same datagram is refused here. */
    ck_assert_int_eq(budp_send(s, &d, 1), -EMSGSIZE);
    ck_assert_msg(event_of(s, BUDP_ERROR_ORIGIN_LOCAL, &ev), "no local event");
    ck_assert_int_eq(ev.error, -EMSGSIZE);
    ck_assert_uint_eq(ev.mtu, 1280);
    /* Linux keeps no port for a local error on an unconnected IPv4
     * socket (it reports the connected port, 0). */
    ck_assert_uint_eq(ev.destination.family, dest.family);
    ck_assert_mem_eq(ev.destination.bytes, dest.bytes, sizeof dest.bytes);
    ck_assert_uint_eq(ev.destination.port, v6 ? dest.port : 0);
    ck_assert_uint_eq(ev.offender.family, BUDP_AF_UNSPEC);
    /* One that fits still goes. */
    d.len = 1200;
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    ck_assert_uint_ge(tu_stats(s).error_events, 2);
    budp_close(s);
    close(fd);
}

START_TEST(path_mtu_v4) { path_mtu_round(AF_INET, "10.204.1.1", "10.204.2.2", "10.204.1.2"); }
END_TEST
START_TEST(path_mtu_v6) { path_mtu_round(AF_INET6, "fd04:1::1", "fd04:2::2", "fd04:1::2"); }
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    if (netpath_setup_or_skip("the pacing and path MTU tests") != 0)
        return 77;
    s = suite_create("netpath");
    tc = tcase_create("netpath");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pacing_not_honoured_without_fq);
    tcase_add_test(tc, departure_times_reach_the_packets);
    tcase_add_test(tc, departure_times_on_loop_backend);
    tcase_add_test(tc, path_mtu_v4);
    tcase_add_test(tc, path_mtu_v6);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
