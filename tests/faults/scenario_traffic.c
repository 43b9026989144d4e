/* scenario_traffic.c - datagrams from a sending socket to a receiving one,
 * with faults injected into the library's calls (or its receive results
 * rewritten: SC_CRAFTED).  Checks: every error returned is one the faults
 * may bring; no datagram is delivered twice or corrupted (crafted results
 * may mangle one, never twice nor out of bounds: every byte of every view
 * is read, under ASan too); nothing is allocated while datagrams flow;
 * sent == rx_datagrams + rx_dropped + rx_kernel_drops unless a fatal error
 * was reported; fds, threads and the library's heap are back to where they
 * were once both sockets are closed.  A scenario that stops making
 * progress fails instead of hanging. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "fault_shim.h"
#include "scenario.h"
#include "../testutil.h"

enum {
    DATAGRAMS = 400,
    SIZE = 200,
    WINDOW = 128,      /* datagrams sent and not yet accounted for */
    SENDER = 7,
    STALL_MS = 5000,
    QUIET_MS = 100,    /* crafted: the end, once nothing more arrives */
    MAX_VIEWS = 64,
};

static uint8_t payloads[DATAGRAMS][SIZE];

struct tally {
    pthread_mutex_t lock;
    int crafted;
    unsigned char seen[DATAGRAMS];
    uint64_t delivered;   /* views handed to the application */
    uint64_t whole;       /* distinct datagrams delivered intact */
    uint64_t mangled;     /* crafted: views not intact */
    uint64_t byte_sum;
};

struct run {
    const struct sc_config *c;
    budp_socket *rx, *tx;
    budp_addr dest;
    struct tally t;
    uint64_t sent;
    int fatal;
};

static void take_one(struct tally *t, const uint8_t *data, uint32_t len, uint32_t flags,
                     const budp_addr *peer)
{
    uint32_t sender = 0, seq = 0;

    /* A garbage family from the kernel must not reach the application. */
    if (peer->family != BUDP_AF_INET && peer->family != BUDP_AF_INET6 &&
        !(t->crafted && peer->family == BUDP_AF_UNSPEC))
        sc_fail("a datagram from address family %u", peer->family);

    for (uint32_t i = 0; i < len; i++)
        t->byte_sum += data[i];
    t->delivered++;
    if (len > 2048)
        sc_fail("a view of %u bytes, above BUDP_OPT_MAX_DATAGRAM", len);
    if (len != SIZE || !tu_payload_check(data, len, &sender, &seq) ||
        sender != SENDER || seq >= DATAGRAMS || (flags & BUDP_DGRAM_TRUNCATED)) {
        if (t->crafted)
            t->mangled++;
        else
            sc_fail("datagram corrupted: %u bytes, flags %#x", len, flags);
        return;
    }
    if (t->seen[seq]++)
        sc_fail("datagram %u delivered twice", seq);
    else
        t->whole++;
}

static void take_views(struct tally *t, const budp_datagram *d, unsigned n)
{
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < n; i++)
        take_one(t, d[i].data, d[i].len, d[i].flags, &d[i].peer);
    pthread_mutex_unlock(&t->lock);
}

static int on_batch(void *user, const budp_datagram *d, unsigned n)
{
    take_views(user, d, n);
    return BUDP_CALLBACK_CONTINUE;
}

static budp_stats stats_of(const budp_socket *s)
{
    budp_stats st;

    memset(&st, 0, sizeof st);
    budp_get_stats(s, &st, sizeof st);
    return st;
}

static uint64_t accounted(const budp_stats *st)
{
    return st->rx_datagrams + st->rx_dropped + st->rx_kernel_drops;
}

static int check(struct run *r, const char *call, int rc, int extra)
{
    sc_check_rc(r->c, call, rc, extra);
    if (rc == -EBADF || rc == -ENOTSOCK || rc == -EFAULT)
        r->fatal = 1;
    return rc;
}

static void send_some(struct run *r, uint64_t in_flight)
{
    budp_datagram d[32];
    unsigned n = DATAGRAMS - (unsigned)r->sent;
    int rc;

    if (in_flight >= WINDOW)
        return;
    if (n > 32)
        n = 32;
    if (n > WINDOW - in_flight)
        n = (unsigned)(WINDOW - in_flight);
    for (unsigned i = 0; i < n; i++)
        d[i] = tu_datagram(payloads[r->sent + i], SIZE, &r->dest);
    rc = check(r, "budp_send", budp_send(r->tx, d, n), EAGAIN);
    if (rc > 0)
        r->sent += (unsigned)rc;
}

