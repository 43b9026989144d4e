/* relay.h - the parts of --mode relay: the sockets made in the namespaces,
 * the sender and the sink around the relay (relay_ends.c), and the relay's
 * forwarding, one way per method (relay_fwd.c).  relay.c puts them
 * together into a sample. */
#ifndef BUDP_BENCH_RELAY_H
#define BUDP_BENCH_RELAY_H

#include <stdint.h>
#include <netinet/in.h>

#include "bench.h"
#include "gro_sink.h"
#include "net.h"

/* ---- relay_ends.c ---- */

/* A UDP socket made inside namespace ns, bound to ip on a free port, its
 * receive buffer forced to about rcvbuf bytes (0: left as is), its send
 * buffer large.  Returns the fd, or -errno with the reason in why. */
struct relay_socket {
    int fd;
    struct sockaddr_in addr;     /* the bound address */
    size_t rcvbuf;               /* what the kernel granted */
    int forced;                  /* SO_RCVBUFFORCE worked */
};
int relay_socket_open(struct relay_socket *s, const char *ns, struct in_addr ip,
                      size_t rcvbuf, char *why, size_t size);

/* The sender: one socket in ns connected to the relay, sending UDP_SEGMENT
 * runs (the same for every row) from a batch buffer of net.c. */
struct relay_sender {
    int fd;
    unsigned segs;               /* datagrams per run; 1 without GSO */
    unsigned nmsg;               /* runs per sendmmsg */
    int gso_refused;             /* the kernel has no UDP_SEGMENT */
    struct net_sendbuf b;
};
int  relay_sender_open(struct relay_sender *s, const char *ns,
                       const struct sockaddr_in *relay, unsigned size,
                       char *why, size_t wsize);
/* Send up to want datagrams into the relay's queue (relay_fd, the relay's
 * socket) without overflowing it: stops while two more sends would still
 * fit.  Returns the datagrams sent, or -errno; *drops receives the drops
 * the relay's socket counted meanwhile (the kernel counts packets: a
 * dropped run counts once). */
long relay_sender_fill(struct relay_sender *s, int relay_fd, size_t rcvbuf,
                       unsigned long want, uint64_t *drops);
void relay_sender_close(struct relay_sender *s);

/* The sink: the library (GRO on, so that GSO runs arrive whole and cheap
 * to read) on a socket in ns; it counts what arrives and checks lengths. */
struct relay_sink {
    struct relay_socket sock;
    struct gro_sink rx;
};
int  relay_sink_open(struct relay_sink *k, const char *ns, struct in_addr ip,
                     size_t rcvbuf, unsigned size, char *why, size_t wsize);
/* Read until got reaches want, or nothing came for idle_ms.  0 or -errno. */
int  relay_sink_drain(struct relay_sink *k, uint64_t want, int idle_ms);
void relay_sink_close(struct relay_sink *k);

/* ---- relay_fwd.c ---- */

/* The relay of one method on a socket (fd, in the relay's namespace):
 * receive up to --batch datagrams, send each one to the sink. */
struct fwd {
    const struct method *m;
    int fd;
    unsigned batch;
    size_t slot;                 /* receive buffer per datagram (raw) */
    struct sockaddr_in to;       /* the sink */

    /* plain system calls */
    uint8_t *bufs;               /* batch slots (one for relay-recvfrom) */
    void *rx_iov, *tx_iov;       /* struct iovec[batch] each */
    void *names;                 /* struct sockaddr_storage[batch] */
    void *rx_msgs, *tx_msgs;     /* struct mmsghdr[batch] each */

    /* the library */
    budp_socket *s;
    budp_datagram *out;          /* batch datagrams to send, peer the sink */

    uint64_t received, forwarded;
    uint64_t rx_calls, tx_calls; /* system calls that moved data (raw) */
    uint64_t full_waits;         /* sends refused for a full buffer */
};

struct fwd_counters {
    uint64_t rx_calls, tx_calls, gso_sends, gso_fallbacks, coalesced;
};

/* Prepare method m to relay on fd toward to.  Returns 0 or -errno, the
 * reason in info->note, the backend's name (or "-") in info->backend. */
int  fwd_open(struct fwd *f, const struct method *m, int fd,
              const struct sockaddr_in *to, const struct bench_config *c,
              struct run_info *info);
/* Forward until forwarded reaches target: every datagram received is
 * sent on before the next receive, a full send buffer waited out.
 * Returns 0, -ETIMEDOUT when nothing arrived for idle_ms, or -errno. */
int  fwd_run(struct fwd *f, uint64_t target, int idle_ms);
/* System calls, GSO sends and GRO receives: the library's counters for
 * relay-lib*, the relay's own for the others. */
void fwd_counters(const struct fwd *f, struct fwd_counters *out);
void fwd_close(struct fwd *f);

#endif
