/* socket.c - handle lifecycle: create (bind or wrap an fd), connect, and
 * the small getters.  Shutdown and close are in lifetime.c. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "footprint.h"
#include "lifetime.h"
#include "receiver.h"
#include "socket_create.h"
#include "sys.h"

/* Check the options for combinations no single bound can catch. */
static int check_combination(const struct budp_options *o)
{
    if (budp_opt(o, BUDP_OPT_CALLBACK_THREAD) && !budp_opt(o, BUDP_OPT_THREADED))
        return -EINVAL;
    return 0;
}

/* What the socket asks of its backend, from its options. */
static void backend_config(struct budp_backend_config *cfg, const struct budp_socket *s)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fd = s->fd;
    cfg->family = s->family;
    cfg->restore_fd = !s->owns_fd;
    cfg->batch_size = s->batch_size;
    cfg->max_datagram = (uint32_t)budp_opt(&s->opts, BUDP_OPT_MAX_DATAGRAM);
    cfg->recv_buffer = budp_opt(&s->opts, BUDP_OPT_RECV_BUFFER);
    cfg->gro = (int)budp_opt(&s->opts, BUDP_OPT_GRO);
    cfg->gso = (int)budp_opt(&s->opts, BUDP_OPT_GSO);
    cfg->pktinfo = (int)budp_opt(&s->opts, BUDP_OPT_PKTINFO);
    cfg->ecn = (int)budp_opt(&s->opts, BUDP_OPT_ECN);
    cfg->timestamps = (int)budp_opt(&s->opts, BUDP_OPT_TIMESTAMPS);
    cfg->pacing = (int)budp_opt(&s->opts, BUDP_OPT_PACING);
    cfg->errors = (int)budp_opt(&s->opts, BUDP_OPT_ERRORS);
    cfg->zerocopy = (int)budp_opt(&s->opts, BUDP_OPT_ZEROCOPY);
    cfg->threaded = (int)budp_opt(&s->opts, BUDP_OPT_THREADED);
}

/* -ENOTSUP when cfg asks for what backend b cannot do (the platform's
 * lack of an option is found when the backend sets it). */
static int check_capabilities(const struct budp_backend *b,
                              const struct budp_backend_config *cfg)
{
    if ((cfg->timestamps && !(b->caps & BUDP_CAN_TIMESTAMPS)) ||
        (cfg->pacing && !(b->caps & BUDP_CAN_PACING)) ||
        (cfg->errors && !(b->caps & BUDP_CAN_ERRORS)) ||
        (cfg->zerocopy && !(b->caps & BUDP_CAN_ZEROCOPY)))
        return -ENOTSUP;
    return 0;
}

/* What senders need to know of fd's peer: whether there is one, and
 * which (its path follows from its address). */
static void note_peer(struct budp_tx_params *p, int fd)
{
    p->connected = budp_sys_peer_addr(fd, &p->peer) == 0;
}