/* One pass over what the receiving socket has. */
static void receive_some(struct run *r)
{
    static uint8_t buf[MAX_VIEWS * 2048];
    uint32_t lens[MAX_VIEWS], flags[MAX_VIEWS];
    budp_addr peers[MAX_VIEWS];
    const budp_datagram *v;
    int n;

    if (check(r, "budp_wait", budp_wait(r->rx, 2), 0) < 0 || r->c->mode == SC_CBTHREAD)
        return;
    for (int round = 0; round < 8 && !r->fatal; round++) {
        switch (r->c->mode) {
        case SC_PACKED:
            n = check(r, "budp_recv_packed",
                      budp_recv_packed(r->rx, buf, sizeof buf, lens, flags, peers,
                                       MAX_VIEWS), 0);
            pthread_mutex_lock(&r->t.lock);
            for (uint32_t i = 0, at = 0; n > 0 && i < (unsigned)n; at += lens[i++])
                take_one(&r->t, buf + at, lens[i], flags[i], &peers[i]);
            pthread_mutex_unlock(&r->t.lock);
            break;
        case SC_DISPATCH:
            n = check(r, "budp_dispatch", budp_dispatch(r->rx, MAX_VIEWS), 0);
            break;
        default:
            n = check(r, "budp_recv", budp_recv(r->rx, &v, MAX_VIEWS), 0);
            if (n > 0)
                take_views(&r->t, v, (unsigned)n);
            break;
        }
        if (n <= 0)
            break;
    }
}

static int finished(struct run *r, const budp_stats *st, double *quiet_since)
{
    uint64_t delivered;

    if (r->sent < DATAGRAMS)
        return 0;
    pthread_mutex_lock(&r->t.lock);
    delivered = r->t.delivered;
    pthread_mutex_unlock(&r->t.lock);
    if (r->t.crafted) {
        /* Crafted counts and splits make the totals unknowable: the end
         * is when nothing more comes. */
        static uint64_t last;
        if (delivered != last || *quiet_since == 0) {
            last = delivered;
            *quiet_since = tu_now_ms();
        }
        return tu_now_ms() - *quiet_since > QUIET_MS;
    }
    return accounted(st) >= r->sent &&
           delivered + st->rx_dropped + st->rx_kernel_drops >= r->sent;
}

static void flow(struct run *r)
{
    double last_progress = tu_now_ms(), quiet_since = 0;
    uint64_t last_mark = 0;

    while (!r->fatal) {
        budp_stats st = stats_of(r->rx);
        uint64_t mark = r->sent + accounted(&st);

        if (finished(r, &st, &quiet_since))
            break;
        if (mark != last_mark) {
            last_mark = mark;
            last_progress = tu_now_ms();
        } else if (tu_now_ms() - last_progress > STALL_MS) {
            sc_fail("no progress for %d ms: %llu sent, %llu received, %llu "
                    "dropped, %llu kernel drops", STALL_MS,
                    (unsigned long long)r->sent, (unsigned long long)st.rx_datagrams,
                    (unsigned long long)st.rx_dropped,
                    (unsigned long long)st.rx_kernel_drops);
            break;
        }
        /* Crafted results can make the accounts say anything: there the
         * 4 MiB receive buffer holds all the datagrams instead. */
        if (r->sent < DATAGRAMS)
            send_some(r, r->t.crafted ? 0 : r->sent - accounted(&st));
        receive_some(r);
    }
}

/* The mark a crafted result must leave in the counters, by its kind (from
 * BUDP_FAULTS): never passed on as a trustworthy datagram. */
