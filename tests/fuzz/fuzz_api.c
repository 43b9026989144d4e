/* fuzz_api.c - sequences of public calls on up to three loopback sockets.
 * Every call returns success or an error its documentation names; every
 * datagram received is one that was sent (each payload carries its id and
 * a body derived from it), arrives at the socket it was sent to, from the
 * socket that sent it, at most once, and whole unless flagged truncated;
 * the counters agree with what the calls returned.
 *
 * Input: a sequence of at most MAX_CALLS operations, each an opcode byte
 * and its arguments.  Nothing blocks: every wait has a zero timeout.
 * Every socket is closed when the input ends. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batchudp.h"
#include "fuzz_api.h"
#include "input.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void set_option(budp_options *o, int key, int64_t value)
{
    int64_t min, max;
    int rc = budp_options_set(o, key, value), valid;

    if (budp_options_bounds(key, &min, &max, NULL) < 0) {
        /* An unknown key. */
        FUZZ_CHECK(rc == -EINVAL && (key < BUDP_OPT_BATCH_SIZE || key > BUDP_OPT_CALLBACK_THREAD));
        return;
    }
    valid = value >= min && value <= max &&
            (key != BUDP_OPT_RING_CAPACITY || value == 0 ||
             (value >= 2 && (value & (value - 1)) == 0));
    FUZZ_CHECK(rc == (valid ? 0 : -EINVAL));
    if (valid) {
        int64_t back;
        FUZZ_CHECK(budp_options_get(o, key, &back) == 0 && back == value);
    }
}

static void op_bind(struct fuzz_input *in, struct sock *k)
{
    static const int64_t max_dgrams[] = { 1, 5, 8, 100, 1200, 1500, 2048, 9000, 65535 };
    static const int64_t rings[] = { 0, 2, 4, 16, 64, 3, 1 };
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in), c = fuzz_u8(in);
    const char *host = (a & 1) ? "::1" : "127.0.0.1";
    budp_options *o;
    budp_socket *s = NULL;
    int64_t threaded = (a >> 1) & 1, cbthread = (a >> 2) & 1, max_dgram, backend;
    int rc;

    if (k->s != NULL)
        return;
    if ((a & 0xf8) == 0xf8)
        host = "127.1"; /* not a standard form: refused */
    FUZZ_CHECK(budp_options_new(&o) == 0);
    set_option(o, BUDP_OPT_BATCH_SIZE, (b & 0x3f) ? (b & 0x3f) : (b >> 6 ? 1025 : 0));
    max_dgram = max_dgrams[(b >> 4) % (sizeof max_dgrams / sizeof max_dgrams[0])];
    set_option(o, BUDP_OPT_MAX_DATAGRAM, max_dgram);
    set_option(o, BUDP_OPT_THREADED, threaded);
    set_option(o, BUDP_OPT_CALLBACK_THREAD, cbthread);
    set_option(o, BUDP_OPT_RING_CAPACITY, rings[c % (sizeof rings / sizeof rings[0])]);
    set_option(o, BUDP_OPT_OVERFLOW, (c >> 3) & 1);
    set_option(o, BUDP_OPT_GRO, (c >> 4) & 1);
    set_option(o, BUDP_OPT_GSO, (c >> 5) & 1);
    set_option(o, BUDP_OPT_PKTINFO, (c >> 6) & 1);
    set_option(o, BUDP_OPT_ECN, (c >> 7) & 1);
    backend = (a >> 3) & 3;
    set_option(o, BUDP_OPT_BACKEND, backend);
    set_option(o, BUDP_OPT_RECV_BUFFER, (a & 0x20) ? 65536 : 0);
    if ((a & 0xc0) == 0xc0)
        set_option(o, 99, 1);

    rc = budp_bind(&s, host, 0, o);
    if (rc < 0) {
        FUZZ_CHECK(s == NULL);
        FUZZ_CHECK(ALLOWED(rc, EINVAL, ENOTSUP, EADDRNOTAVAIL, EAFNOSUPPORT, ENOMEM,
                           EMFILE, ENFILE, EAGAIN, ENOPROTOOPT, EPERM, EIO));
        if (cbthread && !threaded)
            FUZZ_CHECK(rc == -EINVAL);
        budp_options_free(o);
        return;
    }
    FUZZ_CHECK(!(cbthread && !threaded) && (a & 0xf8) != 0xf8);
    memset(k, 0, sizeof *k);
    k->s = s;
    k->threaded = (int)threaded;
    k->callback_thread = (int)cbthread;
    k->pktinfo = (c >> 6) & 1;
    k->gro = (c >> 4) & 1;
    k->max_datagram = (uint32_t)max_dgram;
    atomic_store(&k->verdict, BUDP_CALLBACK_CONTINUE);
    FUZZ_CHECK(budp_local_addr(s, &k->local) == 0);
    FUZZ_CHECK(k->local.family == ((a & 1) ? BUDP_AF_INET6 : BUDP_AF_INET));
    FUZZ_CHECK(k->local.port != 0);
    /* The socket keeps its own copy of the options. */
    budp_options_free(o);
}

