/* tx.c - budp_send: validation, then the backend's batch send under the
 * socket's send lock (senders may run on several threads). */
#include "build_config.h"

#include <errno.h>

#include "calls.h"
#include "handle.h"
#include "icmp_errors.h"
#include "options.h"

/* Send what the backend takes of d: it checks each datagram as it
 * prepares it (datagram_check.h) and stops before a malformed one, which
 * is then the first of a later call, and fails there alone: -EINVAL,
 * nothing sent, nothing counted. */
static int send_batch(budp_socket *s, const budp_datagram *d, unsigned n)
{
    struct budp_tx_report rep = { 0 };
    int rc;

    pthread_mutex_lock(&s->tx_lock);
    rc = s->backend->send(s->backend_state, d, n, &s->tx_params, &rep);
    /* With BUDP_OPT_ERRORS, a pending ICMP error is an event, not this
     * send's failure: nothing went, so the send is made again. */
    for (unsigned tries = 0; rc < 0 && budp_retry_pending_error(rc, tries) &&
                             budp_opt(&s->opts, BUDP_OPT_ERRORS); tries++)
        rc = s->backend->send(s->backend_state, d, n, &s->tx_params, &rep);
    pthread_mutex_unlock(&s->tx_lock);

    if (rep.syscalls)
        BUDP_STAT_ADD(&s->stats, tx_syscalls, rep.syscalls);
    if (rep.coalesced)
        BUDP_STAT_ADD(&s->stats, tx_coalesced, rep.coalesced);
    if (rep.gso_fallbacks)
        BUDP_STAT_ADD(&s->stats, tx_gso_fallbacks, rep.gso_fallbacks);
    if (rep.anomalies)
        BUDP_STAT_ADD(&s->stats, kernel_anomalies, rep.anomalies);
    if (rep.hidden_errors)
        BUDP_STAT_ADD(&s->stats, tx_errors, rep.hidden_errors);
    if (rep.unconfirmed)
        BUDP_STAT_ADD(&s->stats, tx_unconfirmed, rep.unconfirmed);
    if (rc < 0) {
        /* EAGAIN is back-pressure; EINVAL a datagram refused, by the
         * library's checks or the kernel's: neither is a send failure. */
        if (rc != -EAGAIN && rc != -EINVAL)
            BUDP_STAT_ADD(&s->stats, tx_errors, 1);
        return rc;
    }
    BUDP_STAT_ADD(&s->stats, tx_datagrams, rc);
    BUDP_STAT_ADD(&s->stats, tx_bytes, rep.bytes);
    return rc;
}

int budp_send(budp_socket *s, const budp_datagram *d, unsigned n)
{
    int rc;

    if (s == NULL || d == NULL || n == 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = send_batch(s, d, n);
    budp_call_leave(s);
    return rc;
}
