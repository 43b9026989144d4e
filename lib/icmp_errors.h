/* icmp_errors.h - the errors an ICMP message (or a local refusal the
 * kernel also queues, with IP_RECVERR) leaves pending on a socket for its
 * next receive or send, one at a time.  With BUDP_OPT_ERRORS they arrive
 * as events too, so the call that meets one tries again: the pending
 * error is used up by then, though the ICMP messages of earlier sends may
 * still be arriving one after another, each leaving its own. */
#ifndef BUDP_ICMP_ERRORS_H
#define BUDP_ICMP_ERRORS_H

#include <errno.h>

/* Attempts after the first: enough for a burst of messages to land
 * between them; an error that comes back every time is the call's own.
 * EMSGSIZE, which a datagram too large for the path gives at every try
 * (and reports as an event each time), is tried again once only. */
#define BUDP_PENDING_ERROR_RETRIES 4

/* 1 when a call that failed with err after `tries` attempts again should
 * try once more. */
static inline int budp_retry_pending_error(int err, unsigned tries);

static inline int budp_error_is_icmp_borne(int err)
{
    switch (-err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EMSGSIZE:
    case EPROTO:
    case ENOPROTOOPT:
    case EACCES:
    case EPERM:
        return 1;
    default:
        return 0;
    }
}

static inline int budp_retry_pending_error(int err, unsigned tries)
{
    if (!budp_error_is_icmp_borne(err))
        return 0;
    return tries < (err == -EMSGSIZE ? 1u : (unsigned)BUDP_PENDING_ERROR_RETRIES);
}

#endif