/* A destination, by choice: a socket's address (open or not), none, a
 * port nobody listens on, a malformed one. */
static void pick_dest(uint8_t sel, const struct sock *k, budp_addr *to)
{
    memset(to, 0, sizeof *to);
    switch (sel % 8) {
    case 0: case 1: case 2: case 3:
        *to = h.socks[sel % NSOCK].local;
        break;
    case 4: /* none: only a connected socket has a destination */
        break;
    case 5: /* a port that is closed, on the sender's family */
        FUZZ_CHECK(budp_addr_from_string(to, k->local.family == BUDP_AF_INET6
                                                 ? "::1" : "127.0.0.1", 9) == 0);
        break;
    case 6:
        to->family = (uint16_t)(sel >> 3); /* mostly no family at all */
        to->port = 1;
        break;
    default: /* port 0 */
        FUZZ_CHECK(budp_addr_from_string(to, "127.0.0.1", 0) == 0);
        break;
    }
}

static void op_send(struct fuzz_input *in, struct sock *k)
{
    static const uint32_t sizes[] = { 0, 1, 7, 8, 9, 100, 1000, 1400, 1472, 2048,
                                      9000, 65507, 65535 };
    budp_datagram d[MAX_SEND];
    uint8_t a = fuzz_u8(in);
    unsigned n = 1 + a % MAX_SEND, first_bad = MAX_SEND;
    uint32_t same = (a & 0x80) ? sizes[fuzz_u8(in) % (sizeof sizes / sizeof sizes[0])] : 0;
    uint32_t ids[MAX_SEND];
    int rc;

    memset(d, 0, sizeof d);
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = fuzz_u8(in), c = fuzz_u8(in);
        uint32_t len = same ? same : sizes[b % (sizeof sizes / sizeof sizes[0])];

        if (!same && (b & 0x80))
            len = fuzz_u16(in) % 2000;
        pick_dest(c, k, &d[i].peer);
        d[i].len = len;
        d[i].data = payload[i];
        d[i].ecn = (c >> 3) & 3;
        /* Now and then a malformed datagram or source address. */
        switch ((c >> 5) & 7) {
        case 0:
            switch (b & 7) {
            case 0: d[i].flags = 1; break;
            case 1: d[i].ecn = 4; break;
            case 2: d[i].segment_size = 100; break;
            case 3: d[i].time_ns = 1; break;
            case 4: d[i].reserved[b % sizeof d[i].reserved] = 1; break;
            case 5: d[i].len = 65536; break;
            case 6: d[i].local.family = 5; break;
            default: d[i].data = NULL; d[i].len = len ? len : 1; break;
            }
            if (first_bad == MAX_SEND)
                first_bad = i;
            break;
        case 1:
            d[i].local = k->local; /* our own address as source */
            d[i].local.port = 0;
            break;
        case 2:
            FUZZ_CHECK(budp_addr_from_string(&d[i].local, "::1", 0) == 0);
            break;
        default:
            break;
        }
        pthread_mutex_lock(&h.lock);
        if (h.next_id >= MAX_IDS) {
            pthread_mutex_unlock(&h.lock);
            n = i;
            break;
        }
        ids[i] = h.next_id++;
        h.ids[ids[i]].len = (uint16_t)(d[i].len > 65535 ? 0 : d[i].len);
        h.ids[ids[i]].from = k->local;
        h.ids[ids[i]].to = d[i].peer.family == BUDP_AF_UNSPEC ? k->peer : d[i].peer;
        pthread_mutex_unlock(&h.lock);
        if (d[i].data != NULL && d[i].len <= 65535)
            fill_payload(payload[i], ids[i], d[i].len);
    }
    if (n == 0)
        return;
    pthread_mutex_lock(&h.lock);
    for (unsigned i = 0; i < n; i++) {
        h.ids[ids[i]].state = ID_IN_FLIGHT;
        if (d[i].len < HEADER)
            h.short_sent[d[i].len]++;
    }
    pthread_mutex_unlock(&h.lock);
    rc = budp_send(k->s, d, n);
    /* What did not go was not received either. */
    pthread_mutex_lock(&h.lock);
    for (unsigned i = 0; i < n; i++) {
        struct sent *e = &h.ids[ids[i]];
        if (rc >= 0 && i < (unsigned)rc) {
            if (e->state == ID_IN_FLIGHT)
                e->state = ID_SENT;
            continue;
        }
        FUZZ_CHECK(e->state == ID_IN_FLIGHT);
        e->state = ID_UNUSED;
        if (d[i].len < HEADER) {
            h.short_sent[d[i].len]--;
            FUZZ_CHECK(h.short_got[d[i].len] <= h.short_sent[d[i].len]);
        }
    }
    pthread_mutex_unlock(&h.lock);
    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(rc == -EBADF);
        return;
    }
    if (rc < 0) {
        FUZZ_CHECK(ALLOWED(rc, EINVAL, EDESTADDRREQ, EAGAIN, EMSGSIZE, ECONNREFUSED,
                           EAFNOSUPPORT, ENETUNREACH, EHOSTUNREACH, EACCES, EPERM,
                           EADDRNOTAVAIL, ENOBUFS, EIO, ENOMEM, EISCONN));
        if (first_bad == 0)
            FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    /* A count, never more than the well-formed prefix. */
    FUZZ_CHECK(rc >= 1 && (unsigned)rc <= n && (unsigned)rc <= first_bad);
    k->sent_count += (uint64_t)rc;
}

