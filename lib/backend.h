/* backend.h - the seam between the library and a platform's I/O.
 *
 * A backend is one file that defines one table, struct budp_backend: how
 * to receive a batch into slots, send a batch, and sleep until the socket
 * is readable or another thread wakes the sleeper.  Everything that
 * differs between platforms and I/O models (recvmmsg vs recvmsg_x vs a
 * completion ring; poll vs WSAPoll; msghdr vs WSAMSG) sits behind it.  The
 * generic code calls nothing else of the platform but sys.h and notify.h.
 *
 * Adding a backend: write backend_NAME.c with its table (a large one may
 * keep its halves in backend_NAME_*.c, as io_uring does), add one line to
 * the list in backend.c and one value to the BUDP_BACKEND_* enum of
 * batchudp.h, and list the files in lib/local.mk.  docs/BACKENDS.md walks
 * through each entry.
 *
 * Threads: recv and wait run on the receiving thread (the consumer's
 * inline, the receiver thread's in threaded mode); send on any thread,
 * serialised by the socket; wake on any thread, concurrently with the
 * others; poll_fd on any thread.  A backend keeps separate scratch state
 * for receiving and sending. */
#ifndef BUDP_BACKEND_H
#define BUDP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"
#include "slot.h"

/* What a backend can do (budp_backend.caps). */
#define BUDP_CAN_GRO        0x01u /* receive coalesced datagrams (segment_size) */
#define BUDP_CAN_GSO        0x02u /* send runs of datagrams as one */
#define BUDP_CAN_PKTINFO    0x04u /* destination addresses, source on send */
#define BUDP_CAN_ECN        0x08u /* ECN codepoints both ways */
#define BUDP_CAN_TIMESTAMPS 0x10u /* receive timestamps (time_ns) */
#define BUDP_CAN_PACING     0x20u /* earliest departure times (time_ns) */
#define BUDP_CAN_ERRORS     0x40u /* an error queue (recv_errors) */
#define BUDP_CAN_ZEROCOPY   0x80u /* zero-copy sends of GSO trains */
/* Not a capability but a fact the stats need: recv makes one system call
 * per datagram, so rx_syscalls counts datagrams, not batches. */
#define BUDP_CALL_PER_DATAGRAM 0x100u

/* What a backend's probe found. */
enum budp_probe_verdict {
    BUDP_PROBE_ABSENT,     /* cannot run here: its calls are missing */
    BUDP_PROBE_ASKED_ONLY, /* runs, but AUTO passes it over (a known bug
                              of this system's release): taken only when
                              BUDP_OPT_BACKEND names it */
    BUDP_PROBE_READY       /* AUTO may take it */
};

/* Room for budp_backend_reason's sentence, and for a probe's phrase. */
#define BUDP_REASON_BYTES 192

/* What a socket asks of its backend at open. */
struct budp_backend_config {
    int      fd;            /* a UDP socket, checked */
    int      family;        /* BUDP_AF_INET or BUDP_AF_INET6 */
    int      restore_fd;    /* the fd is the caller's: give its options
                               back at release */
    unsigned batch_size;
    uint32_t max_datagram;
    int64_t  recv_buffer;   /* SO_RCVBUF bytes, 0: leave */
    int      gro;           /* the options ask for these (0/1) */
    int      gso;
    int      pktinfo;
    int      ecn;
    int      timestamps;
    int      pacing;        /* BUDP_PACING_* */
    int      errors;
    int      zerocopy;      /* BUDP_OPT_ZEROCOPY */
    int      threaded;      /* a receiver thread of the library's makes
                               every recv and wait call */
};

/* 1 when a receive under cfg may carry control messages: an option that
 * asks for one is on (GRO's is the backend's to add, when it is on). */
static inline int budp_config_wants_control(const struct budp_backend_config *cfg)
{
    return cfg->pktinfo || cfg->ecn || cfg->timestamps;
}

/* What the backend turned on, for the socket to size its slots. */
struct budp_backend_facts {
    int gro;             /* receives may hold coalesced datagrams */
    uint32_t rx_headroom;/* bytes each slot buffer needs before its data
                            (a multiple of 64): a backend whose kernel
                            writes a header ahead of the payload, in the
                            same buffer.  0 for most */
};

/* What a send needs to know beyond the datagrams. */
struct budp_tx_params {
    int family;        /* the socket's: BUDP_AF_INET or BUDP_AF_INET6 */
    int ecn;           /* BUDP_OPT_ECN: set d->ecn on the packet */
    int pacing;        /* BUDP_OPT_PACING on: d->time_ns, when not 0, is
                          the packet's departure time */
    int connected;     /* connected: peer is the connected peer (an IPv4
                          one on an IPv6 socket through its mapped
                          address) */
    budp_addr peer;
};

struct budp_tx_report {
    unsigned syscalls;      /* send system calls that sent something */
    unsigned coalesced;     /* GSO sends made */
    unsigned gso_fallbacks; /* times GSO was turned off */
    unsigned anomalies;     /* counts above what was given, ignored */
    unsigned hidden_errors; /* errors that hid how many of a batch went */
    unsigned unconfirmed;   /* datagrams of those batches, counted sent */
    uint64_t bytes;         /* payload bytes of the datagrams sent */
};

