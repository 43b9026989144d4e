/* posix_txbatch.h - a batch of send messages built from datagrams (GSO runs
 * joined into one message each), and the send loop around a backend's
 * batch call, with its GSO fallbacks: what the sendmmsg and io_uring
 * backends share. */
#ifndef BUDP_POSIX_TXBATCH_H
#define BUDP_POSIX_TXBATCH_H

#include <sys/socket.h>

#include "backend.h"
#include "posix_msg.h"

struct budp_tx_batch {
    unsigned batch;                /* messages per call */
    int gso_on;                    /* read and cleared under the send lock */
    unsigned iov_capacity;         /* datagrams one call can carry */
    uint32_t gso_segment_limit;    /* larger segments are sent one by one:
                                      the path MTU refused them */
    struct mmsghdr *msgs;
    struct budp_tx_scratch *scratch;
    struct iovec *iov;
    unsigned *count;               /* datagrams carried by each message */
    uint64_t *bytes;               /* payload bytes of each message */
    int single_bound;              /* msgs[k] carries iov[k] alone */
};

/* Scratch for batch messages; GSO runs when gso is on and the kernel of fd
 * knows UDP_SEGMENT.  0 or -ENOMEM (nothing left allocated). */
int  budp_tx_batch_open(struct budp_tx_batch *b, int fd, unsigned batch, int gso);
void budp_tx_batch_close(struct budp_tx_batch *b);

/* A backend's batch call: send msgs[0..n) in order without blocking.
 * Returns how many went (the first ones), or a negative errno when the
 * first failed. */
typedef int (*budp_tx_submit_fn)(void *ctx, struct mmsghdr *msgs, unsigned n);

/* Send d[0..n) through submit, as budp_backend.send says: messages built
 * a batch at a time; a GSO send the kernel refuses (EIO, EINVAL) tried
 * again without GSO, which stays off when that goes; segments refused for
 * their size (EMSGSIZE) sent one by one from then on. */
int budp_tx_batch_send(struct budp_tx_batch *b, budp_tx_submit_fn submit, void *ctx,
                       const budp_datagram *d, unsigned n,
                       const struct budp_tx_params *p, struct budp_tx_report *rep);

#endif
