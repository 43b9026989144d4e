/* posix_base.h - what every backend built on POSIX sockets shares: the
 * socket options, the wake-up fd, and the table entries that need no more
 * (poll_fd, wait, wake, release).  A POSIX backend's state begins with a
 * struct budp_posix_base, so those entries can take the state as it is. */
#ifndef BUDP_POSIX_BASE_H
#define BUDP_POSIX_BASE_H

#include "backend.h"
#include "notify.h"
#include "posix_sockopt.h"

struct budp_posix_base {
    int fd;
    int family;                        /* BUDP_AF_* */
    int restore_fd;                    /* give saved back at release */
    struct budp_sockopt_saved saved;   /* the fd's options before */
    struct budp_notify wake;           /* ends a wait */
    int readable_fd;                   /* BUDP_OPT_ERRORS: polls readable
                                          for data and error events (the
                                          poll fd inline); -1 without */
};

/* What a backend needs of budp_posix_base_open beyond cfg. */
#define BUDP_BASE_GRO_CAPABLE 0x1u /* it splits coalesced receives: GRO
                                      may be turned on */
#define BUDP_BASE_APPLE_SEND  0x2u /* it sends through XNU's socket layer:
                                      keep SO_SNDBUF at least
                                      BUDP_APPLE_SEND_BUFFER (batchudp.h
                                      says why) */

/* Set up b for cfg: apply the socket options (as needs, BUDP_BASE_*),
 * open the wake-up fd.  *facts says what is on.  On failure nothing is
 * left changed. */
int budp_posix_base_open(struct budp_posix_base *b,
                         const struct budp_backend_config *cfg, unsigned needs,
                         struct budp_backend_facts *facts);

/* Table entries. */
int  budp_posix_poll_fd(void *state);
int  budp_posix_recv_errors(void *state, budp_error_event *ev, unsigned n);
int  budp_posix_wait(void *state, unsigned what, int timeout_ms);
int  budp_posix_wake(void *state);
void budp_posix_release(void *state);

#endif
