/* sockopt.c - fd checks and socket options shared by every backend. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sockopt.h"

int budp_sockopt_check_udp(int fd, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type = 0;
    socklen_t tlen = sizeof type;

    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return -EBADF;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
        return errno == ENOTSOCK ? -ENOTSOCK : -errno;
    /* The family first: a Unix datagram socket is the wrong family, not the
     * wrong protocol. */
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return -EAFNOSUPPORT;
    if (type != SOCK_DGRAM)
        return -EPROTOTYPE;
#ifdef SO_PROTOCOL
    {
        int proto = 0;
        socklen_t plen = sizeof proto;
        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == 0 &&
            proto != IPPROTO_UDP)
            return -EPROTOTYPE;
    }
#endif
    *family = ss.ss_family;
    return 0;
}

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int budp_sockopt_apply(int fd, int family, int64_t recv_buffer, int pktinfo,
                       int ecn)
{
    int rc = 0;

    if (recv_buffer > 0) {
        /* SO_RCVBUFFORCE passes rmem_max when the process may; SO_RCVBUF is
         * capped by it silently, which is the best an unprivileged one gets. */
#ifdef SO_RCVBUFFORCE
        if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)recv_buffer) < 0)
#endif
            rc = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)recv_buffer);
        if (rc < 0)
            return rc;
    }
    if (pktinfo) {
        if (family == AF_INET6) {
#ifdef IPV6_RECVPKTINFO
            rc = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
#else
            rc = -ENOTSUP;
#endif
            /* A dual-stack socket also sees IPv4 datagrams. */
#ifdef IP_PKTINFO
            if (rc == 0)
                (void)set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
#endif
        } else {
#if defined(IP_PKTINFO)
            rc = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
#elif defined(IP_RECVDSTADDR)
            rc = set_int(fd, IPPROTO_IP, IP_RECVDSTADDR, 1);
#else
            rc = -ENOTSUP;
#endif
        }
        if (rc < 0)
            return rc;
    }
    if (ecn) {
        if (family == AF_INET6) {
            rc = set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
#ifdef IP_RECVTOS
            if (rc == 0)
                (void)set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
#endif
        } else {
#ifdef IP_RECVTOS
            rc = set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
#else
            rc = -ENOTSUP;
#endif
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}
