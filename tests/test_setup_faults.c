/* test_setup_faults.c - what socket setup does when the system says no, or
 * says less than it should: a kernel that sets UDP_GRO but cannot read it
 * back (Linux 5.0-5.11), failed socket options and thread creation (the
 * documented error, nothing written, nothing left behind), the pipe
 * fallback created close-on-exec, and a receiver thread that takes none of
 * the application's signals. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "faults/fault_shim.h"
#include "testutil.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define SENTINEL ((budp_socket *)(uintptr_t)0x5a5a5a5a)

static int open_fds(void)
{
    return tu_dir_entries("/proc/self/fd");
}

static int int_option(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;

    ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

/* Linux 5.0-5.11 sets UDP_GRO but answers ENOPROTOOPT when asked for it:
 * GRO must still be on, and really coalesce. */
START_TEST(gro_on_when_unreadable)
{
#ifdef UDP_GRO
    budp_socket *rx, *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest;
    budp_stats st;
    unsigned got;

    fault_reset();
    fault_sockopt(1, SOL_UDP, UDP_GRO, ENOPROTOOPT, -1);
    rx = tu_bind("127.0.0.1", NULL);
    dest = tu_local(rx);
    /* One GSO send of 20 equal datagrams: one GRO receive if GRO is on. */
    tu_send_seq(tx, &dest, 0, 0, 20, 1000, 20);
    got = tu_recv_seq(rx, 20, 2000);
    st = tu_stats(rx);
    ck_assert_uint_eq(got, 20);
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, 1);
    ck_assert_msg(st.rx_coalesced == 1,
                  "GRO is off: %llu coalesced receives for one GSO send",
                  (unsigned long long)st.rx_coalesced);
    budp_close(rx);
    budp_close(tx);
#else
    fprintf(stderr, "gro_on_when_unreadable: skipped: no UDP_GRO here\n");
#endif
}
END_TEST

/* A wrapped fd whose UDP_GRO cannot be read gets it turned off again. */
START_TEST(gro_unreadable_restored_on_close)
{
#ifdef UDP_GRO
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    budp_socket *s = NULL;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(int_option(fd, SOL_UDP, UDP_GRO), 0);
    fault_reset();
    fault_sockopt(1, SOL_UDP, UDP_GRO, ENOPROTOOPT, -1);
    ck_assert_int_eq(budp_open(&s, fd, NULL), 0);
    fault_reset();
    ck_assert_int_eq(int_option(fd, SOL_UDP, UDP_GRO), 1);
    fault_sockopt(1, SOL_UDP, UDP_GRO, ENOPROTOOPT, -1);
    budp_close(s);
    fault_reset();
    ck_assert_int_eq(int_option(fd, SOL_UDP, UDP_GRO), 0);
    close(fd);
#else
    fprintf(stderr, "gro_unreadable_restored_on_close: skipped: no UDP_GRO here\n");
#endif
}
END_TEST

/* A kernel without UDP_GRO at all (before 5.0): the socket works without. */
START_TEST(gro_absent)
{
#ifdef UDP_GRO
    budp_socket *rx, *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest;

    fault_reset();
    fault_sockopt(0, SOL_UDP, UDP_GRO, ENOPROTOOPT, -1);
    rx = tu_bind("127.0.0.1", NULL);
    fault_reset();
    dest = tu_local(rx);
    tu_send_seq(tx, &dest, 0, 0, 20, 1000, 20);
    ck_assert_uint_eq(tu_recv_seq(rx, 20, 2000), 20);
    ck_assert_uint_eq(tu_stats(rx).rx_coalesced, 0);
    budp_close(rx);
    budp_close(tx);
#else
    fprintf(stderr, "gro_absent: skipped: no UDP_GRO here\n");
#endif
}
END_TEST

/* A failed socket option: the documented error, *out untouched, no fd
 * left open, and a wrapped fd's options as they were. */
START_TEST(setsockopt_failure)
{
    budp_options *o = tu_options(BUDP_OPT_PKTINFO, (int64_t)1,
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(1 << 20), 0);
    budp_socket *s = SENTINEL;
    int fds = open_fds();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rcvbuf = int_option(fd, SOL_SOCKET, SO_RCVBUF);

    fault_reset();
    fault_sockopt(0, IPPROTO_IP, IP_PKTINFO, EIO, -1);
    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), -EIO);
    ck_assert_ptr_eq(s, SENTINEL);
    ck_assert_int_eq(open_fds(), fds + 1);
    ck_assert_int_eq(budp_open(&s, fd, o), -EIO);
    ck_assert_ptr_eq(s, SENTINEL);
    fault_reset();
    /* The receive buffer, set before the failure, is back. */
    ck_assert_int_eq(int_option(fd, SOL_SOCKET, SO_RCVBUF), rcvbuf);
    ck_assert_int_eq(int_option(fd, IPPROTO_IP, IP_PKTINFO), 0);
    close(fd);
    budp_options_free(o);
}
END_TEST

/* No thread for threaded mode: -EAGAIN (as pthread_create), nothing left. */
START_TEST(thread_creation_failure)
{
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1, 0);
    budp_socket *s = SENTINEL;
    int fds = open_fds();

    fault_reset();
    fault_thread_create(EAGAIN, 1);
    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), -EAGAIN);
    ck_assert_ptr_eq(s, SENTINEL);
    ck_assert_int_eq(open_fds(), fds);
    /* The next one works. */
    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), 0);
    budp_close(s);
    ck_assert_int_eq(open_fds(), fds);
    budp_options_free(o);
}
END_TEST

/* A socket of mode m whose kernel buffer holds a whole test's burst. */
static budp_socket *deep_socket(enum tu_mode m)
{
    budp_options *o = tu_mode_options(m);
    budp_socket *s;

    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RECV_BUFFER, 8 << 20), 0);
    s = tu_bind("127.0.0.1", o);
    budp_options_free(o);
    return s;
}

