/* soak.h - batchudp-soak: millions of datagrams through threaded sockets
 * that are shut down, closed and reopened on the same port while senders
 * keep sending.  See soak.c for what it checks. */
#ifndef BUDP_SOAK_H
#define BUDP_SOAK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "batchudp.h"

#define SOAK_SENDERS 2
#define SOAK_BATCH 32
#define SOAK_MIN_PAYLOAD 24   /* the header below */
#define SOAK_MAX_PAYLOAD 1200

/* Payload: sender (u32), length (u32), sequence number (u64), FNV-1a of
 * every other byte (u32), 4 spare bytes, then bytes derived from sender and
 * sequence number.  The length is a function of both, so a datagram cut
 * short or run together with another shows. */
uint32_t soak_payload_len(uint32_t sender, uint64_t seq);
void soak_payload_fill(uint8_t *buf, uint32_t sender, uint64_t seq);
/* 1 when data/len is a payload soak_payload_fill made; *sender and *seq
 * get what it carries. */
int soak_payload_check(const uint8_t *data, uint32_t len, uint32_t *sender,
                       uint64_t *seq);

/* One sending thread with a socket of its own, sending batches of
 * SOAK_BATCH to dest until quota datagrams went or stop is set. */
struct soak_sender {
    uint32_t id;
    budp_socket *tx;
    budp_addr dest;
    uint64_t quota;
    /* Sequence numbers below issued were handed to budp_send (stored before
     * the call); below sent, the call returned with them sent.  A datagram
     * the kernel did not take is sent again with the same number. */
    atomic_uint_fast64_t issued, sent;
    atomic_int stop;
    int pinned;        /* kept on one CPU (see soak.c: order) */
    int error;         /* the first send error that is not "try again" */
    pthread_t thread;
};

/* Create the socket (on host, port 0) and start the thread.  0 or -errno. */
int soak_sender_start(struct soak_sender *s, const char *host, int cpu);
/* Wait for the thread and close the socket. */
void soak_sender_finish(struct soak_sender *s);

/* Process figures from /proc: resident set size in KiB, open fds, and two
 * kernel-wide counters of UDP datagrams lost before any socket: to a port
 * with no socket (Udp NoPorts), and over a full per-CPU backlog
 * (softnet_stat).  -1 or 0 where they cannot be read. */
long soak_rss_kib(void);
int soak_fd_count(void);
uint64_t soak_udp_noports(void);
uint64_t soak_backlog_drops(void);

#endif
