/* combo.c - the round-trip suites' matrix and shared helpers. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "combo.h"
#include "testutil.h"

struct combo combo_of(int i)
{
    struct combo c;

    if (i >= 16) {
        c.backend = BUDP_BACKEND_URING;
        c.backend_name = "uring";
        i = (i - 16) << 1;   /* its bits 0-2 are the others' bits 1-3 */
    } else {
        c.backend = (i & 1) ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MMSG;
        c.backend_name = (i & 1) ? "loop" : "mmsg";
    }
    c.host = (i & 2) ? "::1" : "127.0.0.1";
    c.family = (i & 2) ? BUDP_AF_INET6 : BUDP_AF_INET;
    c.gro = (i >> 2) & 1;
    c.gso = (i >> 3) & 1;
    return c;
}

int combos_here(void)
{
    int rc = tu_backend_opens(BUDP_BACKEND_URING);

    if (rc == -ENOTSUP || rc == -EPERM) {
        fprintf(stderr, "io_uring combinations skipped: the backend is not in this "
                        "build or the kernel refuses io_uring\n");
        return 16;
    }
    return NCOMBOS;
}

char combo_text[NCOMBOS][64];

const char *describe(int i)
{
    struct combo c = combo_of(i);

    snprintf(combo_text[i], sizeof combo_text[i], "%s %s gro=%d gso=%d",
             c.backend_name, c.host, c.gro, c.gso);
    return combo_text[i];
}

/* Open a socket for combination i on host (NULL: the combination's), with
 * extra key/value pairs (ending with key 0). */
budp_socket *open_combo(int i, const char *host, int key, int64_t value,
                               int key2, int64_t value2)
{
    struct combo c = combo_of(i);
    budp_options *o = NULL;
    budp_socket *s = NULL;
    int rc;

    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_BACKEND, c.backend), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_GRO, c.gro), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_GSO, c.gso), 0);
    /* Room for a test's whole burst where the system allows it; the tests
     * send in chunks that fit what was granted (see chunk_for). */
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RECV_BUFFER, 4 << 20), 0);
    if (key != 0)
        ck_assert_int_eq(budp_options_set(o, key, value), 0);
    if (key2 != 0)
        ck_assert_int_eq(budp_options_set(o, key2, value2), 0);
    rc = budp_bind(&s, host != NULL ? host : c.host, 0, o);
    budp_options_free(o);
    ck_assert_msg(rc == 0, "[%s] budp_bind: %s", describe(i), budp_strerror(rc));
    ck_assert_str_eq(budp_backend_name(s), c.backend_name);
    return s;
}

budp_socket *open_plain(int i)
{
    return open_combo(i, NULL, 0, 0, 0, 0);
}

void got_free(struct got *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(g[i].data);
}

void copy_view(struct got *g, const budp_datagram *v)
{
    g->len = v->len;
    g->flags = v->flags;
    g->peer = v->peer;
    g->data = malloc(v->len ? v->len : 1);
    ck_assert_ptr_nonnull(g->data);
    if (v->len)
        memcpy(g->data, v->data, v->len);
}

/* Receive until count datagrams arrived or timeout_ms passes without any. */
unsigned recv_copies(budp_socket *rx, struct got *g, unsigned count,
                            int timeout_ms)
{
    unsigned got = 0;

    while (got < count) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, count - got < 64 ? count - got : 64);

        ck_assert_msg(n >= 0, "budp_recv: %s", budp_strerror(n));
        if (n == 0) {
            int w = budp_wait(rx, timeout_ms);
            ck_assert_int_ge(w, 0);
            if (w == 0)
                break;
            continue;
        }
        for (int k = 0; k < n; k++)
            copy_view(&g[got + (unsigned)k], &v[k]);
        got += (unsigned)n;
    }
    return got;
}

/* Send all of d[0..n), retrying on EAGAIN/ENOBUFS and partial sends. */
void send_all(budp_socket *tx, const budp_datagram *d, unsigned n)
{
    unsigned sent = 0;
    unsigned spins = 0;

    while (sent < n) {
        int rc = budp_send(tx, d + sent, n - sent);
        if (rc == -EAGAIN || rc == -ENOBUFS) {
            ck_assert_uint_lt(++spins, 100000);
            (void)budp_wait(tx, 1);
            continue;
        }
        ck_assert_msg(rc > 0, "budp_send: %s", budp_strerror(rc));
        sent += (unsigned)rc;
    }
}

/* How many datagrams of up to size bytes rx's receive buffer holds for
 * sure (the kernel charges a buffer's true size, a few kilobytes for a
 * small datagram), at least 8. */
unsigned chunk_for(budp_socket *rx, size_t size)
{
    int rcvbuf = 0;
    socklen_t len = sizeof rcvbuf;
    size_t per = size + 4096;
    unsigned chunk;

    ck_assert_int_eq(getsockopt(budp_socket_fd(rx), SOL_SOCKET, SO_RCVBUF,
                                &rcvbuf, &len), 0);
    chunk = (unsigned)((size_t)rcvbuf / 2 / per);
    return chunk < 8 ? 8 : chunk;
}

/* Send d[0..n) from tx and receive them all on rx into g, a chunk at a
 * time so that the receive buffer never overflows.  Returns the number
 * received. */
unsigned exchange(budp_socket *tx, budp_socket *rx, const budp_datagram *d,
                         unsigned n, struct got *g, size_t max_size)
{
    unsigned chunk = chunk_for(rx, max_size), done = 0;

    while (done < n) {
        unsigned k = n - done < chunk ? n - done : chunk;
        unsigned got;

        send_all(tx, d + done, k);
        got = recv_copies(rx, g + done, k, 5000);
        done += got;
        if (got < k)
            break;
    }
    return done;
}

void assert_peer(const budp_addr *got, const budp_addr *want, const char *ctx)
{
    char a[64] = "?", b[64] = "?";

    if (memcmp(got, want, sizeof *got) == 0)
        return;
    (void)budp_addr_to_string(got, a, sizeof a);
    (void)budp_addr_to_string(want, b, sizeof b);
    ck_abort_msg("[%s] peer %s port %u family %u, expected %s port %u family %u",
                 ctx, a, got->port, got->family, b, want->port, want->family);
}
