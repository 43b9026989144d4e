/* netpath.h - three network namespaces joined by veth pairs,
 * for the tests of pacing and path errors:
 *
 *   a (va) 10.204.1.1 fd04:1::1 --- r (ra) 10.204.1.2 fd04:1::2
 *   r (rb) 10.204.2.1 fd04:2::1 --- b (vb) 10.204.2.2 fd04:2::2, MTU 1280
 *
 * with r forwarding between them and every neighbour entry permanent. */
#ifndef BUDP_TEST_NETPATH_H
#define BUDP_TEST_NETPATH_H

extern char ns_a[32], ns_r[32], ns_b[32];

/* Make them (torn down at exit).  0, or -1 where the machine does not
 * allow it. */
int netpath_setup(void);
/* netpath_setup for a suite's main: 0, or 77 (automake's "skipped") after
 * saying which tests (what) did not run and why. */
int netpath_setup_or_skip(const char *what);
/* For a suite that needs a queue discipline on a's link: 0 when
 * `tc qdisc replace dev va root QDISC` works (it is then taken off
 * again), else 77 after saying that the kernel lacks it (config, the
 * kernel option that builds it) and that what did not run. */
int netpath_qdisc_or_skip(const char *qdisc, const char *config, const char *what);

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

/* budp_open of a socket made in ns (tn_socket_in), with o (freed). */
budp_socket *netpath_open(const char *ns, int family, const char *host,
                          budp_options *o, int *fd);
/* A socket in a (10.204.1.1) pacing in clock (BUDP_PACING_*). */
budp_socket *netpath_paced(int clock, int *fd);

/* A paced sender in a (10.204.1.1, BUDP_PACING_MONOTONIC, on backend)
 * and a receiver of receive times in r (10.204.1.2, GRO off: each
 * datagram arrives with its own time), on fds made in the namespaces. */
struct netpath_pair {
    budp_socket *tx, *rx;
    int tx_fd, rx_fd;
};
void netpath_pair_open(struct netpath_pair *p, int backend);
void netpath_pair_close(struct netpath_pair *p);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t netpath_monotonic_ns(void);
/* budp_pacing_support asked from inside namespace a (it looks at the
 * calling thread's routes and interfaces). */
int netpath_support_from_a(const budp_socket *s, const budp_addr *dest, char *detail,
                           size_t size);
/* Send count (at most 32) datagrams of 1000 bytes from tx to rx in one
 * budp_send, the i-th timed 20 ms from now + offset_ns[i]; receive them
 * in order, with their receive times in arrival[] (rx has
 * BUDP_OPT_TIMESTAMPS).  The first 8 payload bytes are sent zero, the
 * sequence number follows.  stamped (2 * count, may be NULL) receives
 * the first 8 bytes of each payload as it arrived, then the times
 * asked. */
void netpath_paced_round(budp_socket *tx, budp_socket *rx, unsigned count,
                         const uint64_t *offset_ns, uint64_t *arrival,
                         uint64_t *stamped);

#endif
