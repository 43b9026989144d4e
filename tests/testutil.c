/* testutil.c - helpers shared by the Check suites. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "testutil.h"

budp_options *tu_options(int key, ...)
{
    budp_options *o = NULL;
    va_list ap;

    ck_assert_int_eq(budp_options_new(&o), 0);
    va_start(ap, key);
    while (key != 0) {
        int64_t value = va_arg(ap, int64_t);
        ck_assert_msg(budp_options_set(o, key, value) == 0,
                      "option %d = %lld rejected", key, (long long)value);
        key = va_arg(ap, int);
    }
    va_end(ap);
    return o;
}

budp_socket *tu_bind(const char *host, const budp_options *o)
{
    budp_socket *s = NULL;
    int rc = budp_bind(&s, host, 0, o);

    ck_assert_msg(rc == 0, "budp_bind(%s): %s", host, budp_strerror(rc));
    return s;
}

#ifdef __linux__
int tu_epoll_wait(int ep, struct epoll_event *out, int timeout_ms)
{
    double deadline = tu_now_ms() + timeout_ms;
    int rc;

    while ((rc = epoll_wait(ep, out, 1, timeout_ms)) < 0 && errno == EINTR) {
        double left = deadline - tu_now_ms();
        timeout_ms = left > 0 ? (int)left : 0;
    }
    return rc;
}
#endif

int tu_backend_opens(int backend)
{
    budp_options *o = NULL;
    budp_socket *s = NULL;
    int rc = budp_options_new(&o);

    if (rc == 0 && (rc = budp_options_set(o, BUDP_OPT_BACKEND, backend)) == 0)
        rc = budp_bind(&s, "127.0.0.1", 0, o);
    budp_options_free(o);
    budp_close(s);
    return rc;
}

budp_options *tu_mode_options(enum tu_mode m)
{
    return tu_options(BUDP_OPT_BATCH_SIZE, (int64_t)8, BUDP_OPT_GRO, (int64_t)0,
                      BUDP_OPT_THREADED, (int64_t)(m != TU_INLINE),
                      BUDP_OPT_CALLBACK_THREAD, (int64_t)(m == TU_CALLBACK_THREAD),
                      BUDP_OPT_RING_CAPACITY, (int64_t)16, 0);
}

budp_socket *tu_mode_socket(enum tu_mode m)
{
    budp_options *o = tu_mode_options(m);
    budp_socket *s = tu_bind("127.0.0.1", o);

    budp_options_free(o);
    return s;
}

budp_addr tu_local(const budp_socket *s)
{
    budp_addr a;

    ck_assert_int_eq(budp_local_addr(s, &a), 0);
    return a;
}

/* Payload: sender (4) seq (4) then bytes derived from both, so a byte out of
 * place anywhere shows. */
static uint8_t pattern_byte(uint32_t sender, uint32_t seq, size_t i)
{
    return (uint8_t)((seq * 131u + sender * 17u + (uint32_t)i * 7u) ^ (uint32_t)(i >> 8));
}

void tu_payload_fill(uint8_t *buf, size_t len, uint32_t sender, uint32_t seq)
{
    uint8_t head[8];

    memcpy(head, &sender, 4);
    memcpy(head + 4, &seq, 4);
    for (size_t i = 0; i < len; i++)
        buf[i] = i < 8 ? head[i] : pattern_byte(sender, seq, i);
}

int tu_payload_check(const uint8_t *data, size_t len, uint32_t *sender,
                     uint32_t *seq)
{
    uint32_t snd = 0, sq = 0;

    if (len < 8)
        return 1;
    memcpy(&snd, data, 4);
    memcpy(&sq, data + 4, 4);
    for (size_t i = 8; i < len; i++)
        if (data[i] != pattern_byte(snd, sq, i))
            return 0;
    *sender = snd;
    *seq = sq;
    return 1;
}

