/* notify.c - eventfd(EFD_CLOEXEC|EFD_NONBLOCK), or a non-blocking pipe
 * created close-on-exec (pipe2 where the system has it: a pipe that gets
 * the flag later may leak into a child another thread execs meanwhile). */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

#include "notify.h"
#include "sys.h"

#ifndef HAVE_PIPE2
static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return budp_sys_error();
    return 0;
}
#endif

int budp_notify_open(struct budp_notify *n)
{
    int fds[2];

#if defined(HAVE_SYS_EVENTFD_H) && defined(HAVE_EVENTFD)
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0) {
        n->read_fd = n->write_fd = fd;
        return 0;
    }
#endif
#ifdef HAVE_PIPE2
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return budp_sys_error();
#else
    if (pipe(fds) < 0)
        return budp_sys_error();
    if (set_flags(fds[0]) < 0 || set_flags(fds[1]) < 0) {
        int err = budp_sys_error();
        close(fds[0]);
        close(fds[1]);
        return err;
    }
#endif
    n->read_fd = fds[0];
    n->write_fd = fds[1];
    return 0;
}

void budp_notify_close(struct budp_notify *n)
{
    if (n->read_fd >= 0)
        close(n->read_fd);
    if (n->write_fd >= 0 && n->write_fd != n->read_fd)
        close(n->write_fd);
    n->read_fd = n->write_fd = -1;
}

int budp_notify_signal(struct budp_notify *n)
{
    ssize_t rc;

    if (n->read_fd == n->write_fd) {
        uint64_t one = 1;
        do
            rc = write(n->write_fd, &one, sizeof one);
        while (rc < 0 && errno == EINTR);
    } else {
        char one = 1;
        do
            rc = write(n->write_fd, &one, 1);
        while (rc < 0 && errno == EINTR);
    }
    /* EAGAIN: the counter (or pipe) is full, so it is readable already. */
    if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return budp_sys_error();
    return 0;
}

void budp_notify_drain(struct budp_notify *n)
{
    char buf[64];
    ssize_t rc;

    do
        rc = read(n->read_fd, buf, sizeof buf);
    while (rc > 0 || (rc < 0 && errno == EINTR));
}

int budp_notify_wait(struct budp_notify *n, int timeout_ms)
{
    struct budp_sys_pollfd p = { n->read_fd, 0, 0 };
    int rc = budp_sys_poll(&p, 1, timeout_ms);

    return rc < 0 ? rc : rc > 0;
}
