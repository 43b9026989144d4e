/* testutil.h - helpers shared by the Check suites. */
#ifndef BUDP_TESTUTIL_H
#define BUDP_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "batchudp.h"

/* An options object with key/value pairs applied; the list ends with key 0.
 * Fails the test on a rejected value. */
budp_options *tu_options(int key, ...);

/* The three ways a socket receives. */
enum tu_mode { TU_INLINE, TU_THREADED, TU_CALLBACK_THREAD };

/* Small options for mode m: batch 8, a ring of 16 slots, GRO off (so
 * sockets are cheap to make by the thousand). */
budp_options *tu_mode_options(enum tu_mode m);
/* A socket on 127.0.0.1 port 0 with tu_mode_options(m). */
budp_socket *tu_mode_socket(enum tu_mode m);

/* Bind to host port 0 with o (may be NULL); fails the test on error. */
budp_socket *tu_bind(const char *host, const budp_options *o);

/* epoll_wait for one event, timeout_ms in all, through EINTR: the io_uring
 * backend's kernel work interrupts the blocking calls of the threads that
 * used its rings, as a signal does (batchudp.h, BUDP_BACKEND_URING).
 * Linux only. */
struct epoll_event;
int tu_epoll_wait(int ep, struct epoll_event *out, int timeout_ms);

/* 0 when a socket on backend (BUDP_BACKEND_*) opens here, else budp_bind's
 * error (-ENOTSUP: not in this build; -EPERM: the system forbids it). */
int tu_backend_opens(int backend);

/* The socket's bound address. */
budp_addr tu_local(const budp_socket *s);

/* Fill buf (len bytes) with a payload that encodes seq and sender and can be
 * verified by tu_payload_check; len >= 0 (short payloads carry less). */
void tu_payload_fill(uint8_t *buf, size_t len, uint32_t sender, uint32_t seq);
/* 1 when data/len is a payload tu_payload_fill made; *sender and *seq get
 * what it encodes (when len >= 8). */
int tu_payload_check(const uint8_t *data, size_t len, uint32_t *sender,
                     uint32_t *seq);

/* Send count datagrams of size bytes to dest with consecutive sequence
 * numbers from first_seq, batch at a time, retrying on EAGAIN and partial
 * sends.  Fails the test on any other error. */
void tu_send_seq(budp_socket *tx, const budp_addr *dest, uint32_t sender,
                 uint32_t first_seq, unsigned count, size_t size, unsigned batch);

/* Receive until count datagrams arrived or timeout_ms passes without any;
 * checks each payload and that sequence numbers from each sender arrive in
 * order from 0.  Returns the number received. */
unsigned tu_recv_seq(budp_socket *rx, unsigned count, int timeout_ms);

/* Send tx datagrams of 101, 200, 50, 1000, 100, 102, 99 and 5000 bytes to
 * rx, whose largest datagram is 100 bytes, and check that each arrives in
 * order, cut to 100 bytes and flagged BUDP_DGRAM_TRUNCATED exactly when it
 * was longer, and counted so in rx_truncated. */
void tu_truncation_round(budp_socket *tx, budp_socket *rx);

/* A datagram to send: data/len to dest (NULL: the connected peer). */
budp_datagram tu_datagram(const uint8_t *data, uint32_t len, const budp_addr *dest);

/* Run every test of s, print Check's summary, and return the exit status
 * for main: EXIT_SUCCESS when nothing failed. */
int tu_run(Suite *s);

/* Entries of a directory, "." and ".." not counted (-1 when it cannot be
 * read): threads in /proc/self/task, fds in /proc/self/fd. */
int tu_dir_entries(const char *path);

/* 1 when fd is an open file descriptor. */
int tu_fd_open(int fd);

/* A callback that ignores its batch. */
int tu_ignore_batch(void *user, const budp_datagram *d, unsigned n);

/* A stats snapshot. */
budp_stats tu_stats(const budp_socket *s);

/* Milliseconds on the monotonic clock. */
double tu_now_ms(void);
/* Sleep for ms milliseconds. */
void tu_sleep_ms(int ms);

/* Scale a count for slow runs (valgrind, sanitizers): BUDP_TEST_SCALE
 * divides it (default 1), never below minimum. */
unsigned tu_scaled(unsigned count, unsigned minimum);

#endif
