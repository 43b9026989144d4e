/* socket.c - handle lifecycle: create (bind or wrap an fd), connect, close,
 * and the small getters. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "footprint.h"
#include "lifetime.h"
#include "receiver.h"
#include "socket.h"
#include "sockopt.h"

int budp_slots_alloc(struct budp_rx_slot **slots, uint8_t **memory,
                     unsigned count, uint32_t capacity)
{
    /* Each buffer rounded up to a cache line so neighbours never share one. */
    uint64_t stride = budp_slot_stride(capacity);
    struct budp_rx_slot *s;
    uint8_t *m;

    /* A 32-bit size_t cannot hold a large ring of GRO-sized slots. */
    if (count == 0 || stride > SIZE_MAX / count)
        return -ENOMEM;
    s = calloc(count, sizeof *s);
    m = malloc((size_t)(stride * count));

    if (s == NULL || m == NULL) {
        free(s);
        free(m);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < count; i++)
        s[i].buf = m + stride * i;
    *slots = s;
    *memory = m;
    return 0;
}

void budp_slots_free(struct budp_rx_slot *slots, uint8_t *memory)
{
    free(slots);
    free(memory);
}

int budp_error_is_fatal(int err)
{
    return err == -EBADF || err == -ENOTSOCK || err == -EFAULT;
}

void budp_stats_add_tally(struct budp_socket *s, const struct budp_view_tally *t)
{
    if (t->datagrams == 0)
        return;
    BUDP_STAT_ADD(&s->stats, rx_datagrams, t->datagrams);
    BUDP_STAT_ADD(&s->stats, rx_bytes, t->bytes);
    if (t->truncated)
        BUDP_STAT_ADD(&s->stats, rx_truncated, t->truncated);
    if (t->coalesced)
        BUDP_STAT_ADD(&s->stats, rx_coalesced, t->coalesced);
    if (t->control_truncated)
        BUDP_STAT_ADD(&s->stats, rx_control_truncated, t->control_truncated);
}

/* The port fd is bound to (0 while unbound). */
static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    budp_addr a;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    budp_addr_from_sockaddr(&a, (struct sockaddr *)&ss);
    return a.port;
}

int budp_socket_receive(struct budp_socket *s, struct budp_rx_slot *slots,
                        unsigned n)
{
    int got = s->backend->recv(s->backend_rx, s->fd, slots, n, &s->rx_params);

    if (got <= 0)
        return got;
    BUDP_STAT_ADD(&s->stats, rx_syscalls, budp_backend_rx_calls(s->backend, got));
    /* A wrapped fd that was not bound at budp_open gets its port from the
     * kernel on its first send: read it once it is there. */
    if (s->pktinfo && s->rx_params.local_port == 0 &&
        (s->rx_params.local_port = bound_port(s->fd)) != 0) {
        for (int i = 0; i < got; i++)
            if (slots[i].flags & BUDP_DGRAM_HAS_LOCAL)
                slots[i].local.port = s->rx_params.local_port;
    }
    return got;
}

/* 1 when an AF_INET6 fd is connected to an IPv4 peer (a mapped address):
 * its datagrams then take the IPv4 path. */
