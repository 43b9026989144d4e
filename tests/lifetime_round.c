/* lifetime_round.c - the shared part of a test_lifetime_stress round: the
 * gate, the checks, and the callbacks, which shut down or close the socket
 * in the rounds that ask for it. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lifetime_round.h"
#include "testutil.h"

void record(struct round *r, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&r->fail_lock);
    if (r->failure[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(r->failure, sizeof r->failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&r->fail_lock);
}

int gate_enter(struct round *r, atomic_int *count)
{
    atomic_fetch_add(count, 1);
    if (atomic_load(&r->closing)) {
        atomic_fetch_sub(count, 1);
        return 0;
    }
    return 1;
}

void gate_leave(atomic_int *count)
{
    atomic_fetch_sub(count, 1);
}

int consumer_enter(struct round *r, atomic_int *count)
{
    pthread_mutex_lock(&r->consumer);
    if (gate_enter(r, count))
        return 1;
    pthread_mutex_unlock(&r->consumer);
    return 0;
}

void consumer_leave(struct round *r, atomic_int *count)
{
    gate_leave(count);
    pthread_mutex_unlock(&r->consumer);
}

int expect(struct round *r, const char *call, int shut_before, int rc, int lo,
                  int hi, int alt)
{
    if (rc == -EBADF) {
        if (!atomic_load(&r->shut_called))
            record(r, "%s returned -EBADF before any shutdown", call);
        return 1;
    }
    if (shut_before) {
        record(r, "%s returned %d (%s) after the shutdown returned, not -EBADF", call, rc,
               budp_strerror(rc));
        return 1;
    }
    if ((rc < lo || rc > hi) && (alt == 0 || rc != alt)) {
        record(r, "%s returned %d (%s), not a value the header documents", call, rc,
               budp_strerror(rc));
        return 1;
    }
    return 0;
}

uint32_t payload_len(uint32_t seq)
{
    return 8u + (seq * 37u) % (MAX_PAYLOAD - 8u);
}

void deliver(struct round *r, const uint8_t *data, uint32_t len)
{
    uint32_t sender = 0, seq = 0;

    if (len < 8 || !tu_payload_check(data, len, &sender, &seq) ||
        len != payload_len(seq)) {
        record(r, "a corrupt datagram of %u bytes", len);
        return;
    }
    /* A datagram an earlier round sent to a port this round's socket
     * bound again (the kernel may reuse it at once). */
    if (sender >> 1 != r->tag) {
        r->strays++;
        return;
    }
    sender &= 1u;
    if (seq >= atomic_load(&r->issued[sender]))
        record(r, "sender %u: seq %u was never sent", sender, seq);
    else if (seq < r->next_seq[sender])
        record(r, "sender %u: seq %u after %u: delivered twice or out of order", sender,
               seq, r->next_seq[sender] - 1);
    r->next_seq[sender] = seq + 1;
    r->delivered++;
}

void wait_flag(atomic_int *flag, int guard_s)
{
    for (int i = 0; i < guard_s * 1000 && !atomic_load(flag); i++)
        tu_sleep_ms(1);
}

/* Inside a callback: the test's other threads out of s, then budp_close. */
static void close_from_callback(struct round *r, const budp_datagram *d)
{
    int self = r->cb_thread ? 0 : 1; /* the dispatching thread is inside */
    int i;

    atomic_store(&r->closing, 1);
    /* Its budp_set_callback may wait for this callback: try again with the
     * next batch, once it has left (it stops at the gate from now on). */
    if (atomic_load(&r->setter_inside) > 0 || atomic_exchange(&r->close_claimed, 1))
        return;
    atomic_store(&r->shut_called, 1);
    budp_shutdown(r->s);
    atomic_store(&r->shut_returned, 1);
    for (i = 0; i < HANG_GUARD_S * 1000 && (atomic_load(&r->inside) != self ||
                                            atomic_load(&r->setter_inside) != 0); i++)
        tu_sleep_ms(1);
    if (i == HANG_GUARD_S * 1000) {
        record(r, "a call stayed inside the socket %d s after its shutdown", HANG_GUARD_S);
        return; /* leaked: closing now could free it under that call */
    }
    budp_close(r->s);
    budp_close(r->s); /* harmless inside the callback */
    if (budp_send(r->s, d, 1) != -EBADF || budp_wait(r->s, 0) != -EBADF)
        record(r, "a call inside the callback after budp_close was not -EBADF");
    if (!r->cb_thread)
        r->closed_by_dispatch = 1; /* read by this thread only */
    atomic_store(&r->closed_inside, 1); /* the last touch of r on this path */
}

static int on_batch(struct cb_ctx *c, const budp_datagram *d, unsigned n)
{
    struct round *r = c->r;
    int sb = atomic_load(&r->shut_returned);
    unsigned state = atomic_load(&r->cb_state);
    const budp_datagram *v;
    budp_stats st;

    if (r->cb_thread && c->id != (state & 0xffu) && c->id != state >> 8)
        record(r, "callback %u ran after budp_set_callback replaced it", c->id);
    if (r->cb_thread && sb)
        atomic_fetch_add(&r->late_callbacks, 1);
    if (!r->cb_thread && (r->dispatch_calls++ > 0 || r->dispatch_shut_before))
        record(r, "a dispatch that began after the shutdown, or a second callback "
               "in one dispatch");
    if (n < 1 || n > MAX_BATCH)
        record(r, "a callback with %u datagrams", n);
    for (unsigned i = 0; i < n; i++)
        deliver(r, d[i].data, d[i].len);
    r->callbacks++;
    expect(r, "budp_get_stats in a callback", sb, budp_get_stats(r->s, &st, sizeof st),
           (int)sizeof st, (int)sizeof st, 0);
    expect(r, "budp_recv in a callback", sb, budp_recv(r->s, &v, 1), 1, 0, -EBUSY);
    if (r->shutdown_inside && r->callbacks == r->trigger) {
        atomic_store(&r->shut_called, 1);
        if (budp_shutdown(r->s) != 0)
            record(r, "budp_shutdown in a callback did not return 0");
        atomic_store(&r->shut_returned, 1);
        expect(r, "budp_get_stats after a shutdown in a callback", 1,
               budp_get_stats(r->s, &st, sizeof st), 0, 0, 0);
    }
    if (r->close_inside && r->callbacks >= r->trigger) {
        close_from_callback(r, d);
        return BUDP_CALLBACK_CONTINUE;
    }
    /* Now and then a pause, which the setter's next call lifts. */
    return r->cb_thread && !r->close_inside && rand_r(&r->cb_seed) % 8 == 0
               ? BUDP_CALLBACK_PAUSE
               : BUDP_CALLBACK_CONTINUE;
}

int callback_one(void *user, const budp_datagram *d, unsigned n)
{
    return on_batch(user, d, n);
}

int callback_two(void *user, const budp_datagram *d, unsigned n)
{
    return on_batch(user, d, n);
}
