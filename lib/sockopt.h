/* sockopt.h - checks on a caller's fd and the socket options the library sets. */
#ifndef BUDP_SOCKOPT_H
#define BUDP_SOCKOPT_H

/* 0 when fd is an open AF_INET/AF_INET6 UDP socket; *family receives its
 * family.  Otherwise -EBADF, -ENOTSOCK, -EPROTOTYPE or -EAFNOSUPPORT. */
int budp_sockopt_check_udp(int fd, int *family);

/* Apply the receive options that are not a backend's business: receive
 * buffer size, destination address and ECN reporting.  Returns 0 or -errno
 * (an option the platform lacks: -ENOTSUP). */
int budp_sockopt_apply(int fd, int family, int64_t recv_buffer, int pktinfo,
                       int ecn);

#endif
