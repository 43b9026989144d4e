/* test_uring.c - what only the io_uring backend has: the kernel refusing
 * io_uring, zero-copy sends, its buffers running out, its poll fd, and the
 * datagrams it has taken ahead of budp_recv.  The conformance every
 * backend meets runs against it too: tests/test_roundtrip's uring
 * combinations, and the suites tools/test-all.sh runs again with
 * BATCHUDP_BACKEND=uring.  The whole suite says skipped where the backend
 * is absent. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "testutil.h"

static budp_options *uring_options(int key, int64_t value)
{
    return tu_options(BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_URING,
                      BUDP_OPT_RECV_BUFFER, (int64_t)(4 << 20), key, value, 0);
}

static budp_socket *uring_socket(const char *host, int key, int64_t value)
{
    budp_options *o = uring_options(key, value);
    budp_socket *s = tu_bind(host, o);

    budp_options_free(o);
    ck_assert_str_eq(budp_backend_name(s), "uring");
    return s;
}

/* io_uring_setup forbidden, as the io_uring_disabled sysctl, a container's
 * seccomp profile or a sandbox does: AUTO takes mmsg without a word, a
 * request by name gets -EPERM.  In a child, whose filter goes with it. */
static int refused_child(void)
{
#ifdef __NR_io_uring_setup
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof code / sizeof code[0]), code };
    budp_options *o = NULL;
    budp_socket *s = NULL;
    int rc;

    if (unsetenv("BATCHUDP_BACKEND") != 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 10;
    if (budp_bind(&s, "127.0.0.1", 0, NULL) != 0 || strcmp(budp_backend_name(s), "mmsg") != 0)
        return 11;
    budp_close(s);
    s = NULL;
    if (budp_options_new(&o) != 0 ||
        budp_options_set(o, BUDP_OPT_BACKEND, BUDP_BACKEND_URING) != 0)
        return 12;
    rc = budp_bind(&s, "127.0.0.1", 0, o);
    budp_options_free(o);
    if (rc != -EPERM || s != NULL) {
        fprintf(stderr, "by name: %s\n", budp_strerror(rc));
        return 13;
    }
    /* The environment asks by name too. */
    if (setenv("BATCHUDP_BACKEND", "uring", 1) != 0 ||
        budp_bind(&s, "127.0.0.1", 0, NULL) != -EPERM)
        return 14;
    return 0;
#else
    return 0;
#endif
}

START_TEST(kernel_refusal)
{
    pid_t pid = fork();
    int status = 0;

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(refused_child());
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "refusal child: status %d (10 seccomp, 11 AUTO, 12 options, "
                  "13 by name, 14 environment)", WEXITSTATUS(status));
}
END_TEST

/* BUDP_OPT_ZEROCOPY: refused by every other backend; on this one a GSO
 * train of 64 KiB goes by IORING_OP_SENDMSG_ZC and arrives whole. */
START_TEST(zerocopy_trains)
{
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_MMSG,
                                 BUDP_OPT_ZEROCOPY, (int64_t)1, 0);
    budp_socket *s = NULL, *rx, *tx;
    enum { TRAIN = 46, SIZE = 1400 };
    static uint8_t payload[TRAIN][SIZE];
    budp_datagram d[TRAIN];
    budp_addr dest;
    unsigned got;

    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), -ENOTSUP);
    ck_assert_ptr_null(s);
    budp_options_free(o);

    rx = uring_socket("127.0.0.1", BUDP_OPT_GRO, 0);
    tx = uring_socket("127.0.0.1", BUDP_OPT_ZEROCOPY, 1);
    dest = tu_local(rx);
    for (unsigned r = 0; r < 4; r++) {
        for (unsigned i = 0; i < TRAIN; i++) {
            tu_payload_fill(payload[i], SIZE, 0, r * TRAIN + i);
            d[i] = tu_datagram(payload[i], SIZE, &dest);
        }
        ck_assert_int_eq(budp_send(tx, d, TRAIN), TRAIN);
    }
    /* Sent as trains, and the caller's buffers free on return: overwritten
     * now, they must not change what arrives. */
    ck_assert_uint_ge(tu_stats(tx).tx_coalesced, 4);
    memset(payload, 0xee, sizeof payload);
    got = tu_recv_seq(rx, 4 * TRAIN, 2000);
    ck_assert_uint_eq(got, 4 * TRAIN);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* Trains whose payload touches more pages than one zero-copy send may pin
 * (46 buffers of their own, each across a page boundary; one block that
 * starts late in a page and spans 17): the kernel would refuse them with
 * EMSGSIZE, which must not pass for the path MTU.  They go copied, still
 * as GSO trains, and arrive whole; no GSO fallback is counted. */
