/* test_noalloc.c - no allocation per datagram in steady state.
 *
 * The program defines malloc and friends itself: they count, then forward
 * to the next definition (libc's, or the one a checker such as valgrind or
 * ASan put in its place).  The library's calls land here because the
 * executable's definitions come first in the lookup order.  After a warm-up,
 * thousands of batches are sent and received with counting on; the counters
 * must not move.  Nothing inside the counted region may allocate, so it
 * records failures in plain variables and asserts after. */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchudp.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* The counting allocator                                              */
/* ------------------------------------------------------------------ */

/* Default visibility: the build compiles with -fvisibility=hidden, and
 * these must be exported to take the place of libc's for the library. */
#define EXPORTED __attribute__((visibility("default")))

EXPORTED void *malloc(size_t size);
EXPORTED void *calloc(size_t n, size_t size);
EXPORTED void *realloc(void *p, size_t size);
EXPORTED void free(void *p);
EXPORTED int posix_memalign(void **out, size_t align, size_t size);
EXPORTED void *aligned_alloc(size_t align, size_t size);

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);

static atomic_int counting;
static atomic_ulong allocations;
static atomic_ulong releases;
/* Counted allocations whose caller is in the library itself, and their
 * bytes. */
static atomic_ulong library_allocations;
static atomic_ulong library_bytes;
/* Where the first counted allocations came from, for the failure message. */
#define CALLERS_KEPT 4
static void *_Atomic callers[CALLERS_KEPT];

/* dlsym may allocate while the real functions are being looked up: those
 * requests are served from here and never freed. */
static _Alignas(max_align_t) unsigned char bootstrap[16384];
static size_t bootstrap_used;
static int resolving;

static void *bootstrap_alloc(size_t size)
{
    size_t at = (bootstrap_used + 15) & ~(size_t)15;

    if (at + size > sizeof bootstrap)
        return NULL;
    bootstrap_used = at + size;
    return bootstrap + at;
}

static int from_bootstrap(const void *p)
{
    return (const unsigned char *)p >= bootstrap &&
           (const unsigned char *)p < bootstrap + sizeof bootstrap;
}

static void resolve(void)
{
    void *f;

    if (next_malloc != NULL || resolving)
        return;
    resolving = 1;
    /* Function pointers from dlsym's data pointer, the POSIX way. */
    f = dlsym(RTLD_NEXT, "calloc");
    memcpy(&next_calloc, &f, sizeof f);
    f = dlsym(RTLD_NEXT, "realloc");
    memcpy(&next_realloc, &f, sizeof f);
    f = dlsym(RTLD_NEXT, "free");
    memcpy(&next_free, &f, sizeof f);
    f = dlsym(RTLD_NEXT, "posix_memalign");
    memcpy(&next_posix_memalign, &f, sizeof f);
    f = dlsym(RTLD_NEXT, "aligned_alloc");
    memcpy(&next_aligned_alloc, &f, sizeof f);
    f = dlsym(RTLD_NEXT, "malloc");
    memcpy(&next_malloc, &f, sizeof f);
    resolving = 0;
}

/* Only called while counting: malloc also runs before a sanitizer's
 * runtime is ready, when a function with instrumented stack locals (Dl_info)
 * may not run. */
static __attribute__((noinline)) void attribute_allocation(void *caller,
                                                          size_t bytes)
{
    unsigned long k = atomic_fetch_add(&allocations, 1);
    Dl_info info;

    if (k < CALLERS_KEPT)
        atomic_store(&callers[k], caller);
    if (dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
        strstr(info.dli_fname, "libbatchudp") != NULL) {
        atomic_fetch_add(&library_allocations, 1);
        atomic_fetch_add(&library_bytes, bytes);
    }
}

static void count_allocation(void *caller, size_t bytes)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        attribute_allocation(caller, bytes);
}

/* "func+0x12 (object)" for each kept caller, into buf. */
static const char *describe_callers(char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = 0;
    for (unsigned i = 0; i < CALLERS_KEPT && used < size; i++) {
        void *c = atomic_load(&callers[i]);
        Dl_info info;

        if (c == NULL)
            break;
        if (dladdr(c, &info) != 0 && info.dli_sname != NULL)
            used += (size_t)snprintf(buf + used, size - used, "%s%s+%#lx (%s)",
                                     i ? ", " : "", info.dli_sname,
                                     (unsigned long)((char *)c - (char *)info.dli_saddr),
                                     info.dli_fname);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%p", i ? ", " : "", c);
    }
    return buf;
}

