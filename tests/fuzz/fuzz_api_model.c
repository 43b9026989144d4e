/* fuzz_api_model.c - what the API-sequence fuzzer (fuzz_api.c) sent, and
 * the checks every datagram it receives must pass. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_api.h"
#include "input.h"

struct harness h = { .lock = PTHREAD_MUTEX_INITIALIZER };
uint8_t payload[MAX_SEND][65536];

int one_of(int rc, const int *allowed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rc == -allowed[i])
            return 1;
    return 0;
}
/* Errors of a receive the socket met (ICMP-borne and the like). */
int receive_error(int rc)
{
    return ALLOWED(rc, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN,
                   ECONNRESET, EPROTO, ETIMEDOUT, EMSGSIZE, ENOBUFS, ENOMEM);
}

static uint8_t body_byte(uint32_t id, uint32_t i)
{
    return (uint8_t)(id * 7u + i * 13u + 1u);
}

void fill_payload(uint8_t *p, uint32_t id, uint32_t len)
{
    if (len < HEADER) {
        for (uint32_t i = 0; i < len; i++)
            p[i] = (uint8_t)(0xe0 + i);
        return;
    }
    p[0] = 0xb5;
    p[1] = 0x0d;
    memcpy(p + 2, &id, 4);
    p[6] = (uint8_t)len;
    p[7] = (uint8_t)(len >> 8);
    for (uint32_t i = HEADER; i < len; i++)
        p[i] = body_byte(id, i);
}

/* The public API has no comparison: family, port and the bytes the
 * family uses. */
int addr_same(const budp_addr *a, const budp_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    if (a->family == BUDP_AF_INET)
        return memcmp(a->bytes, b->bytes, 4) == 0;
    return a->scope_id == b->scope_id && memcmp(a->bytes, b->bytes, 16) == 0;
}

static int addr_zero(const budp_addr *a)
{
    static const budp_addr zero;
    return memcmp(a, &zero, sizeof zero) == 0;
}

/* One received datagram: flags_known is 0 when the caller did not ask for
 * flags (budp_recv_packed with flags NULL), peer NULL when not for the
 * peer. */
void check_datagram(struct sock *k, const uint8_t *p, uint32_t len,
                    uint32_t flags, int flags_known, const budp_addr *peer)
{
    int truncated = !flags_known || (flags & BUDP_DGRAM_TRUNCATED);

    FUZZ_CHECK(len <= k->max_datagram);
    FUZZ_CHECK(len == 0 || p != NULL);
    if (peer != NULL)
        FUZZ_CHECK(peer->family == k->local.family);
    pthread_mutex_lock(&h.lock);
    if (len >= 6 && p[0] == 0xb5 && p[1] == 0x0d) {
        uint32_t id;
        struct sent *e;

        memcpy(&id, p + 2, 4);
        FUZZ_CHECK(id < h.next_id);
        e = &h.ids[id];
        /* Sent (counted by budp_send), and not delivered before. */
        FUZZ_CHECK(e->state == ID_SENT || e->state == ID_IN_FLIGHT);
        e->state = ID_DELIVERED;
        FUZZ_CHECK(addr_same(&e->to, &k->local));
        if (peer != NULL)
            FUZZ_CHECK(addr_same(&e->from, peer));
        FUZZ_CHECK(len <= e->len);
        FUZZ_CHECK(truncated || len == e->len);
        if (len >= HEADER)
            FUZZ_CHECK(p[6] == (uint8_t)e->len && p[7] == (uint8_t)(e->len >> 8));
        for (uint32_t i = HEADER; i < len; i++)
            FUZZ_CHECK(p[i] == body_byte(id, i));
    } else if (len >= 1 && p[0] == 0xb5) {
        /* The start of a header, cut by a small max_datagram. */
        FUZZ_CHECK(truncated);
        FUZZ_CHECK(len < 2 || p[1] == 0x0d);
    } else {
        /* A short datagram, or the start of one. */
        for (uint32_t i = 0; i < len; i++)
            FUZZ_CHECK(p[i] == 0xe0 + i);
        FUZZ_CHECK(len < HEADER);
        if (!truncated) {
            h.short_got[len]++;
            FUZZ_CHECK(h.short_got[len] <= h.short_sent[len]);
        }
    }
    pthread_mutex_unlock(&h.lock);
}

void check_view(struct sock *k, const budp_datagram *v)
{
    const uint32_t known = BUDP_DGRAM_TRUNCATED | BUDP_DGRAM_COALESCED |
                           BUDP_DGRAM_HAS_LOCAL | BUDP_DGRAM_HAS_ECN |
                           BUDP_DGRAM_CONTROL_TRUNCATED;

    FUZZ_CHECK((v->flags & ~known) == 0);
    FUZZ_CHECK(v->ecn <= 3);
    FUZZ_CHECK((v->flags & BUDP_DGRAM_HAS_ECN) || v->ecn == 0);
    FUZZ_CHECK(v->time_ns == 0);
    for (size_t i = 0; i < sizeof v->reserved; i++)
        FUZZ_CHECK(v->reserved[i] == 0);
    FUZZ_CHECK(!!(v->flags & BUDP_DGRAM_COALESCED) == (v->segment_size != 0));
    FUZZ_CHECK(k->gro || v->segment_size == 0);
    if (v->flags & BUDP_DGRAM_HAS_LOCAL) {
        FUZZ_CHECK(k->pktinfo);
        FUZZ_CHECK(v->local.family == k->local.family && v->local.port == k->local.port);
        FUZZ_CHECK(memcmp(v->local.bytes, k->local.bytes, sizeof v->local.bytes) == 0);
    } else {
        FUZZ_CHECK(addr_zero(&v->local));
    }
    check_datagram(k, v->data, v->len, v->flags, 1, &v->peer);
    k->delivered++;
    k->delivered_bytes += v->len;
}

int on_batch(void *user, const budp_datagram *d, unsigned n)
{
    struct sock *k = user;
    const budp_datagram *out;
    budp_stats st;
    int rc;

    FUZZ_CHECK(n >= 1);
    /* Views are counted here on the thread that runs the callback; in
     * callback-thread mode only this thread touches them. */
    for (unsigned i = 0; i < n; i++)
        check_view(k, &d[i]);
    atomic_fetch_add(&k->callback_count, n);
    /* The consumer calls are refused inside the callback. */
    rc = budp_recv(k->s, &out, 1);
    FUZZ_CHECK(rc == -EBUSY || (rc == -EBADF && atomic_load(&k->shut)));
    rc = budp_wait(k->s, 0);
    FUZZ_CHECK(rc == -EBUSY || (rc == -EBADF && atomic_load(&k->shut)));
    rc = budp_set_callback(k->s, on_batch, k);
    FUZZ_CHECK(rc == -EBUSY || (rc == -EBADF && atomic_load(&k->shut)));
    rc = budp_get_stats(k->s, &st, sizeof st);
    FUZZ_CHECK(rc == (int)sizeof st || (rc == -EBADF && atomic_load(&k->shut)));
    if (k->close_inside && !k->callback_thread) {
        atomic_store(&k->shut, 1);
        budp_close(k->s);
        atomic_store(&k->closed_inside, 1);
        FUZZ_CHECK(budp_dispatch(k->s, 1) == -EBADF);
    }
    return atomic_load(&k->verdict);
}