/* A receiving call's answer when it cannot receive (a shut-down socket,
 * max 0, callback-thread mode): checked, and 1 so that the caller stops. */
static int refused(const struct sock *k, unsigned max, int rc)
{
    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(rc == -EBADF || (max == 0 && rc == -EINVAL));
        return 1;
    }
    if (max == 0 || k->callback_thread) {
        FUZZ_CHECK(rc == -EINVAL);
        return 1;
    }
    return 0;
}

static void op_recv(struct fuzz_input *in, struct sock *k)
{
    const budp_datagram *out = NULL;
    unsigned max = fuzz_u8(in) % 80;
    int rc = budp_recv(k->s, &out, max);

    if (refused(k, max, rc))
        return;
    if (rc < 0) {
        FUZZ_CHECK(receive_error(rc));
        return;
    }
    FUZZ_CHECK((unsigned)rc <= max && out != NULL);
    for (int i = 0; i < rc; i++)
        check_view(k, &out[i]);
}

static void op_recv_packed(struct fuzz_input *in, struct sock *k)
{
    static uint8_t buf[70000];
    uint32_t lens[64], flags[64];
    budp_addr peers[64];
    uint8_t a = fuzz_u8(in);
    unsigned max = a % 65;
    size_t size = (a & 0x40) ? fuzz_u16(in) % 3000 : sizeof buf;
    int with_flags = !(a & 0x80), with_peers = !(fuzz_u8(in) & 1);
    size_t used = 0;
    int rc = budp_recv_packed(k->s, buf, size, lens, with_flags ? flags : NULL,
                              with_peers ? peers : NULL, max);

    if (refused(k, max, rc))
        return;
    if (rc < 0) {
        FUZZ_CHECK(receive_error(rc) || rc == -EMSGSIZE);
        return;
    }
    FUZZ_CHECK((unsigned)rc <= max);
    for (int i = 0; i < rc; i++) {
        FUZZ_CHECK(lens[i] <= size - used);
        check_datagram(k, buf + used, lens[i], with_flags ? flags[i] : 0, with_flags,
                       with_peers ? &peers[i] : NULL);
        k->delivered++;
        k->delivered_bytes += lens[i];
        used += lens[i];
    }
}

