/* addr.h - conversions between struct sockaddr and the fixed-layout budp_addr. */
#ifndef BUDP_ADDR_H
#define BUDP_ADDR_H

#include <sys/socket.h>

#include "batchudp.h"

/* Fill out from the len bytes at sa (AF_INET or AF_INET6).  Any other
 * family, or fewer bytes than the family's sockaddr takes (a kernel's
 * msg_namelen is not trusted either), gives BUDP_AF_UNSPEC. */
void budp_addr_from_sockaddr(budp_addr *out, const struct sockaddr *sa,
                             socklen_t len);

/* Write a into ss for a socket of family sock_family (BUDP_AF_*): an IPv4
 * address on an IPv6 socket becomes v4-mapped.  Returns the length to pass to the kernel,
 * or 0 for BUDP_AF_UNSPEC, or -EINVAL for an unknown family. */
int budp_addr_to_sockaddr(const budp_addr *a, int sock_family,
                          struct sockaddr_storage *ss);

/* Parse a numeric host (with an optional %scope for IPv6) and port. */
int budp_addr_parse(struct sockaddr_storage *ss, socklen_t *len,
                    const char *host, uint16_t port);

/* 1 when a and b name the same address and port (unused bytes ignored). */
int budp_addr_equal(const budp_addr *a, const budp_addr *b);

#endif