/* Without eventfd the wake-up fds are pipes, created close-on-exec and
 * non-blocking in one step, and every mode works through them. */
START_TEST(pipe_fallback)
{
    const enum tu_mode mode = (enum tu_mode)_i;
    budp_socket *rx, *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest;
    unsigned count = tu_scaled(2000, 200);

    fault_reset();
    fault_eventfd_error(ENOSYS);
    rx = deep_socket(mode);
    dest = tu_local(rx);
    ck_assert_uint_eq(fault_pipes_without_cloexec(), 0);
    if (mode == TU_THREADED) {
        int pfd = budp_poll_fd(rx);
        ck_assert_int_ge(pfd, 0);
        ck_assert(fcntl(pfd, F_GETFD) & FD_CLOEXEC);
        ck_assert(fcntl(pfd, F_GETFL) & O_NONBLOCK);
    }
    if (mode == TU_CALLBACK_THREAD) {
        ck_assert_int_eq(budp_set_callback(rx, tu_ignore_batch, NULL), 0);
        tu_send_seq(tx, &dest, 0, 0, count, 64, 16);
        for (int i = 0; i < 2000 && tu_stats(rx).rx_datagrams < count; i++)
            tu_sleep_ms(1);
        ck_assert_uint_eq(tu_stats(rx).rx_datagrams, count);
    } else {
        tu_send_seq(tx, &dest, 0, 0, count, 64, 16);
        ck_assert_uint_eq(tu_recv_seq(rx, count, 2000), count);
    }
    budp_close(rx);
    budp_close(tx);
    fault_reset();
}
END_TEST

static pthread_t handler_thread;
static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    (void)sig;
    handler_thread = pthread_self();
    handled = 1;
}

/* A process-directed signal the application blocks in its own thread is
 * never taken by the receiver thread: it waits for the application. */
START_TEST(receiver_thread_takes_no_signals)
{
    const enum tu_mode mode = _i ? TU_CALLBACK_THREAD : TU_THREADED;
    struct sigaction sa;
    sigset_t usr1;
    budp_socket *s;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    /* The socket is made while SIGUSR1 is open in this thread. */
    ck_assert_int_eq(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL), 0);
    s = tu_mode_socket(mode);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &usr1, NULL), 0);
    handled = 0;
    ck_assert_int_eq(kill(getpid(), SIGUSR1), 0);
    tu_sleep_ms(50);
    ck_assert_msg(!handled, "the receiver thread took the application's signal");
    ck_assert_int_eq(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL), 0);
    for (int i = 0; i < 1000 && !handled; i++)
        tu_sleep_ms(1);
    ck_assert(handled);
    ck_assert(pthread_equal(handler_thread, pthread_self()));
    budp_close(s);
}
END_TEST

/* A group whose setup fails part way, at the steering program (a kernel
 * without SO_ATTACH_REUSEPORT_CBPF: ENOPROTOOPT), at SO_REUSEPORT, or at
 * the third member's receiver thread: the error, *out untouched, no fd
 * left open, and the port free again. */
START_TEST(group_setup_failure)
{
    budp_options *key = tu_options(BUDP_OPT_STEERING, (int64_t)BUDP_STEER_KEY, 0);
    budp_options *threaded = tu_options(BUDP_OPT_THREADED, (int64_t)1, 0);
    budp_group *const sentinel = (budp_group *)(uintptr_t)0x5a5a5a5a;
    budp_group *g = sentinel;
    int fds = open_fds();

    fault_sockopt(0, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, ENOPROTOOPT, -1);
    ck_assert_int_eq(budp_group_bind(&g, "127.0.0.1", 0, 4, key), -ENOPROTOOPT);
    fault_reset();
    fault_sockopt(0, SOL_SOCKET, SO_REUSEPORT, EPERM, -1);
    ck_assert_int_eq(budp_group_bind(&g, "127.0.0.1", 0, 4, NULL), -EPERM);
    fault_reset();
    {
        /* The first two members' threads start; the third's fails. */
        struct fault_spec spec = { .err = EAGAIN, .nth = 3, .count = 1 };
        fault_rule(FAULT_THREAD, &spec);
    }
    ck_assert_int_eq(budp_group_bind(&g, "127.0.0.1", 0, 4, threaded), -EAGAIN);
    fault_reset();
    ck_assert_ptr_eq(g, sentinel);
    ck_assert_int_eq(open_fds(), fds);
    /* Everything works again once nothing fails. */
    ck_assert_int_eq(budp_group_bind(&g, "127.0.0.1", 0, 4, key), 0);
    budp_group_close(g);
    budp_options_free(key);
    budp_options_free(threaded);
}
END_TEST

static Suite *setup_faults_suite(void)
{
    Suite *s = suite_create("setup_faults");
    TCase *tc = tcase_create("setup");

    tcase_set_timeout(tc, 60);
    /* No fault outlives its test (CK_FORK=no runs them in one process). */
    tcase_add_checked_fixture(tc, fault_reset, fault_reset);
    tcase_add_test(tc, gro_on_when_unreadable);
    tcase_add_test(tc, gro_unreadable_restored_on_close);
    tcase_add_test(tc, gro_absent);
    tcase_add_test(tc, setsockopt_failure);
    tcase_add_test(tc, thread_creation_failure);
    tcase_add_test(tc, group_setup_failure);
    tcase_add_loop_test(tc, pipe_fallback, TU_INLINE, TU_CALLBACK_THREAD + 1);
    tcase_add_loop_test(tc, receiver_thread_takes_no_signals, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(setup_faults_suite());
}