/* Build a socket around fd (validated): backend, slots, views, receiver. */
static int socket_create(budp_socket **out, int fd, int owns_fd, int family,
                         const budp_options *o)
{
    struct budp_socket *s;
    struct budp_backend_config cfg;
    struct budp_backend_facts facts = { 0 };
    struct budp_footprint footprint;
    int rc;

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
    budp_counters_init(&s->stats);
    atomic_init(&s->active_calls, 0);
    atomic_init(&s->shut, 0);
    atomic_init(&s->shutdowns_running, 0);
    if ((rc = check_combination(&s->opts)) < 0)
        goto fail_free;
    s->backend = budp_backend_select((int)budp_opt(&s->opts, BUDP_OPT_BACKEND), &rc,
                                     s->backend_reason, sizeof s->backend_reason);
    if (s->backend == NULL)
        goto fail_free;

    s->batch_size = (unsigned)budp_opt(&s->opts, BUDP_OPT_BATCH_SIZE);
    backend_config(&cfg, s);
    s->pktinfo = cfg.pktinfo;
    s->tx_params.family = family;
    s->tx_params.ecn = cfg.ecn;
    s->tx_params.pacing = cfg.pacing != BUDP_PACING_OFF;
    note_peer(&s->tx_params, fd);
    if ((rc = check_capabilities(s->backend, &cfg)) < 0)
        goto fail_free;
    rc = s->backend->open(&cfg, &s->backend_state, &facts);
    if (rc < 0)
        goto fail_free;

    s->rx_params.max_datagram = cfg.max_datagram;
    s->rx_params.local_port = budp_sys_bound_port(fd);
    s->rx_params.gro = facts.gro;
    s->rx_params.anomalies = BUDP_STAT_PTR(&s->stats, kernel_anomalies);
    s->rx_params.capacity = budp_slot_capacity(facts.gro, cfg.max_datagram);
    s->rx_params.headroom = facts.rx_headroom;
    s->rx_params.plain_max = s->rx_params.capacity < cfg.max_datagram
                                 ? s->rx_params.capacity : cfg.max_datagram;
    s->view_capacity = s->batch_size * (facts.gro ? BUDP_GRO_MAX_SEGMENTS : 1u);
    /* Refused before anything large is allocated. */
    rc = budp_footprint_plan(&footprint, &s->opts,
                             s->rx_params.capacity + s->rx_params.headroom,
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
    if (budp_opt(&s->opts, BUDP_OPT_THREADED))
        rc = budp_receiver_start(s, budp_close_deferred);
    else
        rc = budp_slots_alloc(&s->slots, &s->slot_memory, s->batch_size,
                              s->rx_params.capacity, s->rx_params.headroom);
    if (rc < 0)
        goto fail_lock;
    *out = s;
    return 0;

fail_lock:
    pthread_mutex_destroy(&s->tx_lock);
fail_views:
    free(s->views);
fail_backend:
    /* A failed call changes nothing, on the caller's fd included. */
    s->backend->release(s->backend_state);
    s->backend->close(s->backend_state);
fail_free:
    free(s);
    return rc;
}

/* Steering is for groups: a lone socket has no one to share with. */
static int check_lone(const budp_options *o)
{
    return o != NULL && budp_opt(o, BUDP_OPT_STEERING) != BUDP_STEER_HASH ? -EINVAL : 0;
}

static int bind_and_create(budp_socket **out, const char *host, uint16_t port,
                           int shared, const budp_options *o)
{
    int family, fd, rc;

    fd = budp_sys_bind_udp(host, port, shared, &family);
    if (fd < 0)
        return fd;
    rc = socket_create(out, fd, 1, family, o);
    if (rc < 0)
        budp_sys_close(fd);
    return rc;
}

int budp_bind(budp_socket **out, const char *host, uint16_t port,
              const budp_options *o)
{
    int rc;

    if (out == NULL || host == NULL)
        return -EINVAL;
    if ((rc = check_lone(o)) < 0)
        return rc;
    return bind_and_create(out, host, port, 0, o);
}

int budp_bind_member(budp_socket **out, const char *host, uint16_t port,
                     const budp_options *o)
{
    return bind_and_create(out, host, port, 1, o);
}

int budp_open(budp_socket **out, int fd, const budp_options *o)
{
    int family, rc;

    if (out == NULL)
        return -EINVAL;
    if ((rc = check_lone(o)) < 0)
        return rc;
    rc = budp_sys_check_udp(fd, &family);
    if (rc < 0)
        return rc;
    return socket_create(out, fd, 0, family, o);
}

static int connect_to(budp_socket *s, const char *host, uint16_t port)
{
    int rc;

    /* Under the send lock: senders read which path the peer is on. */
    pthread_mutex_lock(&s->tx_lock);
    rc = budp_sys_connect(s->fd, s->family, host, port);
    note_peer(&s->tx_params, s->fd);
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
    int rc;

    if (s == NULL || out == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    rc = budp_sys_local_addr(s->fd, out);
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
    rc = s->receiver != NULL ? budp_receiver_poll_fd(s->receiver)
                             : s->backend->poll_fd(s->backend_state);
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

const char *budp_backend_reason(const budp_socket *s)
{
    const char *reason;

    if (s == NULL || budp_call_enter(s) < 0)
        return "";
    /* Written once, before the handle was handed out. */
    reason = s->backend_reason;
    budp_call_leave(s);
    return reason;
}
