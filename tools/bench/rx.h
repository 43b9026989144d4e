/* rx.h - the receive side of one method, behind one small interface.
 *
 * Every method reads each datagram it receives (its length and first byte),
 * so no method gains by leaving payloads untouched. */
#ifndef BUDP_BENCH_RX_H
#define BUDP_BENCH_RX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bench.h"

struct rx {
    const struct method *m;
    int fd;
    unsigned batch;
    size_t slot;                  /* receive buffer per datagram (raw) */
    unsigned expect_len;          /* datagrams of any other length count as bad */

    /* plain system calls */
    uint8_t *bufs;
    void *iov;                    /* struct iovec[batch] */
    void *names;                  /* struct sockaddr_storage[batch] */
    void *msgs;                   /* struct mmsghdr[batch] */
    uint64_t calls;               /* receive calls that returned data */

    /* the library */
    budp_socket *s;
    int borrowed;                 /* s is a group member: not ours to close */
    uint32_t *packed_lens;        /* API_PACKED: lengths of one call; its
                                     payloads go to bufs */

    /* totals; in callback mode written by the receiver thread only, and
     * read by others after rx_wait_count or rx_close */
    uint64_t datagrams, bytes, bad_lengths;
    uint32_t checksum;

    /* callback-thread mode */
    _Atomic uint64_t cb_count;
    uint64_t cb_target;
    int cb_signalled;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_ready;

    /* called on the receiver thread after each batch (callback mode) */
    void (*hook)(void *user, unsigned n);
    void *hook_user;
};

/* Prepare method m to receive from fd (a bound UDP socket owned by the
 * caller).  For the library this is budp_open; in callback mode the
 * receiver thread stays idle until rx_start.  Returns 0 or -errno; the
 * reason is written to info->note.  info->backend receives the library's
 * backend name. */
int  rx_open(struct rx *r, const struct method *m, int fd,
             const struct bench_config *c, struct run_info *info);

/* Prepare method m, a library method (KIND_LIB), to receive from s, a
 * socket opened with m's options elsewhere (a group's member): rx_close
 * leaves it open.  Returns 0 or -errno, the reason in info->note. */
int  rx_open_socket(struct rx *r, const struct method *m, budp_socket *s,
                    const struct bench_config *c, struct run_info *info);

/* The options of library method m (KIND_LIB) under configuration c, for
 * budp_open or budp_group_bind.  Returns 0 or -errno; *what names the
 * option that failed. */
int  rx_lib_options(const struct method *m, const struct bench_config *c,
                    budp_options **out, const char **what);

/* Callback mode: set the callback, which starts the receiver thread
 * reading, and signal rx_wait_count once target datagrams have arrived.
 * A no-op for the other modes.  Returns 0 or -errno. */
int  rx_start(struct rx *r, uint64_t target);

/* One non-blocking receive call (a pop in threaded mode).  Returns the
 * datagrams received (0: none queued) or -errno.  Not in callback mode. */
long rx_recv(struct rx *r);

/* Wait until something can be received: 1, 0 on timeout, or -errno. */
int  rx_wait(struct rx *r, int timeout_ms);

/* Datagrams received so far; any thread. */
uint64_t rx_count(struct rx *r);

/* Receive until target datagrams have arrived in all.  Returns 0, or
 * -ETIMEDOUT when nothing arrived for idle_ms, or -errno. */
int  rx_wait_count(struct rx *r, uint64_t target, int idle_ms);

/* The library's counters, where the method uses the library: receive
 * system calls and GRO receives.  Returns 0 or -ENOTSUP. */
int  rx_lib_stats(struct rx *r, uint64_t *syscalls, uint64_t *coalesced,
                  uint64_t *kernel_drops);

/* Stop receiving (joins the library's receiver thread) and free. */
void rx_close(struct rx *r);

#endif