void tu_send_seq(budp_socket *tx, const budp_addr *dest, uint32_t sender,
                 uint32_t first_seq, unsigned count, size_t size, unsigned batch)
{
    budp_datagram *d = calloc(batch, sizeof *d);
    uint8_t *bufs = malloc(batch * (size ? size : 1));
    unsigned done = 0;

    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(bufs);
    while (done < count) {
        unsigned n = count - done < batch ? count - done : batch;
        unsigned sent = 0;

        for (unsigned i = 0; i < n; i++) {
            uint8_t *b = bufs + (size_t)i * (size ? size : 1);
            tu_payload_fill(b, size, sender, first_seq + done + i);
            memset(&d[i], 0, sizeof d[i]);
            d[i].data = b;
            d[i].len = (uint32_t)size;
            if (dest != NULL)
                d[i].peer = *dest;
        }
        while (sent < n) {
            int rc = budp_send(tx, d + sent, n - sent);
            if (rc == -EAGAIN || rc == -ENOBUFS) {
                struct timespec ts = { 0, 200000 };
                nanosleep(&ts, NULL);
                continue;
            }
            ck_assert_msg(rc > 0, "budp_send: %s", budp_strerror(rc));
            sent += (unsigned)rc;
        }
        done += n;
    }
    free(d);
    free(bufs);
}

unsigned tu_recv_seq(budp_socket *rx, unsigned count, int timeout_ms)
{
    uint32_t next[16] = { 0 };
    unsigned got = 0;

    while (got < count) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 64);

        ck_assert_msg(n >= 0, "budp_recv: %s", budp_strerror(n));
        if (n == 0) {
            int w = budp_wait(rx, timeout_ms);
            ck_assert_int_ge(w, 0);
            if (w == 0)
                break;
            continue;
        }
        for (int i = 0; i < n; i++) {
            uint32_t sender = 0, seq = 0;
            ck_assert_msg(tu_payload_check(v[i].data, v[i].len, &sender, &seq),
                          "corrupt payload");
            if (v[i].len >= 8) {
                ck_assert_uint_lt(sender, 16);
                ck_assert_msg(seq == next[sender], "sender %u: seq %u, expected %u",
                              sender, seq, next[sender]);
                next[sender] = seq + 1;
            }
        }
        got += (unsigned)n;
    }
    return got;
}

budp_datagram tu_datagram(const uint8_t *data, uint32_t len, const budp_addr *dest)
{
    budp_datagram d;

    memset(&d, 0, sizeof d);
    d.data = data;
    d.len = len;
    if (dest != NULL)
        d.peer = *dest;
    return d;
}

int tu_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

int tu_ignore_batch(void *user, const budp_datagram *d, unsigned n)
{
    (void)user;
    (void)d;
    (void)n;
    return BUDP_CALLBACK_CONTINUE;
}

budp_stats tu_stats(const budp_socket *s)
{
    budp_stats st;

    ck_assert_int_eq(budp_get_stats(s, &st, sizeof st), (int)sizeof st);
    return st;
}

double tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void tu_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

unsigned tu_scaled(unsigned count, unsigned minimum)
{
    const char *env = getenv("BUDP_TEST_SCALE");
    unsigned scale = env != NULL ? (unsigned)atoi(env) : 1;
    unsigned n = scale > 1 ? count / scale : count;

    return n < minimum ? minimum : n;
}

int tu_dir_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

void tu_truncation_round(budp_socket *tx, budp_socket *rx)
{
    static const uint32_t lens[] = { 101, 200, 50, 1000, 100, 102, 99, 5000 };
    enum { N = sizeof lens / sizeof lens[0], MAX = 100 };
    static uint8_t bufs[N][5000];
    budp_addr dest = tu_local(rx);
    budp_datagram d[N];
    unsigned got = 0, want_cut = 0;
    budp_stats before = tu_stats(rx);

    for (unsigned k = 0; k < N; k++) {
        tu_payload_fill(bufs[k], lens[k], 1, k);
        d[k] = tu_datagram(bufs[k], lens[k], &dest);
        want_cut += lens[k] > MAX;
    }
    ck_assert_int_eq(budp_send(tx, d, N), N);
    while (got < N) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 32);

        ck_assert_int_ge(n, 0);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++, got++) {
            uint32_t want = lens[got] > MAX ? MAX : lens[got];
            ck_assert_msg(v[k].len == want, "#%u (%u bytes): len %u", got,
                          lens[got], v[k].len);
            ck_assert_mem_eq(v[k].data, bufs[got], want);
            ck_assert_msg(!!(v[k].flags & BUDP_DGRAM_TRUNCATED) == (lens[got] > MAX),
                          "#%u (%u bytes): flags %#x", got, lens[got], v[k].flags);
        }
    }
    ck_assert_uint_eq(tu_stats(rx).rx_truncated - before.rx_truncated, want_cut);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams - before.rx_datagrams, N);
}
