/* netns.h - network namespaces made by a test (with `ip netns`), torn down
 * at exit by the process that made them (Check forks per test). */
#ifndef BUDP_TEST_NETNS_H
#define BUDP_TEST_NETNS_H

#include <stddef.h>

/* Run a shell command made from fmt; its exit status. */
int tn_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Make a namespace named "budp<pid><tag>" into name (size bytes), removed
 * at exit.  0, or -1 where the machine does not allow it (not root, no
 * `ip netns`). */
int tn_make(char *name, size_t size, const char *tag);

/* A UDP socket of family (AF_INET, AF_INET6) made inside namespace ns and
 * bound to host port 0: the fd (fails the test on error). */
int tn_socket_in(const char *ns, int family, const char *host);

/* Move the calling thread into namespace ns (for queries that look at the
 * thread's own namespace); returns a handle for tn_leave. */
int tn_enter(const char *ns);
void tn_leave(int handle);

#endif
