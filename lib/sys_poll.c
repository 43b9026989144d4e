/* sys_poll.c - poll(2) with EINTR retried against the original deadline,
 * and a sleep. */
#include "build_config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "sys.h"

/* The library never waits on more than this many fds at once. */
#define MAX_FDS 4

int budp_sys_poll(struct budp_sys_pollfd *fds, unsigned n, int timeout_ms)
{
    struct pollfd p[MAX_FDS];
    struct timespec start, now;
    int rc, left = timeout_ms;

    if (n > MAX_FDS)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++) {
        p[i].fd = fds[i].fd;
        p[i].events = fds[i].errors_only ? 0 : POLLIN;
        p[i].revents = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        rc = poll(p, (nfds_t)n, left);
        if (rc >= 0 || errno != EINTR)
            break;
        if (timeout_ms < 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
                                  (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left < 0)
            left = 0;
    }
    if (rc < 0)
        return budp_sys_error();
    for (unsigned i = 0; i < n; i++)
        fds[i].ready = p[i].revents != 0;
    return rc;
}

void budp_sys_sleep_us(unsigned us)
{
    struct timespec pause = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

    nanosleep(&pause, NULL);
}