static void op_dispatch(struct fuzz_input *in, struct sock *k, int *closed)
{
    unsigned max = fuzz_u8(in) % 80, before = atomic_load(&k->callback_count);
    int rc = budp_dispatch(k->s, max);
    if (atomic_load(&k->closed_inside)) {
        /* The callback closed the socket: freed as dispatch returned. */
        FUZZ_CHECK(rc >= 1);
        *closed = 1;
        return;
    }
    if (refused(k, max, rc))
        return;
    if (rc < 0) {
        FUZZ_CHECK(receive_error(rc) || rc == -EINVAL);
        return;
    }
    FUZZ_CHECK((unsigned)rc <= max);
    /* Handed over in one call, on this thread. */
    FUZZ_CHECK(atomic_load(&k->callback_count) - before == (unsigned)rc);
}

static void op_set_callback(struct fuzz_input *in, struct sock *k)
{
    uint8_t a = fuzz_u8(in);
    int rc;

    atomic_store(&k->verdict, (a & 1) ? BUDP_CALLBACK_PAUSE : (a & 2) ? 7 : BUDP_CALLBACK_CONTINUE);
    k->close_inside = (a & 0x1c) == 0x1c;
    rc = budp_set_callback(k->s, (a & 0x20) ? NULL : on_batch, k);
    if (atomic_load(&k->shut))
        FUZZ_CHECK(rc == -EBADF);
    else
        FUZZ_CHECK(rc == 0 || ALLOWED(rc, EAGAIN, EIO, ENOBUFS, ENOMEM));
}

static void op_wait(struct fuzz_input *in, struct sock *k)
{
    int timeout = (fuzz_u8(in) & 7) == 7 ? -2 : 0;
    int rc = budp_wait(k->s, timeout);

    if (timeout < -1) {
        FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(rc == -EBADF);
        return;
    }
    FUZZ_CHECK(rc == 0 || rc == 1 || receive_error(rc));
    if (k->callback_thread)
        FUZZ_CHECK(rc != 1);
}

static void op_stats(struct fuzz_input *in, struct sock *k)
{
    static const size_t sizes[] = { sizeof(budp_stats), 8, 16, 0, 12, sizeof(budp_stats) + 16 };
    size_t size = sizes[fuzz_u8(in) % (sizeof sizes / sizeof sizes[0])];
    uint64_t raw[sizeof(budp_stats) / 8 + 4];
    budp_stats st;
    int rc;

    memset(raw, 0xee, sizeof raw);
    rc = budp_get_stats(k->s, (budp_stats *)raw, size);
    if (size == 0 || size % 8 != 0) {
        FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(rc == -EBADF);
        return;
    }
    FUZZ_CHECK(rc == (int)(size < sizeof st ? size : sizeof st));
    /* Nothing past what it said it wrote. */
    for (size_t i = (size_t)rc / 8; i < sizeof raw / 8; i++)
        FUZZ_CHECK(raw[i] == 0xeeeeeeeeeeeeeeeeull);
    if (size < sizeof st)
        return;
    memcpy(&st, raw, sizeof st);
    FUZZ_CHECK(st.tx_datagrams == k->sent_count);
    if (!k->callback_thread) {
        FUZZ_CHECK(st.rx_datagrams == k->delivered);
        FUZZ_CHECK(st.rx_bytes == k->delivered_bytes);
    }
    FUZZ_CHECK(st.rx_truncated <= st.rx_datagrams);
    FUZZ_CHECK(st.rx_control_truncated <= st.rx_datagrams);
    FUZZ_CHECK(st.kernel_anomalies == 0);
}

