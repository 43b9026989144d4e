/* backend_uring.h - what the io_uring backend's three files share: its
 * state, and the receiving and sending halves' entries (backend_uring.c has
 * the table, opening and closing, waiting).  Included only where
 * BUDP_WITH_URING is defined on Linux. */
#ifndef BUDP_BACKEND_URING_H
#define BUDP_BACKEND_URING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <liburing.h>

#include "backend.h"
#include "posix_base.h"
#include "posix_msg.h"
#include "posix_txbatch.h"

/* Room for a source address in each buffer: any sockaddr_in6 (28 bytes),
 * rounded to 8 so that the control messages after it stay aligned. */
#define URING_NAME_BYTES 32u
/* The buffer group of the receive buffers (one per ring). */
#define URING_BUFFER_GROUP 0
/* user_data of the multishot receive and of its cancellation. */
#define URING_TAG_RECV   1u
#define URING_TAG_CANCEL 2u
/* A zero-copy send pins each page of its payload as one fragment of a
 * socket buffer, which holds MAX_SKB_FRAGS (17): on Linux 6.18 a train over
 * 16 pages is refused with EMSGSIZE (measured), which the GSO fallback
 * would take for the path MTU.  Larger trains are copied, and a kernel
 * that refuses fewer pages teaches the socket its limit. */
#define URING_ZEROCOPY_FRAGS_MAX 16u
/* The most memory the backend's own receive buffers take: past it, fewer
 * buffers than a batch (the socket's queue holds the rest meanwhile). */
#define URING_POOL_BYTES_MAX (4u * 1024u * 1024u)

struct budp_uring {
    struct budp_posix_base base;   /* first: the shared entries take it */
    int efd;                       /* eventfd: a completion was posted */

    /* Receiving: the receiving thread's, and release's. */
    struct io_uring rx;
    int rx_ready;                  /* rx was set up (io_uring_queue_exit) */
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    int br_registered;
    unsigned entries;              /* buffers, a power of two */
    uint8_t **data_of;             /* buffer id -> its data (header before) */
    budp_rx_slot *pool_slots;      /* the backend's own buffers */
    uint8_t *pool_memory;
    uint32_t header;               /* bytes the kernel writes before data */
    uint32_t buf_len;              /* header + capacity */
    struct msghdr layout;          /* the name and control room asked for */
    struct budp_rx_params params;  /* for held: no socket's at release */
    int armed;                     /* the multishot receive is running */
    int moved;                     /* recv has run once: the receive was
                                      moved to the receiving thread */
    pthread_t armed_by;            /* the thread that started it */
    atomic_int stopped;            /* shut down: never started again */
    int stashed_error;             /* met after slots were filled: next */
    uint64_t held;                 /* counted at release */

    /* Sending: under the socket's send lock. */
    struct io_uring tx;
    int tx_ready;
    struct budp_tx_batch batch;
    int zerocopy;
    uintptr_t page;                /* the page size, for zerocopy_fits */
    unsigned zc_frags_max;         /* pages a zero-copy train may touch */
};

/* The smallest power of two at least v. */
unsigned budp_uring_pow2(unsigned v);

/* Bytes the kernel writes into a buffer ahead of the payload under cfg:
 * the io_uring_recvmsg_out header, the source address's room and the
 * control messages' (none when no option asks for one). */
static inline uint32_t budp_uring_header_bytes(const struct budp_backend_config *cfg,
                                               const struct budp_backend_facts *facts)
{
    size_t control = budp_msg_control_room(budp_config_wants_control(cfg) || facts->gro);

    return (uint32_t)(sizeof(struct io_uring_recvmsg_out) + URING_NAME_BYTES + control);
}

/* Receiving (backend_uring_rx.c).  The receive ring with a batch of
 * buffers registered, the eventfd its completions signal, and the
 * multishot receive started: 0 or an error, with what was made left for
 * budp_uring_rx_stop and the close. */
int  budp_uring_rx_open(struct budp_uring *st, const struct budp_backend_config *cfg,
                        const struct budp_backend_facts *facts);
int  budp_uring_recv(void *state, budp_rx_slot *slots, unsigned n,
                     const struct budp_rx_params *p, struct budp_rx_summary *sum);
/* budp_backend.stop_receiving. */
void budp_uring_stop_receiving(void *state);
/* Cancel the receive, wait for its last completion, count what was never
 * read in held, and unregister the buffers and the eventfd. */
void budp_uring_rx_stop(struct budp_uring *st);

/* Sending (backend_uring_tx.c).  The send ring and the batch scratch; the
 * zero-copy probe when cfg asks for it (-ENOTSUP without). */
int  budp_uring_tx_open(struct budp_uring *st, const struct budp_backend_config *cfg);
int  budp_uring_send(void *state, const budp_datagram *d, unsigned n,
                     const struct budp_tx_params *p, struct budp_tx_report *rep);

#endif
