/* posix_sockopt.h - the socket options the POSIX backends set on a socket,
 * remembered so that a wrapped fd gets its own back. */
#ifndef BUDP_POSIX_SOCKOPT_H
#define BUDP_POSIX_SOCKOPT_H

#include <stdint.h>

/* What a socket asks of its fd. */
struct budp_sockopt_request {
    int64_t recv_buffer;  /* SO_RCVBUF bytes, 0: leave */
    int64_t send_floor;   /* SO_SNDBUF raised to at least this many bytes
                             when below, 0: leave */
    int pktinfo;          /* report destination addresses */
    int ecn;              /* report ECN codepoints */
    int gro;              /* UDP_GRO on (1) or off (0): always set where the
                             kernel knows it, since a GRO the socket does not
                             expect would merge datagrams */
    int timestamps;       /* report receive times */
    int errors;           /* queue ICMP and local errors (IP_RECVERR) */
    int pacing;           /* BUDP_PACING_*: SO_TXTIME in that clock */
};

/* The options changed, with their values before. */
struct budp_sockopt_saved {
    struct { int level, name, value; } opt[16];
    unsigned count;
};

/* Apply req to fd (of family BUDP_AF_*), recording in saved what it changed; *gro_on tells
 * whether UDP_GRO is on.  On failure, what was changed is put back first.
 * Returns 0 or -errno (an option the platform lacks: -ENOTSUP). */
int budp_sockopt_apply(int fd, int family, const struct budp_sockopt_request *req,
                       struct budp_sockopt_saved *saved, int *gro_on);

/* Put back every option saved records. */
void budp_sockopt_restore(int fd, const struct budp_sockopt_saved *saved);

#endif