static void op_getters(struct sock *k)
{
    budp_addr a;
    const char *name = budp_backend_name(k->s);
    int fd = budp_socket_fd(k->s), pfd = budp_poll_fd(k->s);
    int rc = budp_local_addr(k->s, &a);

    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(strcmp(name, "") == 0 && fd == -EBADF && pfd == -EBADF && rc == -EBADF);
        return;
    }
    FUZZ_CHECK(strcmp(name, "mmsg") == 0 || strcmp(name, "loop") == 0 ||
               strcmp(name, "msgx") == 0 || strcmp(name, "uring") == 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(k->callback_thread ? pfd == -ENOTSUP : pfd >= 0);
    FUZZ_CHECK(rc == 0 && addr_same(&a, &k->local));
}

static void op_connect(struct fuzz_input *in, struct sock *k)
{
    uint8_t a = fuzz_u8(in);
    budp_addr to;
    char host[64];
    int rc;

    pick_dest(a, k, &to);
    if (budp_addr_to_string(&to, host, sizeof host) < 0)
        strcpy(host, (a & 0x80) ? "bad host" : "::");
    rc = budp_connect(k->s, host, to.port);
    if (atomic_load(&k->shut)) {
        FUZZ_CHECK(rc == -EBADF || (rc == -EINVAL && strcmp(host, "bad host") == 0));
        return;
    }
    if (rc < 0) {
        FUZZ_CHECK(ALLOWED(rc, EINVAL, EAFNOSUPPORT, ENETUNREACH, EHOSTUNREACH,
                           EADDRNOTAVAIL, EACCES, EPERM, ECONNREFUSED));
        return;
    }
    k->connected = 1;
    k->peer = to;
    if (to.family == BUDP_AF_INET && k->local.family == BUDP_AF_INET6)
        memset(&k->peer, 0xff, sizeof k->peer); /* mapped: matches no socket */
}

static void close_sock(struct sock *k)
{
    /* budp_close shuts the socket down first: a callback still running on
     * the receiver thread sees -EBADF from then on. */
    atomic_store(&k->shut, 1);
    budp_close(k->s);
    k->s = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in;

    fuzz_input_init(&in, data, size);
    memset(h.ids, 0, sizeof h.ids);
    memset(h.short_sent, 0, sizeof h.short_sent);
    memset(h.short_got, 0, sizeof h.short_got);
    h.next_id = 0;
    memset(h.socks, 0, sizeof h.socks);

    for (int call = 0; call < MAX_CALLS && !fuzz_empty(&in); call++) {
        uint8_t op = fuzz_u8(&in);
        struct sock *k = &h.socks[(op >> 4) % NSOCK];
        int closed = 0;

        if ((op & 15) == 0) {
            op_bind(&in, k);
            continue;
        }
        if (k->s == NULL)
            continue;
        switch (op & 15) {
        case 1: case 2: case 3: op_send(&in, k); break;
        case 4: case 5: op_recv(&in, k); break;
        case 6: op_recv_packed(&in, k); break;
        case 7: op_dispatch(&in, k, &closed); break;
        case 8: op_set_callback(&in, k); break;
        case 9: op_wait(&in, k); break;
        case 10: op_stats(&in, k); break;
        case 11: op_getters(k); break;
        case 12: op_connect(&in, k); break;
        case 13:
            atomic_store(&k->shut, 1);
            FUZZ_CHECK(budp_shutdown(k->s) == 0);
            FUZZ_CHECK(budp_shutdown(k->s) == 0);
            break;
        case 14: close_sock(k); break;
        default: {
            /* Arguments no call accepts. */
            const budp_datagram *out;
            FUZZ_CHECK(budp_recv(k->s, NULL, 1) == -EINVAL);
            FUZZ_CHECK(budp_send(k->s, NULL, 1) == -EINVAL);
            FUZZ_CHECK(budp_get_stats(k->s, NULL, 8) == -EINVAL);
            FUZZ_CHECK(budp_recv(NULL, &out, 1) == -EINVAL);
            FUZZ_CHECK(budp_shutdown(NULL) == -EINVAL);
            break;
        }
        }
        if (closed)
            k->s = NULL;
    }
    for (int i = 0; i < NSOCK; i++)
        if (h.socks[i].s != NULL)
            close_sock(&h.socks[i]);
    return 0;
}
