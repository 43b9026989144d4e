/* backend.h - the platform code behind one table of function pointers.
 *
 * A backend turns "receive up to n datagrams into these slots" and "send
 * these datagrams" into the platform's batch system calls.  Receive and send
 * may run at the same time on two threads, so a backend keeps separate
 * scratch state for each direction; the socket serialises senders. */
#ifndef BUDP_BACKEND_H
#define BUDP_BACKEND_H

#include <stdint.h>

#include "batchudp.h"
#include "slot.h"

struct budp_socket;

/* Per-socket facts a backend reads at open time. */
struct budp_backend_config {
    int      fd;
    unsigned batch_size;
    uint32_t max_datagram;
    int      gro;      /* UDP_GRO is on: receives may be coalesced */
    int      gso;      /* caller asked for GSO */
    int      pktinfo;
    int      ecn;
    int      family;   /* AF_INET or AF_INET6 of the socket */
    int      want_control; /* an option (PKTINFO, ECN) needs control messages */
};

/* What a send needs to know beyond the datagrams. */
struct budp_tx_params {
    int family;        /* the socket's: AF_INET or AF_INET6 */
    int ecn;           /* BUDP_OPT_ECN: set d->ecn on the packet */
    int connected_v4;  /* an AF_INET6 socket connected to an IPv4 peer
                          (through its mapped address) */
};

struct budp_tx_report {
    unsigned syscalls;      /* send system calls that sent something */
    unsigned coalesced;     /* GSO sends made */
    unsigned gso_fallbacks; /* times GSO was turned off */
    unsigned anomalies;     /* counts above what was given, ignored */
};

struct budp_backend {
    const char *name;
    int         id;   /* BUDP_BACKEND_* */
    /* 1 when recv makes one system call per datagram received (loop), so
     * the stats count calls, not batches. */
    int         call_per_datagram;
    /* 1 when recv passes GRO's segment size on (the socket then turns
     * UDP_GRO on if asked; for the others it is kept off). */
    int         splits_gro;

    /* 1 when the backend can run on this system (symbols present, etc.). */
    int (*available)(void);

    /* Allocate per-socket state for cfg (arrays sized for batch_size) and
     * turn on what cfg asks that this backend implements (GSO).  Returns 0
     * or -errno. */
    int (*open)(const struct budp_backend_config *cfg, void **state);

    /* Receive up to n datagrams into slots[0..n), without blocking.
     * Returns the number of slots filled (0: nothing queued) or -errno.
     * EINTR is retried inside. */
    int (*recv)(void *state, int fd, struct budp_rx_slot *slots, unsigned n,
                const struct budp_rx_params *p);

    /* Send up to n datagrams (already validated), without blocking.
     * Returns how many were sent, or -errno when the first one failed. */
    int (*send)(void *state, int fd, const budp_datagram *d, unsigned n,
                const struct budp_tx_params *p, struct budp_tx_report *rep);

    void (*close)(void *state);
};

extern const struct budp_backend budp_backend_mmsg;
extern const struct budp_backend budp_backend_msgx;
extern const struct budp_backend budp_backend_loop;

/* How many receive system calls returned the n slots a backend filled. */
unsigned budp_backend_rx_calls(const struct budp_backend *b, int n);

/* The backend for id (BUDP_BACKEND_AUTO picks the best available one), or
 * NULL with *err set: -ENOTSUP when the named backend is absent. */
const struct budp_backend *budp_backend_select(int id, int *err);

#endif