/* What wait watches besides the wake-up (budp_backend.wait). */
#define BUDP_WAIT_SOCKET 0x1u  /* return once the socket has data */
#define BUDP_WAIT_TAKE   0x2u  /* a wake-up that ends the wait is used up
                                  (the receiver thread's, woken again and
                                  again); without it a wake-up stays, so
                                  that a shutdown wakes every waiter */

struct budp_backend {
    const char *name;   /* budp_backend_name() */
    int         id;     /* BUDP_BACKEND_* */
    unsigned    caps;   /* BUDP_CAN_*, BUDP_CALL_PER_DATAGRAM */

    /* Whether the backend can run on this system (its calls present, its
     * release free of known bugs): a budp_probe_verdict, with a short
     * phrase saying what was found written to why (size bytes), for
     * budp_backend_reason: "recvmmsg/sendmmsg", "recvmsg_x avoided below
     * macOS 15.6 (this is macOS 15.5)".  A negative errno is ABSENT with
     * the error a request by name gets (-EPERM: the system forbids it);
     * ABSENT alone gives -ENOTSUP. */
    int (*probe)(char *why, size_t size);

    /* Per-socket state for cfg: scratch sized for the batch, the socket
     * options cfg asks for that the backend implements (the others off or
     * left), the wake-up for wait.  *facts receives what is on.  Returns 0
     * or an error, having changed nothing then (the fd's options as they
     * were). */
    int (*open)(const struct budp_backend_config *cfg, void **state,
                struct budp_backend_facts *facts);

    /* Receive up to n datagrams into slots[0..n) without blocking.  Returns
     * the slots filled (0: nothing queued) or an error.  EINTR is retried
     * inside.  Each slot filled as budp_rx_slot says, and added to *sum
     * (zeroed by the caller).  A backend with rx_headroom may give a slot
     * another buffer of the same size (its data pointer changes): the
     * buffers are swapped between slots and the backend, never copied,
     * and every one stays valid until close. */
    int (*recv)(void *state, budp_rx_slot *slots, unsigned n,
                const struct budp_rx_params *p, struct budp_rx_summary *sum);

    /* Send up to n datagrams without blocking.  Each is checked as it is
     * prepared, with budp_datagram_sendable (datagram_check.h) and its
     * addresses' conversion, and the send stops before the first that
     * fails.  Returns how many were sent, or an error when the first one
     * failed (-EINVAL when it was refused as malformed); *rep counts what
     * it did. */
    int (*send)(void *state, const budp_datagram *d, unsigned n,
                const struct budp_tx_params *p, struct budp_tx_report *rep);

    /* Read up to n events from the socket's error queue without blocking
     * (BUDP_OPT_ERRORS).  Returns how many (0: none) or an error.  Any
     * thread.  NULL for a backend without BUDP_CAN_ERRORS. */
    int (*recv_errors)(void *state, budp_error_event *ev, unsigned n);

    /* The fd readable when recv has something (budp_poll_fd, inline). */
    int (*poll_fd)(void *state);

    /* Sleep until the socket has data (with BUDP_WAIT_SOCKET), wake is
     * called, or timeout_ms passes (-1: forever).  Returns > 0 when woken
     * or readable (spuriously too), 0 at the timeout, or an error. */
    int (*wait)(void *state, unsigned what, int timeout_ms);

    /* End a wait in progress, or the next one.  Any thread.  0, or an
     * error when the wake-up could not be recorded (the caller tries
     * again: see receiver_state.h). */
    int (*wake)(void *state);

    /* The socket is shut down: take nothing more from the kernel, so that
     * what arrives from now on stays queued on the socket.  Any thread,
     * while recv may run (which then stops too).  NULL for a backend that
     * takes datagrams only inside recv. */
    void (*stop_receiving)(void *state);

    /* Give back what the socket holds of the system, except the socket
     * itself: a wrapped fd's options, the wake-up's fds.  Once, after which
     * only held and close are called.  Afterwards the kernel writes into
     * no slot buffer. */
    void (*release)(void *state);

    /* After release: datagrams the backend took from the socket that recv
     * never returned (each GRO segment counted), which closing a group's
     * member reports as dropped.  NULL for a backend that keeps none. */
    uint64_t (*held)(void *state);

    /* Free the state, and the buffers it gave slots. */
    void (*close)(void *state);
};

/* The backend for id (BUDP_BACKEND_AUTO picks the best one available), or
 * NULL with *err set: -ENOTSUP when the named backend is absent here.
 * reason (size bytes) receives why it was chosen, as budp_backend_reason
 * tells it: "mmsg: recvmmsg/sendmmsg", "loop: recvmsg_x avoided below
 * macOS 15.6 (this is macOS 15.5)", "msgx: asked for (...)". */
const struct budp_backend *budp_backend_select(int id, int *err, char *reason,
                                               size_t size);

/* budp_backend_select over list[0..count), in order of preference: the
 * choice itself, apart from which backends this build has. */
const struct budp_backend *budp_backend_choose(const struct budp_backend *const *list,
                                               size_t count, int id, int *err,
                                               char *reason, size_t size);

/* The largest BUDP_BACKEND_* id this build knows (BUDP_OPT_BACKEND's
 * bound). */
int budp_backend_id_max(void);

/* How many receive system calls returned the n slots b filled. */
unsigned budp_backend_rx_calls(const struct budp_backend *b, int n);

#endif