void *malloc(size_t size)
{
    resolve();
    if (next_malloc == NULL)
        return bootstrap_alloc(size);
    count_allocation(__builtin_return_address(0), size);
    return next_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    resolve();
    if (next_calloc == NULL || next_malloc == NULL) {
        /* bootstrap memory is zero already (static, never reused) */
        if (size != 0 && n > (size_t)-1 / size)
            return NULL;
        return bootstrap_alloc(n * size);
    }
    count_allocation(__builtin_return_address(0), n * size);
    return next_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    resolve();
    if (from_bootstrap(p)) {
        void *q = malloc(size);
        if (q != NULL) {
            size_t room = (size_t)(bootstrap + sizeof bootstrap - (unsigned char *)p);
            memcpy(q, p, size < room ? size : room);
        }
        return q;
    }
    if (next_realloc == NULL)
        return NULL;
    count_allocation(__builtin_return_address(0), size);
    return next_realloc(p, size);
}

void free(void *p)
{
    if (p == NULL || from_bootstrap(p))
        return;
    resolve();
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add(&releases, 1);
    if (next_free != NULL)
        next_free(p);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    resolve();
    if (next_posix_memalign == NULL)
        return ENOMEM;
    count_allocation(__builtin_return_address(0), size);
    return next_posix_memalign(out, align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    resolve();
    if (next_aligned_alloc == NULL)
        return NULL;
    count_allocation(__builtin_return_address(0), size);
    return next_aligned_alloc(align, size);
}

static void counting_on(void)
{
    for (unsigned i = 0; i < CALLERS_KEPT; i++)
        atomic_store(&callers[i], NULL);
    atomic_store(&allocations, 0);
    atomic_store(&library_allocations, 0);
    atomic_store(&library_bytes, 0);
    atomic_store(&releases, 0);
    atomic_store(&counting, 1);
}

static void counting_off(void)
{
    atomic_store(&counting, 0);
}

/* 1 when the counters see the library's allocations.  Under valgrind the
 * checker replaces malloc in the executable too, so nothing can be counted
 * there: the tests then still run (valgrind checks the memory use) but
 * cannot judge allocation counts. */
static int counting_works(void)
{
    budp_options *o = NULL;
    unsigned long a;

    counting_on();
    if (budp_options_new(&o) == 0)
        budp_options_free(o);
    counting_off();
    a = atomic_load(&allocations);
    return a > 0;
}

static int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");

    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

/* ------------------------------------------------------------------ */
/* Modes                                                               */
/* ------------------------------------------------------------------ */

enum api { API_RECV, API_DISPATCH, API_PACKED };

struct mode {
    const char *name;
    int backend;
    int threaded;
    int offload;   /* GRO and GSO */
    enum api api;
    const char *host;
    int connected; /* sender connected, datagrams without destination */
};

static const struct mode modes[] = {
    { "mmsg recv", BUDP_BACKEND_MMSG, 0, 1, API_RECV, "127.0.0.1", 0 },
    { "mmsg recv no-offload", BUDP_BACKEND_MMSG, 0, 0, API_RECV, "127.0.0.1", 0 },
    { "mmsg recv ipv6", BUDP_BACKEND_MMSG, 0, 1, API_RECV, "::1", 0 },
    { "mmsg dispatch", BUDP_BACKEND_MMSG, 0, 1, API_DISPATCH, "127.0.0.1", 0 },
    { "mmsg packed", BUDP_BACKEND_MMSG, 0, 0, API_PACKED, "127.0.0.1", 0 },
    { "loop recv", BUDP_BACKEND_LOOP, 0, 0, API_RECV, "127.0.0.1", 0 },
    { "loop dispatch", BUDP_BACKEND_LOOP, 0, 0, API_DISPATCH, "::1", 0 },
    { "threaded mmsg recv", BUDP_BACKEND_MMSG, 1, 1, API_RECV, "127.0.0.1", 0 },
    { "threaded mmsg dispatch", BUDP_BACKEND_MMSG, 1, 0, API_DISPATCH, "127.0.0.1", 0 },
    { "threaded loop packed", BUDP_BACKEND_LOOP, 1, 0, API_PACKED, "127.0.0.1", 0 },
    { "mmsg connected", BUDP_BACKEND_MMSG, 0, 1, API_RECV, "::1", 1 },
    /* Skipped in builds without the io_uring backend. */
    { "uring recv", BUDP_BACKEND_URING, 0, 1, API_RECV, "127.0.0.1", 0 },
    { "uring recv no-offload ipv6", BUDP_BACKEND_URING, 0, 0, API_RECV, "::1", 0 },
    { "uring dispatch connected", BUDP_BACKEND_URING, 0, 1, API_DISPATCH, "::1", 1 },
    { "threaded uring recv", BUDP_BACKEND_URING, 1, 1, API_RECV, "127.0.0.1", 0 },
    { "threaded uring packed", BUDP_BACKEND_URING, 1, 0, API_PACKED, "127.0.0.1", 0 },
    /* Runs where the program provides recvmsg_x/sendmsg_x (the msgx shim
     * linked in and exported); skipped otherwise. */
    { "msgx recv", BUDP_BACKEND_MSGX, 0, 0, API_RECV, "127.0.0.1", 1 },
    { "threaded msgx dispatch", BUDP_BACKEND_MSGX, 1, 0, API_DISPATCH, "::1", 1 },
};
#define NMODES ((int)(sizeof modes / sizeof modes[0]))

enum { BATCH = 8, SIZE = 200 };

/* Everything the counted loop touches, allocated before it starts. */
struct run {
    budp_socket *tx, *rx;
    enum api api;
    budp_datagram d[BATCH];
    uint8_t payload[BATCH][SIZE];
    uint8_t packed[BATCH * SIZE];
    uint32_t lens[BATCH];
    uint32_t seq_next;      /* next sequence number expected */
    unsigned got;           /* received in the current round */
    unsigned bad;           /* wrong contents or order */
    int error;              /* first error met */
    unsigned stalls;        /* waits that timed out */
    char callers_text[512]; /* where counted allocations came from */
};

static void check_one(struct run *r, const uint8_t *data, uint32_t len)
{
    uint32_t seq;

    if (len != SIZE) {
        r->bad++;
        return;
    }
    memcpy(&seq, data + 4, 4);
    if (seq != r->seq_next || data[SIZE - 1] != (uint8_t)(seq * 7u))
        r->bad++;
    r->seq_next = seq + 1;
    r->got++;
}

static int run_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct run *r = user;

    for (unsigned k = 0; k < n; k++)
        check_one(r, d[k].data, d[k].len);
    return BUDP_CALLBACK_CONTINUE;
}

