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
};

/* Set up b for cfg: apply the socket options (GRO only when gro_capable),
 * open the wake-up fd.  *facts says what is on.  On failure nothing is
 * left changed. */
int budp_posix_base_open(struct budp_posix_base *b,
                         const struct budp_backend_config *cfg, int gro_capable,
                         struct budp_backend_facts *facts);

/* Table entries. */
int  budp_posix_poll_fd(void *state);
int  budp_posix_wait(void *state, unsigned what, int timeout_ms);
int  budp_posix_wake(void *state);
void budp_posix_release(void *state);

#endif
