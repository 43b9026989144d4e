/* netns.h - two network namespaces of the bench's own, joined by a veth
 * pair, for --mode relay: traffic between them crosses a real (virtual)
 * link, where GRO and GSO behave as on a NIC's path, not as on loopback. */
#ifndef BUDP_BENCH_NETNS_H
#define BUDP_BENCH_NETNS_H

#include <stddef.h>
#include <netinet/in.h>

struct netns_pair {
    char a[40], b[40];          /* names, as `ip netns list` shows them */
    char dev_a[16], dev_b[16];  /* the veth's ends, dev_a in a, dev_b in b */
    struct in_addr addr_a, addr_b;
    unsigned mtu;
};

/* Make the pair, once per process; later calls return the first call's
 * result.  The names carry the process id, so concurrent runs do not
 * collide.  From the first attempt on, the pair is removed at exit and on
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT (unless the process was started with
 * that signal ignored), and at once when making it fails half-way.
 * Returns 0 with *out set, or -errno with the reason (the failing `ip`
 * command and what it printed) in why. */
int netns_pair_get(const struct netns_pair **out, char *why, size_t size);

/* Remove the pair now, if it was made; idempotent, async-signal-safe. */
void netns_pair_remove(void);

/* Run fn(arg) on a new thread that has entered the namespace called name
 * (setns on its file under /run/netns): a socket stays in the namespace it
 * was created in, so fn can create sockets there that every thread may
 * then use, while the caller's thread never leaves its own namespace.
 * Returns what fn returned, or -errno, with the reason in why, when the
 * thread could not be created or could not enter the namespace. */
int netns_run(const char *name, int (*fn)(void *), void *arg,
              char *why, size_t size);

#endif
