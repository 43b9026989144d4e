/* posix_base.c - the table entries every POSIX backend shares. */
#include "build_config.h"

#include "posix_base.h"
#include "posix_errqueue.h"
#include "sys.h"

int budp_posix_base_open(struct budp_posix_base *b,
                         const struct budp_backend_config *cfg, unsigned needs,
                         struct budp_backend_facts *facts)
{
    struct budp_sockopt_request req;
    int rc;

    b->fd = cfg->fd;
    b->family = cfg->family;
    b->restore_fd = cfg->restore_fd;
    b->wake.read_fd = b->wake.write_fd = -1;
    b->readable_fd = -1;
    req.recv_buffer = cfg->recv_buffer;
    req.send_floor = (needs & BUDP_BASE_APPLE_SEND) ? BUDP_APPLE_SEND_BUFFER : 0;
    req.pktinfo = cfg->pktinfo;
    req.ecn = cfg->ecn;
    req.timestamps = cfg->timestamps;
    req.errors = cfg->errors;
    req.pacing = cfg->pacing;
    /* Off where the backend cannot split coalesced receives: a GRO the
     * socket does not expect would merge datagrams. */
    req.gro = cfg->gro && (needs & BUDP_BASE_GRO_CAPABLE);
    rc = budp_sockopt_apply(b->fd, b->family, &req, &b->saved, &facts->gro);
    if (rc < 0)
        return rc;
    rc = budp_notify_open(&b->wake);
    if (rc == 0 && cfg->errors && (rc = budp_errqueue_readable_fd(b->fd)) >= 0) {
        b->readable_fd = rc;
        rc = 0;
    }
    if (rc < 0) {
        budp_notify_close(&b->wake);
        budp_sockopt_restore(b->fd, &b->saved);
    }
    return rc;
}

int budp_posix_poll_fd(void *state)
{
    const struct budp_posix_base *b = state;

    return b->readable_fd >= 0 ? b->readable_fd : b->fd;
}

int budp_posix_recv_errors(void *state, budp_error_event *ev, unsigned n)
{
    return budp_errqueue_read(((struct budp_posix_base *)state)->fd, ev, n);
}

int budp_posix_wait(void *state, unsigned what, int timeout_ms)
{
    struct budp_posix_base *b = state;
    struct budp_sys_pollfd p[2] = { { b->wake.read_fd, 0, 0 }, { b->fd, 0, 0 } };
    int rc = budp_sys_poll(p, (what & BUDP_WAIT_SOCKET) ? 2 : 1, timeout_ms);

    if (rc > 0 && p[0].ready && (what & BUDP_WAIT_TAKE))
        budp_notify_drain(&b->wake);
    return rc;
}

int budp_posix_wake(void *state)
{
    return budp_notify_signal(&((struct budp_posix_base *)state)->wake);
}

void budp_posix_release(void *state)
{
    struct budp_posix_base *b = state;

    budp_notify_close(&b->wake);
    if (b->readable_fd >= 0)
        budp_sys_close(b->readable_fd);
    b->readable_fd = -1;
    if (b->restore_fd)
        budp_sockopt_restore(b->fd, &b->saved);
}