static int connected_to_ipv4(int fd, int family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (family != AF_INET6 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
        ss.ss_family != AF_INET6)
        return 0;
    return IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

/* Check the options for combinations no single bound can catch. */
static int check_combination(const struct budp_options *o)
{
    if (budp_opt(o, BUDP_OPT_CALLBACK_THREAD) && !budp_opt(o, BUDP_OPT_THREADED))
        return -EINVAL;
    return 0;
}

/* Build a socket around fd (validated): backend, slots, views, receiver. */
static int socket_create(budp_socket **out, int fd, int owns_fd, int family,
                         const budp_options *o)
{
    struct budp_socket *s;
    struct budp_backend_config cfg;
    struct budp_sockopt_request req;
    struct budp_footprint footprint;
    int gro_on = 0, rc;

    s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->fd = fd;
    s->owns_fd = owns_fd;
    s->family = family;
    if (o != NULL)
        s->opts = *o;
    else
        budp_options_defaults(&s->opts);
    budp_stats_init(&s->stats);
    atomic_init(&s->active_calls, 0);
    atomic_init(&s->shut, 0);
    atomic_init(&s->shutdowns_running, 0);
    s->wake.read_fd = s->wake.write_fd = -1;
    if ((rc = check_combination(&s->opts)) < 0)
        goto fail_free;
    s->backend = budp_backend_select((int)budp_opt(&s->opts, BUDP_OPT_BACKEND), &rc);
    if (s->backend == NULL)
        goto fail_free;

    s->batch_size = (unsigned)budp_opt(&s->opts, BUDP_OPT_BATCH_SIZE);
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = fd;
    cfg.batch_size = s->batch_size;
    cfg.max_datagram = (uint32_t)budp_opt(&s->opts, BUDP_OPT_MAX_DATAGRAM);
    cfg.gso = (int)budp_opt(&s->opts, BUDP_OPT_GSO);
    cfg.pktinfo = (int)budp_opt(&s->opts, BUDP_OPT_PKTINFO);
    cfg.ecn = (int)budp_opt(&s->opts, BUDP_OPT_ECN);
    cfg.family = family;
    cfg.want_control = cfg.pktinfo || cfg.ecn;
    s->pktinfo = cfg.pktinfo;
    s->tx_params.family = family;
    s->tx_params.ecn = cfg.ecn;
    s->tx_params.connected_v4 = connected_to_ipv4(fd, family);

    req.recv_buffer = budp_opt(&s->opts, BUDP_OPT_RECV_BUFFER);
    req.pktinfo = cfg.pktinfo;
    req.ecn = cfg.ecn;
    req.gro = budp_opt(&s->opts, BUDP_OPT_GRO) && s->backend->splits_gro;
    rc = budp_sockopt_apply(fd, family, &req, &s->saved_opts, &gro_on);
    if (rc < 0)
        goto fail_free;
    cfg.gro = gro_on;
    rc = s->backend->open(&cfg, &s->backend_rx);
    if (rc < 0)
        goto fail_options;

    /* One byte past the largest accepted datagram: a platform that truncates
     * without saying so (MSG_TRUNC) still shows it by filling the slot. */
    s->rx_params.max_datagram = cfg.max_datagram;
    s->rx_params.local_port = bound_port(fd);
    s->rx_params.gro = gro_on;
    s->rx_params.anomalies = BUDP_STAT_PTR(&s->stats, kernel_anomalies);
    s->rx_params.capacity = gro_on ? BUDP_GRO_SLOT_BYTES + 1 : cfg.max_datagram + 1;
    s->view_capacity = s->batch_size * (gro_on ? BUDP_GRO_MAX_SEGMENTS : 1u);
    /* Refused before anything large is allocated. */
    rc = budp_footprint_plan(&footprint, &s->opts, s->rx_params.capacity,
                             s->view_capacity);
    if (rc < 0)
        goto fail_backend;
    s->ring_slots = footprint.ring_slots;
    s->views = calloc(s->view_capacity, sizeof *s->views);
    if (s->views == NULL) {
        rc = -ENOMEM;
        goto fail_backend;
    }
    if (pthread_mutex_init(&s->tx_lock, NULL) != 0) {
        rc = -ENOMEM;
        goto fail_views;
    }
    if (budp_opt(&s->opts, BUDP_OPT_THREADED)) {
        rc = budp_receiver_start(s);
        if (rc < 0)
            goto fail_lock;
    } else {
        rc = budp_slots_alloc(&s->slots, &s->slot_memory, s->batch_size,
                              s->rx_params.capacity);
        if (rc == 0 && (rc = budp_notify_open(&s->wake)) < 0)
            budp_slots_free(s->slots, s->slot_memory);
        if (rc < 0)
            goto fail_lock;
    }
    *out = s;
    return 0;

fail_lock:
    pthread_mutex_destroy(&s->tx_lock);
fail_views:
    free(s->views);
fail_backend:
    s->backend->close(s->backend_rx);
fail_options:
    /* A failed call changes nothing, on the caller's fd included. */
    budp_sockopt_restore(fd, &s->saved_opts);
fail_free:
    free(s);
    return rc;
}

/* A UDP socket closed on exec (SOCK_CLOEXEC where the system has it). */
static int udp_socket(int family)
{
#ifdef SOCK_CLOEXEC
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
#else
    int fd = socket(family, SOCK_DGRAM, IPPROTO_UDP);
    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        fd = -1;
    }
#endif
    return fd < 0 ? -errno : fd;
}

