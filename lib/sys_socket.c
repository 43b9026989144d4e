/* sys_socket.c - the socket calls of the generic code: create and bind,
 * check a caller's fd, connect, addresses, the kernel's drop counter. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LINUX_SOCK_DIAG_H
#include <linux/sock_diag.h>
#endif

#include "addr.h"
#include "sys.h"

static int budp_family(int af)
{
    return af == AF_INET6 ? BUDP_AF_INET6 : BUDP_AF_INET;
}

/* A UDP socket closed on exec (SOCK_CLOEXEC where the system has it). */
static int udp_socket(int af)
{
#ifdef SOCK_CLOEXEC
    int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
#else
    int fd = socket(af, SOCK_DGRAM, IPPROTO_UDP);
    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        fd = -1;
    }
#endif
    return fd < 0 ? budp_sys_error() : fd;
}

/* Make fd one of a group that shares its address and spreads datagrams. */
static int share_address(int fd)
{
    int on = 1;

#if defined(SO_REUSEPORT_LB)
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT_LB, &on, sizeof on) < 0)
        return budp_sys_error();
#elif defined(__linux__) && defined(SO_REUSEPORT)
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        return budp_sys_error();
#else
    (void)fd;
    (void)on;
    return -ENOTSUP;
#endif
    return 0;
}

int budp_sys_bind_udp(const char *host, uint16_t port, int shared, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, rc;

    rc = budp_addr_parse(&ss, &len, host, port);
    if (rc < 0)
        return rc;
    fd = udp_socket(ss.ss_family);
    if (fd < 0)
        return fd;
    if (shared && (rc = share_address(fd)) < 0) {
        close(fd);
        return rc;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        rc = budp_sys_error();
        close(fd);
        return rc;
    }
    *family = budp_family(ss.ss_family);
    return fd;
}

int budp_sys_check_udp(int fd, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type = 0;
    socklen_t tlen = sizeof type;

    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return -EBADF;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
        return budp_sys_error();
    /* The family first: a Unix datagram socket is the wrong family, not the
     * wrong protocol. */
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return budp_sys_error();
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
    *family = budp_family(ss.ss_family);
    return 0;
}

int budp_sys_connect(int fd, int family, const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = budp_addr_parse(&ss, &len, host, port);

    if (rc < 0)
        return rc;
    if (ss.ss_family == AF_INET && family == BUDP_AF_INET6) {
        budp_addr a;
        budp_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len);
        len = (socklen_t)budp_addr_to_sockaddr(&a, BUDP_AF_INET6, &ss);
    }
    return connect(fd, (struct sockaddr *)&ss, len) < 0 ? budp_sys_error() : 0;
}

int budp_sys_local_addr(int fd, budp_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return budp_sys_error();
    budp_addr_from_sockaddr(out, (struct sockaddr *)&ss, len);
    return 0;
}

int budp_sys_peer_addr(int fd, budp_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return budp_sys_error();
    budp_addr_from_sockaddr(out, (struct sockaddr *)&ss, len);
    return 0;
}

uint16_t budp_sys_bound_port(int fd)
{
    /* Zeroed: the compiler cannot see that an error is always negative. */
    budp_addr a = { 0 };

    return budp_sys_local_addr(fd, &a) < 0 ? 0 : a.port;
}

int budp_sys_kernel_drops(int fd, uint64_t *drops)
{
#if defined(SO_MEMINFO) && defined(HAVE_LINUX_SOCK_DIAG_H)
    /* The socket's own counter, read when asked: exact, and free on the
     * receive path (SO_RXQ_OVFL's control message would cost every
     * datagram and miss drops after the last one queued). */
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;

    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
        *drops = mem[SK_MEMINFO_DROPS];
        return 0;
    }
#else
    (void)fd;
    (void)drops;
#endif
    return -ENOTSUP;
}

void budp_sys_close(int fd)
{
    close(fd);
}

int budp_sys_dup(int fd)
{
#ifdef F_DUPFD_CLOEXEC
    int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 0);
#else
    int fd2 = dup(fd);
#endif
    return fd2 < 0 ? budp_sys_error() : fd2;
}