static void note_error(struct run *r, int rc)
{
    if (r->error == 0)
        r->error = rc;
}

/* One round: send a batch, receive it all.  Returns 0, or -1 to stop. */
static int round_trip(struct run *r, uint32_t first_seq)
{
    unsigned sent = 0;
    unsigned spins = 0;

    for (unsigned k = 0; k < BATCH; k++) {
        uint32_t seq = first_seq + k;
        memcpy(r->payload[k] + 4, &seq, 4);
        r->payload[k][SIZE - 1] = (uint8_t)(seq * 7u);
    }
    while (sent < BATCH) {
        int rc = budp_send(r->tx, r->d + sent, BATCH - sent);
        if (rc == -EAGAIN || rc == -ENOBUFS) {
            if (++spins > 100000) {
                note_error(r, rc);
                return -1;
            }
            continue;
        }
        if (rc <= 0) {
            note_error(r, rc);
            return -1;
        }
        sent += (unsigned)rc;
    }
    r->got = 0;
    while (r->got < BATCH) {
        int n;

        switch (r->api) {
        case API_RECV: {
            const budp_datagram *v;
            n = budp_recv(r->rx, &v, BATCH);
            for (int k = 0; k < n; k++)
                check_one(r, v[k].data, v[k].len);
            break;
        }
        case API_DISPATCH:
            n = budp_dispatch(r->rx, BATCH);
            break;
        default:
            n = budp_recv_packed(r->rx, r->packed, sizeof r->packed, r->lens,
                                 NULL, NULL, BATCH);
            for (int k = 0; k < n; k++)
                check_one(r, r->packed + (size_t)k * SIZE, r->lens[k]);
            break;
        }
        if (n < 0) {
            note_error(r, n);
            return -1;
        }
        if (n == 0) {
            int w = budp_wait(r->rx, 5000);
            if (w < 0) {
                note_error(r, w);
                return -1;
            }
            if (w == 0 && ++r->stalls > 3)
                return -1;
        }
    }
    return 0;
}

