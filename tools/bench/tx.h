/* tx.h - the sending side of one method of --mode send, behind one small
 * interface.
 *
 * Every method sends from the same kind of socket (unconnected, IPv4, a
 * large send buffer) with the destination given per datagram, and from the
 * same buffers: datagram i of a send call comes from slot i of a buffer of
 * --batch slots, so no method gains from a cache-hot single payload. */
#ifndef BUDP_BENCH_TX_H
#define BUDP_BENCH_TX_H

#include <stdint.h>
#include <netinet/in.h>

#include "bench.h"

struct tx {
    const struct method *m;
    int fd;                       /* the bench's socket, also for the library */
    struct sockaddr_in to;
    unsigned size, batch;
    uint8_t *payload;             /* batch slots of size bytes */

    /* plain system calls */
    void *iov;                    /* struct iovec[batch] */
    void *msgs;                   /* struct mmsghdr[batch] */
    uint64_t calls;               /* send calls that sent something */
    uint64_t sent;                /* datagrams sent */

    /* the library */
    budp_socket *s;
    budp_datagram *d;             /* batch datagrams, one per slot */

    uint64_t stalls;              /* send buffer full: waited for room */
};

/* What the sender has done so far.  syscalls and datagrams come from the
 * library's counters (tx_syscalls, tx_datagrams, tx_coalesced) for the
 * library's methods, from the bench's own count for the others. */
struct tx_counters {
    uint64_t syscalls, datagrams, gso_sends, gso_fallbacks;
};

/* Prepare method m to send size-byte datagrams to to.  Returns 0 or
 * -errno; the reason is written to info->note, the library's backend name
 * (or "-") to info->backend. */
int  tx_open(struct tx *t, const struct method *m, const struct sockaddr_in *to,
             const struct bench_config *c, struct run_info *info);

/* Send n datagrams, --batch per call, waiting for room when the send buffer
 * is full.  Returns 0 or -errno. */
int  tx_send(struct tx *t, unsigned long n);

void tx_counters(const struct tx *t, struct tx_counters *out);

void tx_close(struct tx *t);

#endif