START_TEST(zerocopy_many_pages)
{
    enum { TRAIN = 46, SIZE = 1400, PAGE = 4096 };
    budp_socket *rx = uring_socket("127.0.0.1", BUDP_OPT_GRO, 0);
    budp_socket *tx = uring_socket("127.0.0.1", BUDP_OPT_ZEROCOPY, 1);
    budp_addr dest = tu_local(rx);
    static uint8_t block[TRAIN * SIZE + 2 * PAGE] __attribute__((aligned(4096)));
    uint8_t *scattered[TRAIN];
    budp_datagram d[TRAIN];
    budp_stats st;

    for (unsigned i = 0; i < TRAIN; i++) {
        scattered[i] = malloc(2 * PAGE);
        ck_assert_ptr_nonnull(scattered[i]);
    }
    for (unsigned r = 0; r < 3; r++) {
        for (unsigned i = 0; i < TRAIN; i++) {
            uint8_t *buf = r == 1 ? block + 2560 + i * SIZE
                                  : scattered[i] + PAGE - 500;

            tu_payload_fill(buf, SIZE, 0, r * TRAIN + i);
            d[i] = tu_datagram(buf, SIZE, &dest);
        }
        ck_assert_int_eq(budp_send(tx, d, TRAIN), TRAIN);
    }
    st = tu_stats(tx);
    ck_assert_uint_eq(st.tx_gso_fallbacks, 0);
    ck_assert_uint_eq(st.tx_coalesced, 3);
    ck_assert_uint_eq(tu_recv_seq(rx, 3 * TRAIN, 2000), 3 * TRAIN);
    for (unsigned i = 0; i < TRAIN; i++)
        free(scattered[i]);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* Far more datagrams than the backend has buffers (a batch of 8 has 8):
 * the kernel ends the receive when they run out, the datagrams wait in the
 * socket's queue, and the next budp_recv starts it again.  None lost,
 * none out of order, inline and threaded. */
START_TEST(buffers_run_out)
{
    const int threaded = _i;
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_URING,
                                 BUDP_OPT_BATCH_SIZE, (int64_t)8, BUDP_OPT_GRO, (int64_t)0,
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(4 << 20),
                                 BUDP_OPT_THREADED, (int64_t)threaded, 0);
    budp_socket *rx = tu_bind("127.0.0.1", o), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    unsigned count = tu_scaled(3000, 500);

    budp_options_free(o);
    tu_send_seq(tx, &dest, 0, 0, count, 300, 64);
    ck_assert_uint_eq(tu_recv_seq(rx, count, 2000), count);
    ck_assert_uint_eq(tu_stats(rx).rx_kernel_drops, 0);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* The inline poll fd is readable while datagrams wait, and only then:
 * a drained socket's fd polls empty. */
START_TEST(poll_fd_follows_completions)
{
    budp_socket *rx = uring_socket("127.0.0.1", 0, 0), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    struct pollfd p = { budp_poll_fd(rx), POLLIN, 0 };
    const budp_datagram *v;

    ck_assert_int_ge(p.fd, 0);
    ck_assert_int_eq(poll(&p, 1, 0), 0);
    tu_send_seq(tx, &dest, 0, 0, 5, 100, 5);
    ck_assert_int_eq(poll(&p, 1, 2000), 1);
    ck_assert_uint_eq(tu_recv_seq(rx, 5, 2000), 5);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 0);
    ck_assert_int_eq(poll(&p, 1, 0), 0);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

static void on_signal(int sig)
{
    (void)sig;
}

static void *signal_later(void *arg)
{
    tu_sleep_ms(100);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

/* A signal that interrupts budp_wait does not end it: with nothing to
 * receive it runs to its timeout and says so (0), as on every backend. */
START_TEST(wait_outlasts_a_signal)
{
    budp_socket *rx = uring_socket("127.0.0.1", 0, 0);
    struct sigaction sa;
    pthread_t self = pthread_self(), t;
    double t0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;   /* no SA_RESTART: poll fails with EINTR */
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, signal_later, &self), 0);
    t0 = tu_now_ms();
    ck_assert_int_eq(budp_wait(rx, 600), 0);
    printf("wait through a signal: %.0f ms\n", tu_now_ms() - t0);
    pthread_join(t, NULL);
    budp_close(rx);
}
END_TEST

static Suite *uring_suite(void)
{
    Suite *s = suite_create("uring");
    TCase *tc = tcase_create("uring");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kernel_refusal);
    tcase_add_test(tc, zerocopy_trains);
    tcase_add_test(tc, zerocopy_many_pages);
    tcase_add_loop_test(tc, buffers_run_out, 0, 2);
    tcase_add_test(tc, poll_fd_follows_completions);
    tcase_add_test(tc, wait_outlasts_a_signal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = tu_backend_opens(BUDP_BACKEND_URING);

    if (rc == -ENOTSUP || rc == -EPERM) {
        printf("test_uring: skipped, no io_uring backend here (%s)\n", budp_strerror(rc));
        return 77;
    }
    return tu_run(uring_suite());
}
