/* receive.c - the receive call every mode makes. */
#include "build_config.h"

#include <errno.h>

#include "icmp_errors.h"
#include "options.h"
#include "receive.h"
#include "sys.h"

int budp_error_is_fatal(int err)
{
    return err == -EBADF || err == -ENOTSOCK || err == -EFAULT;
}

int budp_socket_receive(struct budp_socket *s, budp_rx_slot *slots,
                        unsigned n, struct budp_rx_summary *sum)
{
    int got;

    sum->bytes = 0;
    sum->flags = 0;
    sum->segments = 0;
    got = s->backend->recv(s->backend_state, slots, n, &s->rx_params, sum);

    if (got <= 0)
        return got;
    BUDP_STAT_ADD(&s->stats, rx_syscalls, budp_backend_rx_calls(s->backend, got));
    /* A wrapped fd that was not bound at budp_open gets its port from the
     * kernel on its first send: read it once it is there. */
    if (s->pktinfo && s->rx_params.local_port == 0 &&
        (s->rx_params.local_port = budp_sys_bound_port(s->fd)) != 0) {
        for (int i = 0; i < got; i++)
            if (slots[i].flags & BUDP_DGRAM_HAS_LOCAL)
                slots[i].local.port = s->rx_params.local_port;
    }
    return got;
}

int budp_socket_receive_after(struct budp_socket *s, budp_rx_slot *slots, unsigned n,
                              struct budp_rx_summary *sum, int err)
{
    if (!budp_opt(&s->opts, BUDP_OPT_ERRORS))
        return err;
    for (unsigned tries = 0; err < 0 && budp_retry_pending_error(err, tries); tries++)
        err = budp_socket_receive(s, slots, n, sum);
    return err;
}
