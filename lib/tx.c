/* tx.c - budp_send: validation, then the backend's batch send under the
 * socket's send lock (senders may run on several threads). */
#include "config.h"

#include <errno.h>

#include "calls.h"
#include "handle.h"

static int datagram_valid(const budp_datagram *d)
{
    /* time_ns waits for pacing: a later release gives it a meaning. */
    if (d->flags != 0 || d->segment_size != 0 || d->len > 65535 || d->time_ns != 0 ||
        (d->data == NULL && d->len > 0) || d->ecn > 3)
        return 0;
    for (unsigned i = 0; i < sizeof d->reserved; i++)
        if (d->reserved[i] != 0)
            return 0;
    return (d->peer.family == BUDP_AF_UNSPEC || d->peer.family == BUDP_AF_INET ||
            d->peer.family == BUDP_AF_INET6) &&
           (d->local.family == BUDP_AF_UNSPEC || d->local.family == BUDP_AF_INET ||
            d->local.family == BUDP_AF_INET6);
}

/* Send the well-formed prefix of d; a malformed datagram is the first one
 * of a later call, which then fails on it alone. */
static int send_valid_prefix(budp_socket *s, const budp_datagram *d, unsigned n)
{
    struct budp_tx_report rep = { 0, 0, 0, 0 };
    unsigned valid = 0;
    uint64_t bytes = 0;
    int rc;

    while (valid < n && datagram_valid(&d[valid]))
        valid++;
    if (valid == 0)
        return -EINVAL;

    pthread_mutex_lock(&s->tx_lock);
    rc = s->backend->send(s->backend_state, d, valid, &s->tx_params, &rep);
    pthread_mutex_unlock(&s->tx_lock);

    if (rep.syscalls)
        BUDP_STAT_ADD(&s->stats, tx_syscalls, rep.syscalls);
    if (rep.coalesced)
        BUDP_STAT_ADD(&s->stats, tx_coalesced, rep.coalesced);
    if (rep.gso_fallbacks)
        BUDP_STAT_ADD(&s->stats, tx_gso_fallbacks, rep.gso_fallbacks);
    if (rep.anomalies)
        BUDP_STAT_ADD(&s->stats, kernel_anomalies, rep.anomalies);
    if (rc < 0) {
        if (rc != -EAGAIN)
            BUDP_STAT_ADD(&s->stats, tx_errors, 1);
        return rc;
    }
    for (int i = 0; i < rc; i++)
        bytes += d[i].len;
    BUDP_STAT_ADD(&s->stats, tx_datagrams, rc);
    BUDP_STAT_ADD(&s->stats, tx_bytes, bytes);
    return rc;
}

int budp_send(budp_socket *s, const budp_datagram *d, unsigned n)
{
    int rc;

    if (s == NULL || d == NULL || n == 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = send_valid_prefix(s, d, n);
    budp_call_leave(s);
    return rc;
}