/* NULL when the mode's backend is absent from this program (-ENOTSUP). */
static budp_socket *open_mode(const struct mode *m)
{
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)m->backend,
                                 BUDP_OPT_THREADED, (int64_t)m->threaded,
                                 BUDP_OPT_GRO, (int64_t)m->offload,
                                 BUDP_OPT_GSO, (int64_t)m->offload,
                                 BUDP_OPT_BATCH_SIZE, (int64_t)BATCH,
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(1 << 20), 0);
    budp_socket *s = NULL;
    int rc = budp_bind(&s, m->host, 0, o);

    budp_options_free(o);
    if (rc == -ENOTSUP)
        return NULL;
    ck_assert_msg(rc == 0, "[%s] budp_bind: %s", m->name, budp_strerror(rc));
    return s;
}

/* The interposer sees the library's allocations: otherwise the test below
 * would prove nothing. */
START_TEST(interposer_counts_library)
{
    budp_options *o = NULL;
    budp_socket *s = NULL;
    unsigned long a, f;
    int rc_new, rc_bind;

    if (!counting_works() && under_valgrind()) {
        fprintf(stderr, "interposer_counts_library: skipped: malloc is replaced "
                        "by valgrind, allocations cannot be counted\n");
        return;
    }
    /* Only library calls in the counted region (Check itself allocates). */
    counting_on();
    rc_new = budp_options_new(&o);
    rc_bind = budp_bind(&s, "127.0.0.1", 0, o);
    budp_close(s);
    budp_options_free(o);
    counting_off();
    a = atomic_load(&allocations);
    f = atomic_load(&releases);
    ck_assert_int_eq(rc_new, 0);
    ck_assert_int_eq(rc_bind, 0);
    ck_assert_msg(a >= 2, "interposer saw %lu allocations from the library", a);
    ck_assert_msg(f >= 2, "interposer saw %lu frees from the library", f);
}
END_TEST

START_TEST(steady_state_no_allocation)
{
    const struct mode *m = &modes[_i];
    struct run *r = calloc(1, sizeof *r);
    unsigned rounds = tu_scaled(10000, 200);
    budp_addr dest;
    uint32_t seq = 0;
    unsigned long a, f, lib_a;
    unsigned done = 0;
    budp_stats st;

    ck_assert_ptr_nonnull(r);
    r->api = m->api;
    r->rx = open_mode(m);
    if (r->rx == NULL) {
        fprintf(stderr, "[%s] skipped: backend not available in this program\n",
                m->name);
        free(r);
        return;
    }
    r->tx = open_mode(m);
    dest = tu_local(r->rx);
    if (m->connected)
        ck_assert_int_eq(budp_connect(r->tx, m->host, dest.port), 0);
    for (unsigned k = 0; k < BATCH; k++) {
        tu_payload_fill(r->payload[k], SIZE, 0, 0);
        memset(&r->d[k], 0, sizeof r->d[k]);
        r->d[k].data = r->payload[k];
        r->d[k].len = SIZE;
        if (!m->connected)
            r->d[k].peer = dest;
    }
    if (m->api == API_DISPATCH)
        ck_assert_int_eq(budp_set_callback(r->rx, run_cb, r), 0);

    /* Warm-up: first calls may set up lazily (symbol binding, thread
     * start-up); none of that is per datagram. */
    for (unsigned i = 0; i < 50; i++, seq += BATCH)
        ck_assert_msg(round_trip(r, seq) == 0, "[%s] warm-up: %s", m->name,
                      budp_strerror(r->error));

    counting_on();
    for (done = 0; done < rounds; done++, seq += BATCH)
        if (round_trip(r, seq) < 0)
            break;
    counting_off();
    a = atomic_load(&allocations);
    lib_a = atomic_load(&library_allocations);
    f = atomic_load(&releases);
    describe_callers(r->callers_text, sizeof r->callers_text);

    ck_assert_msg(done == rounds, "[%s] stopped after %u of %u rounds: %s, %u stalls",
                  m->name, done, rounds, budp_strerror(r->error), r->stalls);
    ck_assert_msg(r->bad == 0, "[%s] %u datagrams wrong or out of order", m->name,
                  r->bad);
    if (!counting_works()) {
        ck_assert_msg(under_valgrind(), "the allocation counters see nothing");
        fprintf(stderr, "[%s] allocation count not checked: malloc is replaced by "
                        "valgrind\n", m->name);
        a = f = 0;
    }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* A sanitizer's runtime allocates through malloc for itself (it asks
     * libc for thread stack bounds now and then): here only the library's
     * own calls are judged; the plain build judges every allocation. */
    if (a != 0)
        fprintf(stderr, "[%s] sanitizer build: %lu allocations by others ignored "
                        "(%s)\n", m->name, a - lib_a, r->callers_text);
    ck_assert_msg(lib_a == 0, "[%s] %lu allocations by the library during %u rounds "
                  "of %u datagrams; allocated from: %s",
                  m->name, lib_a, rounds, BATCH, r->callers_text);
