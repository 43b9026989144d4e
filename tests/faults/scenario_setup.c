/* scenario_setup.c - budp_bind, or budp_open of an fd the scenario made,
 * while the faults make one allocation, socket option or thread creation
 * fail.  Either the socket is made and works (a datagram to itself comes
 * back), or the call returns an error the fault may bring, writes nothing
 * to *out, and leaves nothing behind: fds, threads and the library's heap
 * as before, and a wrapped fd's options as they were.  A socket that was
 * made gives the wrapped fd its options back at budp_close too. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "scenario.h"
#include "../testutil.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define SENTINEL ((budp_socket *)(uintptr_t)0x5a5a5a5a)

/* The options budp_open may change, as the fd has them. */
struct fd_options {
    int values[6];
    int flags;
};

static int option(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;

    return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1;
}

static struct fd_options options_of(int fd, int v6)
{
    struct fd_options o;

    memset(&o, 0, sizeof o);
    o.values[0] = option(fd, SOL_SOCKET, SO_RCVBUF);
#ifdef UDP_GRO
    o.values[1] = option(fd, SOL_UDP, UDP_GRO);
#endif
    if (v6) {
        o.values[2] = option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO);
        o.values[3] = option(fd, IPPROTO_IPV6, IPV6_RECVTCLASS);
    } else {
        o.values[2] = option(fd, IPPROTO_IP, IP_PKTINFO);
        o.values[3] = option(fd, IPPROTO_IP, IP_RECVTOS);
    }
    o.values[4] = option(fd, SOL_SOCKET, SO_RCVLOWAT);
    o.flags = fcntl(fd, F_GETFL);
    return o;
}

static void check_options(int fd, int v6, const struct fd_options *was,
                          const char *when)
{
    struct fd_options now = options_of(fd, v6);

    for (int i = 0; i < 6; i++)
        if (now.values[i] != was->values[i])
            sc_fail("%s: option %d of the wrapped fd is %d, was %d", when, i,
                    now.values[i], was->values[i]);
    if (now.flags != was->flags)
        sc_fail("%s: the wrapped fd's flags are %#x, were %#x", when, now.flags,
                was->flags);
}

static int bound_fd(const struct sc_config *c)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(c->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&ss, 0, sizeof ss);
    if (c->v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A socket made in spite of a fault must still work: one datagram to
 * itself. */
static void check_works(const struct sc_config *c, budp_socket *s)
{
    static const uint8_t byte = 42;
    const budp_datagram *v;
    budp_datagram d;
    budp_addr self;
    int n = 0;

    if (c->mode == SC_CBTHREAD)
        return; /* no budp_recv there; the traffic scenarios cover it */
    if (budp_local_addr(s, &self) < 0) {
        sc_fail("budp_local_addr on the new socket failed");
        return;
    }
    d = tu_datagram(&byte, 1, &self);
    if (budp_send(s, &d, 1) != 1) {
        sc_fail("the new socket cannot send");
        return;
    }
    for (int i = 0; i < 100 && n == 0; i++) {
        budp_wait(s, 10);
        n = budp_recv(s, &v, 1);
    }
    if (n != 1 || v[0].len != 1 || v[0].data[0] != byte)
        sc_fail("the new socket does not receive its own datagram (%d)", n);
}

int sc_setup(const struct sc_config *c)
{
    struct sc_footprint before = sc_footprint();
    budp_socket *s = SENTINEL;
    budp_options *o = sc_receiver_options(c);
    struct fd_options was;
    unsigned injected;
    int fd = -1, rc, compare = 1;

    if (o == NULL) {
        /* budp_options_new met the fault. */
        sc_check_flat(&before);
        return sc_failed();
    }
    budp_options_set(o, BUDP_OPT_PKTINFO, 1);
    budp_options_set(o, BUDP_OPT_ECN, 1);
    if (c->kind == SC_OPEN) {
        if ((fd = bound_fd(c)) < 0) {
            sc_fail("no socket to wrap");
            budp_options_free(o);
            return sc_failed();
        }
        was = options_of(fd, c->v6);
        rc = budp_open(&s, fd, o);
    } else {
        rc = budp_bind(&s, sc_host(c), 0, o);
    }
    budp_options_free(o);
    if (rc < 0) {
        sc_check_rc(c, c->kind == SC_OPEN ? "budp_open" : "budp_bind", rc, 0);
        if (s != SENTINEL)
            sc_fail("*out written on error");
    } else {
        if (s == SENTINEL || s == NULL)
            sc_fail("success without a socket");
        else
            check_works(c, s);
        injected = sc_injected();
        budp_close(s);
        /* budp_close has no error to return: a setsockopt that fails as it
         * gives the options back leaves that option as it is. */
        if (sc_injected() > injected) {
            printf("the fault met budp_close: the fd's options not compared\n");
            compare = 0;
        }
    }
    if (fd >= 0 && compare)
        check_options(fd, c->v6, &was, rc < 0 ? "after the error" : "after budp_close");
    if (fd >= 0)
        close(fd);
    sc_check_flat(&before);
    return sc_failed();
}
