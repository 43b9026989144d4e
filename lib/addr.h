/* addr.h - conversions between struct sockaddr and the fixed-layout budp_addr. */
#ifndef BUDP_ADDR_H
#define BUDP_ADDR_H

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "batchudp.h"

/* Fill out from the len bytes at sa (AF_INET or AF_INET6).  Any other
 * family, or fewer bytes than the family's sockaddr takes (a kernel's
 * msg_namelen is not trusted either), gives BUDP_AF_UNSPEC.  Inline: every
 * received datagram's source address goes through it. */
static inline void budp_addr_from_sockaddr(budp_addr *out, const struct sockaddr *sa,
                                           socklen_t len)
{
    /* Read no byte past len: no family's address is shorter than
     * sockaddr_in, which holds the family field too.  Each field is
     * written once, the unused ones as zeros. */
    if ((size_t)len >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        out->family = BUDP_AF_INET;
        out->port = ntohs(sin->sin_port);
        out->scope_id = 0;
        memcpy(out->bytes, &sin->sin_addr, 4);
        memset(out->bytes + 4, 0, sizeof out->bytes - 4);
    } else if ((size_t)len >= sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        out->family = BUDP_AF_INET6;
        out->port = ntohs(sin6->sin6_port);
        out->scope_id = sin6->sin6_scope_id;
        memcpy(out->bytes, &sin6->sin6_addr, 16);
    } else {
        memset(out, 0, sizeof *out);
    }
}

/* Write a into ss for a socket of family sock_family (BUDP_AF_*): an IPv4
 * address on an IPv6 socket becomes v4-mapped.  Returns the length to pass
 * to the kernel, or 0 for BUDP_AF_UNSPEC, or -EINVAL for an unknown
 * family.  Only those length bytes are written, every one of them (the
 * kernel reads no more).  Inline: every datagram sent goes through it. */
static inline int budp_addr_to_sockaddr(const budp_addr *a, int sock_family,
                                        struct sockaddr_storage *ss)
{
    if (a->family == BUDP_AF_INET && sock_family != BUDP_AF_INET6) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        /* Zeroed first: sin_zero, and sin_len where the BSDs have one. */
        memset(sin, 0, sizeof *sin);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        return (int)sizeof *sin;
    }
    if (a->family == BUDP_AF_INET || a->family == BUDP_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        memset(sin6, 0, sizeof *sin6);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        if (a->family == BUDP_AF_INET) {
            /* A dual-stack socket reaches IPv4 peers through mapped
             * addresses. */
            sin6->sin6_addr.s6_addr[10] = 0xff;
            sin6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&sin6->sin6_addr.s6_addr[12], a->bytes, 4);
        } else {
            sin6->sin6_scope_id = a->scope_id;
            memcpy(&sin6->sin6_addr, a->bytes, 16);
        }
        return (int)sizeof *sin6;
    }
    return a->family == BUDP_AF_UNSPEC ? 0 : -EINVAL;
}

/* Parse a numeric host (with an optional %scope for IPv6) and port. */
int budp_addr_parse(struct sockaddr_storage *ss, socklen_t *len,
                    const char *host, uint16_t port);

/* 1 when a and b name the same address and port (unused bytes ignored). */
int budp_addr_equal(const budp_addr *a, const budp_addr *b);

#endif
