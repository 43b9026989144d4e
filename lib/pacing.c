/* pacing.c - budp_pacing_support: whether departure times to a
 * destination would be honoured. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "calls.h"
#include "options.h"
#include "sys.h"

int budp_pacing_support(const budp_socket *s, const budp_addr *dest, char *detail,
                        size_t size)
{
    char none[1];
    budp_addr peer;
    int64_t clock;
    int rc;

    if (s == NULL)
        return -EINVAL;
    if (detail == NULL || size == 0) {
        detail = none;
        size = sizeof none;
    }
    detail[0] = '\0';
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    clock = budp_opt(&s->opts, BUDP_OPT_PACING);
    if (dest == NULL) {
        /* The connected peer, read under the send lock (connect writes it). */
        struct budp_socket *w = (struct budp_socket *)(uintptr_t)s;

        pthread_mutex_lock(&w->tx_lock);
        peer = s->tx_params.peer;
        if (s->tx_params.connected)
            dest = &peer;
        pthread_mutex_unlock(&w->tx_lock);
    }
    if (dest == NULL || (dest->family != BUDP_AF_INET && dest->family != BUDP_AF_INET6)) {
        rc = -EINVAL;
    } else if (!(s->backend->caps & BUDP_CAN_PACING)) {
        snprintf(detail, size, "%s: no departure times", s->backend->name);
        rc = -ENOTSUP;
    } else if (clock == BUDP_PACING_OFF) {
        snprintf(detail, size, "pacing is off (BUDP_OPT_PACING)");
        rc = 0;
    } else {
        rc = budp_sys_pacing_honoured(dest, clock == BUDP_PACING_TAI, detail, size);
    }
    budp_call_leave(s);
    return rc;
}