#else
    (void)lib_a;
    ck_assert_msg(a == 0 && f == 0,
                  "[%s] %lu allocations and %lu frees during %u rounds of %u datagrams; "
                  "allocated from: %s",
                  m->name, a, f, rounds, BATCH, r->callers_text);
#endif
    st = tu_stats(r->rx);
    ck_assert_uint_eq(st.rx_datagrams, (uint64_t)seq);
    ck_assert_uint_eq(tu_stats(r->tx).tx_datagrams, (uint64_t)seq);
    budp_close(r->rx);
    budp_close(r->tx);
    free(r);
}
END_TEST

/* Bytes the library allocates for a socket with options o (0 when it
 * cannot be counted here). */
static unsigned long footprint_of(const budp_options *o, const char *what)
{
    budp_socket *s = NULL;
    unsigned long bytes;
    int rc;

    counting_on();
    rc = budp_bind(&s, "127.0.0.1", 0, o);
    counting_off();
    bytes = atomic_load(&library_bytes);
    ck_assert_msg(rc == 0, "%s: budp_bind: %s", what, budp_strerror(rc));
    budp_close(s);
    return bytes;
}

/* A threaded socket with every default, GRO's 64 KiB slots included,
 * takes at most 2 MiB; an inline one less again. */
START_TEST(default_threaded_footprint)
{
    budp_options *threaded = tu_options(BUDP_OPT_THREADED, (int64_t)1, 0);
    budp_options *callback = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                        BUDP_OPT_CALLBACK_THREAD, (int64_t)1, 0);
    const unsigned long limit = 2ul << 20;
    unsigned long t, c, inl;

    if (getenv("BATCHUDP_BACKEND") != NULL) {
        /* The documented bound is the default backend's; io_uring keeps a
         * batch of buffers more (batchudp.h, BUDP_BACKEND_URING). */
        fprintf(stderr, "default_threaded_footprint: skipped: BATCHUDP_BACKEND "
                        "replaces the default backend\n");
        budp_options_free(threaded);
        budp_options_free(callback);
        return;
    }
    if (!counting_works()) {
        fprintf(stderr, "default_threaded_footprint: skipped: allocations "
                        "cannot be counted here (valgrind replaces malloc)\n");
        budp_options_free(threaded);
        budp_options_free(callback);
        return;
    }
    t = footprint_of(threaded, "threaded");
    c = footprint_of(callback, "callback-thread");
    inl = footprint_of(NULL, "inline");
    budp_options_free(threaded);
    budp_options_free(callback);
    fprintf(stderr, "default footprint: threaded %lu, callback-thread %lu, "
                    "inline %lu bytes\n", t, c, inl);
    /* Slots are the bulk: a count this small means nothing was seen. */
    ck_assert_msg(t > 100000 && c > 100000 && inl > 100000,
                  "footprints too small to be real: %lu %lu %lu", t, c, inl);
    ck_assert_msg(t <= limit, "threaded default takes %lu bytes (> 2 MiB)", t);
    ck_assert_msg(c <= limit, "callback-thread default takes %lu bytes (> 2 MiB)", c);
}
END_TEST

static Suite *noalloc_suite(void)
{
    Suite *s = suite_create("noalloc");
    TCase *tc = tcase_create("steady");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, interposer_counts_library);
    tcase_add_test(tc, default_threaded_footprint);
    tcase_add_loop_test(tc, steady_state_no_allocation, 0, NMODES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* Look the real functions up before any thread exists. */
    free(malloc(1));
    return tu_run(noalloc_suite());
}
