/* pollwait.c - poll(2) with EINTR retried against the original deadline. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "pollwait.h"

int budp_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
    struct timespec start, now;
    int rc, left = timeout_ms;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        rc = poll(fds, (nfds_t)n, left);
        if (rc >= 0 || errno != EINTR)
            return rc < 0 ? -errno : rc;
        if (timeout_ms < 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
                                  (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left < 0)
            left = 0;
    }
}