int budp_bind(budp_socket **out, const char *host, uint16_t port,
              const budp_options *o)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, rc;

    if (out == NULL || host == NULL)
        return -EINVAL;
    rc = budp_addr_parse(&ss, &len, host, port);
    if (rc < 0)
        return rc;
    fd = udp_socket(ss.ss_family);
    if (fd < 0)
        return fd;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    rc = socket_create(out, fd, 1, ss.ss_family, o);
    if (rc < 0)
        close(fd);
    return rc;
}

int budp_open(budp_socket **out, int fd, const budp_options *o)
{
    int family, rc;

    if (out == NULL)
        return -EINVAL;
    rc = budp_sockopt_check_udp(fd, &family);
    if (rc < 0)
        return rc;
    return socket_create(out, fd, 0, family, o);
}

static int connect_to(budp_socket *s, const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = budp_addr_parse(&ss, &len, host, port);

    if (rc < 0)
        return rc;
    if (ss.ss_family == AF_INET && s->family == AF_INET6) {
        budp_addr a;
        budp_addr_from_sockaddr(&a, (struct sockaddr *)&ss);
        len = (socklen_t)budp_addr_to_sockaddr(&a, AF_INET6, &ss);
    }
    /* Under the send lock: senders read which path the peer is on. */
    pthread_mutex_lock(&s->tx_lock);
    rc = connect(s->fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
    s->tx_params.connected_v4 = connected_to_ipv4(s->fd, s->family);
    pthread_mutex_unlock(&s->tx_lock);
    return rc;
}

int budp_connect(budp_socket *s, const char *host, uint16_t port)
{
    int rc;

    if (s == NULL || host == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = connect_to(s, host, port);
    budp_call_leave(s);
    return rc;
}

int budp_local_addr(const budp_socket *s, budp_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc;

    if (s == NULL || out == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0)
        rc = -errno;
    else
        budp_addr_from_sockaddr(out, (struct sockaddr *)&ss);
    budp_call_leave(s);
    return rc;
}

int budp_socket_fd(const budp_socket *s)
{
    int rc;

    if (s == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = s->fd;
    budp_call_leave(s);
    return rc;
}

int budp_poll_fd(const budp_socket *s)
{
    int rc;

    if (s == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = s->receiver != NULL ? budp_receiver_poll_fd(s->receiver) : s->fd;
    budp_call_leave(s);
    return rc;
}

const char *budp_backend_name(const budp_socket *s)
{
    const char *name;

    if (s == NULL || budp_call_enter(s) < 0)
        return "";
    name = s->backend->name;
    budp_call_leave(s);
    return name;
}

void budp_socket_release(struct budp_socket *s, int on_receiver_thread)
{
    if (s->receiver != NULL)
        budp_receiver_release(s, on_receiver_thread);
    budp_notify_close(&s->wake);
    if (s->owns_fd)
        close(s->fd);
    else
        budp_sockopt_restore(s->fd, &s->saved_opts);
}

void budp_socket_free(struct budp_socket *s)
{
    if (s->receiver != NULL)
        budp_receiver_free(s->receiver);
    s->backend->close(s->backend_rx);
    budp_slots_free(s->slots, s->slot_memory);
    free(s->views);
    pthread_mutex_destroy(&s->tx_lock);
    free(s);
}
