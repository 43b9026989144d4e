/* netpath.c - the namespaces and helpers of the path tests (netpath.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "netns.h"
#include "netpath.h"

char ns_a[32], ns_r[32], ns_b[32];

int netpath_setup(void)
{
    if (tn_make(ns_a, sizeof ns_a, "a") < 0 || tn_make(ns_r, sizeof ns_r, "r") < 0 ||
        tn_make(ns_b, sizeof ns_b, "b") < 0)
        return -1;
    if (tn_run("ip link add va address 02:00:00:00:01:0a netns %s type veth "
               "peer name ra address 02:00:00:00:01:0b netns %s", ns_a, ns_r) != 0 ||
        tn_run("ip link add rb address 02:00:00:00:02:0a netns %s type veth "
               "peer name vb address 02:00:00:00:02:0b netns %s", ns_r, ns_b) != 0 ||
        tn_run("ip -n %s link set rb mtu 1280 && ip -n %s link set vb mtu 1280",
               ns_r, ns_b) != 0 ||
        tn_run("ip -n %s addr add 10.204.1.1/24 dev va && "
               "ip -n %s addr add fd04:1::1/64 dev va nodad", ns_a, ns_a) != 0 ||
        tn_run("ip -n %s addr add 10.204.1.2/24 dev ra && "
               "ip -n %s addr add fd04:1::2/64 dev ra nodad && "
               "ip -n %s addr add 10.204.2.1/24 dev rb && "
               "ip -n %s addr add fd04:2::1/64 dev rb nodad",
               ns_r, ns_r, ns_r, ns_r) != 0 ||
        tn_run("ip -n %s addr add 10.204.2.2/24 dev vb && "
               "ip -n %s addr add fd04:2::2/64 dev vb nodad", ns_b, ns_b) != 0 ||
        tn_run("ip -n %s link set va up && ip -n %s link set ra up && "
               "ip -n %s link set rb up && ip -n %s link set vb up",
               ns_a, ns_r, ns_r, ns_b) != 0 ||
        tn_run("ip -n %s route add default via 10.204.1.2 && "
               "ip -n %s -6 route add default via fd04:1::2", ns_a, ns_a) != 0 ||
        tn_run("ip -n %s route add default via 10.204.2.1 && "
               "ip -n %s -6 route add default via fd04:2::1", ns_b, ns_b) != 0 ||
        tn_run("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 "
               "net.ipv6.conf.all.forwarding=1", ns_r) != 0 ||
        /* Neighbours known from the start: no datagram waits on ARP or
         * neighbour discovery, which would blur the timings. */
        tn_run("ip -n %s neigh replace 10.204.1.2 lladdr 02:00:00:00:01:0b dev va nud permanent && "
               "ip -n %s neigh replace fd04:1::2 lladdr 02:00:00:00:01:0b dev va nud permanent && "
               "ip -n %s neigh replace 10.204.1.1 lladdr 02:00:00:00:01:0a dev ra nud permanent && "
               "ip -n %s neigh replace fd04:1::1 lladdr 02:00:00:00:01:0a dev ra nud permanent && "
               "ip -n %s neigh replace 10.204.2.2 lladdr 02:00:00:00:02:0b dev rb nud permanent && "
               "ip -n %s neigh replace fd04:2::2 lladdr 02:00:00:00:02:0b dev rb nud permanent",
               ns_a, ns_a, ns_r, ns_r, ns_r, ns_r) != 0)
        return -1;
    return 0;
}

int netpath_setup_or_skip(const char *what)
{
    if (geteuid() == 0 && netpath_setup() == 0)
        return 0;
    printf("SKIP: cannot create network namespaces here (needs root and `ip netns`); "
           "%s did not run\n", what);
    return 77;
}

int netpath_qdisc_or_skip(const char *qdisc, const char *config, const char *what)
{
    if (tn_run("ip netns exec %s tc qdisc replace dev va root %s 2>/dev/null", ns_a,
               qdisc) != 0) {
        printf("SKIP: this kernel cannot set up `%s` (%s); %s did not run\n", qdisc,
               config, what);
        return 77;
    }
    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    return 0;
}

budp_socket *netpath_open(const char *ns, int family, const char *host,
                            budp_options *o, int *fd)
{
    budp_socket *s = NULL;

    *fd = tn_socket_in(ns, family, host);
    ck_assert_int_eq(budp_open(&s, *fd, o), 0);
    budp_options_free(o);
    return s;
}

budp_socket *netpath_paced(int clock, int *fd)
{
    return netpath_open(ns_a, AF_INET, "10.204.1.1",
                        tu_options(BUDP_OPT_PACING, (int64_t)clock, 0), fd);
}

void netpath_pair_open(struct netpath_pair *p, int backend)
{
    p->tx = netpath_open(ns_a, AF_INET, "10.204.1.1",
                         tu_options(BUDP_OPT_PACING, (int64_t)BUDP_PACING_MONOTONIC,
                                    BUDP_OPT_BACKEND, (int64_t)backend, 0),
                         &p->tx_fd);
    p->rx = netpath_open(ns_r, AF_INET, "10.204.1.2",
                         tu_options(BUDP_OPT_TIMESTAMPS, (int64_t)1, BUDP_OPT_GRO, (int64_t)0, 0),
                         &p->rx_fd);
}

void netpath_pair_close(struct netpath_pair *p)
{
    budp_close(p->tx);
    budp_close(p->rx);
    close(p->tx_fd);
    close(p->rx_fd);
}

uint64_t netpath_monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Ask budp_pacing_support from inside namespace a (it looks at the
 * calling thread's routes and interfaces). */
int netpath_support_from_a(const budp_socket *s, const budp_addr *dest, char *detail,
                          size_t size)
{
    int back = tn_enter(ns_a);
    int rc = budp_pacing_support(s, dest, detail, size);

    tn_leave(back);
    return rc;
}

void netpath_paced_round(budp_socket *tx, budp_socket *rx, unsigned count,
                         const uint64_t *offset_ns, uint64_t *arrival,
                         uint64_t *stamped)
{
    budp_addr dest = tu_local(rx);
    budp_datagram d[32];
    uint8_t payload[32][1000];
    uint64_t start = netpath_monotonic_ns() + 20000000u;
    unsigned got = 0;
    double deadline = tu_now_ms() + 5000;

    ck_assert_uint_le(count, 32);
    memset(payload, 0, sizeof payload);
    for (unsigned i = 0; i < count; i++) {
        uint32_t seq = i;
        memcpy(payload[i] + 8, &seq, sizeof seq);
        d[i] = tu_datagram(payload[i], sizeof payload[i], &dest);
        d[i].time_ns = start + offset_ns[i];
    }
    ck_assert_int_eq(budp_send(tx, d, count), (int)count);
    while (got < count && tu_now_ms() < deadline) {
        const budp_datagram *v;
        int n;

        (void)budp_wait(rx, 100);
        n = budp_recv(rx, &v, 32);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++, got++) {
            uint32_t seq;
            ck_assert_uint_eq(v[i].len, 1000);
            memcpy(&seq, v[i].data + 8, sizeof seq);
            ck_assert_uint_eq(seq, got);
            ck_assert(v[i].flags & BUDP_DGRAM_HAS_TIME);
            arrival[got] = v[i].time_ns;
            if (stamped != NULL)
                memcpy(&stamped[got], v[i].data, sizeof stamped[got]);
        }
    }
    ck_assert_uint_eq(got, count);
    /* The times asked, for the caller's comparisons. */
    for (unsigned i = 0; stamped != NULL && i < count; i++)
        stamped[count + i] = start + offset_ns[i];
}