static void check_crafted_marks(const struct sc_config *c, const budp_stats *st)
{
    const char *faults = getenv("BUDP_FAULTS"), *craft;
    static const struct { const char *craft; size_t offset; const char *counter; } marks[] = {
        { "craft=len_past_buffer", offsetof(budp_stats, rx_truncated), "rx_truncated" },
        { "craft=trunc_flag", offsetof(budp_stats, rx_truncated), "rx_truncated" },
        { "craft=short_cmsg", offsetof(budp_stats, rx_control_truncated), "rx_control_truncated" },
        { "craft=count_extra", offsetof(budp_stats, kernel_anomalies), "kernel_anomalies" },
        { "craft=gro_segment:value=0:", offsetof(budp_stats, kernel_anomalies), "kernel_anomalies" },
        { "craft=gro_segment:value=1:", offsetof(budp_stats, kernel_anomalies), "kernel_anomalies" },
        { "craft=gro_segment:value=-1:", offsetof(budp_stats, kernel_anomalies), "kernel_anomalies" },
        { "craft=gro_segment:value=70000:", offsetof(budp_stats, kernel_anomalies), "kernel_anomalies" },
    };

    if (faults == NULL || (craft = strstr(faults, "craft=")) == NULL)
        return;
    /* The loop backend turns GRO off: a UDP_GRO message there is not
     * read, and the datagram under it is whole. */
    if (c->loop && strncmp(craft, "craft=gro_segment", 17) == 0)
        return;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        uint64_t v;
        if (strncmp(craft, marks[i].craft, strlen(marks[i].craft)) != 0)
            continue;
        memcpy(&v, (const char *)st + marks[i].offset, sizeof v);
        if (v == 0)
            sc_fail("%s: %s stayed 0", marks[i].craft, marks[i].counter);
    }
}

static void check_totals(struct run *r)
{
    budp_stats st = stats_of(r->rx);
    uint64_t acc = accounted(&st);

    if (r->t.crafted && r->t.delivered > 0)
        check_crafted_marks(r->c, &st);
    if (r->fatal || r->t.crafted)
        return;
    /* The kernel counts a dropped GSO packet once, however many datagrams
     * it carried. */
    if (acc != r->sent && !(r->c->gso && st.rx_kernel_drops > 0 && acc < r->sent))
        sc_fail("%llu sent, but %llu received + %llu dropped + %llu kernel drops",
                (unsigned long long)r->sent, (unsigned long long)st.rx_datagrams,
                (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_kernel_drops);
    if (r->t.delivered != st.rx_datagrams)
        sc_fail("%llu datagrams seen, the library counted %llu",
                (unsigned long long)r->t.delivered, (unsigned long long)st.rx_datagrams);
    if (st.rx_dropped > 0 && r->c->mode != SC_DROP)
        sc_fail("%llu datagrams dropped without BUDP_OVERFLOW_DROP",
                (unsigned long long)st.rx_dropped);
}

static int set_callback(struct run *r)
{
    int rc = 0;

    /* A wake-up write may fail while faults are on: try again. */
    for (int i = 0; i < 100; i++)
        if ((rc = check(r, "budp_set_callback",
                        budp_set_callback(r->rx, on_batch, &r->t), 0)) == 0)
            break;
    return rc;
}

static int open_pair(struct run *r)
{
    const struct sc_config *c = r->c;
    budp_options *ro = sc_receiver_options(c), *to = NULL;
    int rc = ro == NULL ? -ENOMEM : budp_bind(&r->rx, sc_host(c), 0, ro);

    if (rc == 0 && (rc = budp_options_new(&to)) == 0) {
        budp_options_set(to, BUDP_OPT_BACKEND,
                         c->loop ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MMSG);
        budp_options_set(to, BUDP_OPT_GSO, c->gso);
        rc = budp_bind(&r->tx, sc_host(c), 0, to);
    }
    if (rc == 0)
        rc = budp_local_addr(r->rx, &r->dest);
    if (rc == 0 && (c->mode == SC_DISPATCH || c->mode == SC_CBTHREAD))
        rc = set_callback(r);
    budp_options_free(ro);
    budp_options_free(to);
    if (rc < 0)
        sc_fail("setting up the sockets: %s", budp_strerror(rc));
    return rc;
}

int sc_traffic(const struct sc_config *c)
{
    struct sc_footprint before = sc_footprint();
    struct run r;
    unsigned allocs;

    memset(&r, 0, sizeof r);
    r.c = c;
    r.t.crafted = c->kind == SC_CRAFTED;
    pthread_mutex_init(&r.t.lock, NULL);
    for (unsigned i = 0; i < DATAGRAMS; i++)
        tu_payload_fill(payloads[i], SIZE, SENDER, i);
    if (open_pair(&r) == 0) {
        allocs = sc_library_calls(FAULT_ALLOC);
        flow(&r);
        if (sc_library_calls(FAULT_ALLOC) != allocs)
            sc_fail("%u allocations while datagrams flowed",
                    sc_library_calls(FAULT_ALLOC) - allocs);
        check_totals(&r);
    }
    budp_close(r.rx);
    budp_close(r.tx);
    sc_check_flat(&before);
    pthread_mutex_destroy(&r.t.lock);
    return sc_failed();
}
