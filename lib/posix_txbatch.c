/* posix_txbatch.c - send messages built a batch at a time from datagrams,
 * GSO runs joined, and the send loop with its GSO fallbacks. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where the batch calls exist. */
#ifdef HAVE_RECVMMSG

#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "gso.h"
#include "posix_txbatch.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* 1 when the kernel knows UDP_SEGMENT. */
static int probe_gso(int fd)
{
#ifdef UDP_SEGMENT
    int size = 0;
    socklen_t len = sizeof size;
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) == 0;
#else
    (void)fd;
    return 0;
#endif
}

int budp_tx_batch_open(struct budp_tx_batch *b, int fd, unsigned batch, int gso)
{
    b->batch = batch;
    b->gso_on = gso && probe_gso(fd);
    b->gso_segment_limit = UINT32_MAX;
    b->single_bound = 0;
    /* The batch size counts messages; with GSO each carries up to 64
     * datagrams, one iovec each. */
    b->iov_capacity = b->gso_on ? batch * BUDP_GSO_MAX_SEGMENTS : batch;
    b->msgs = calloc(batch, sizeof *b->msgs);
    b->scratch = calloc(batch, sizeof *b->scratch);
    b->iov = calloc(b->iov_capacity, sizeof *b->iov);
    b->count = calloc(batch, sizeof *b->count);
    if (!b->msgs || !b->scratch || !b->iov || !b->count) {
        budp_tx_batch_close(b);
        return -ENOMEM;
    }
    return 0;
}

void budp_tx_batch_close(struct budp_tx_batch *b)
{
    free(b->msgs);
    free(b->scratch);
    free(b->iov);
    free(b->count);
    b->msgs = NULL;
    b->scratch = NULL;
    b->iov = NULL;
    b->count = NULL;
}

/* build_entries without GSO: one entry per datagram.  Each entry's iovec
 * is tx_iov[k], set once while entries stay one to one.  *bytes receives
 * the payload bytes of the entries. */
static unsigned build_single_entries(struct budp_tx_batch *b, const budp_datagram *d,
                                     unsigned n, const struct budp_tx_params *p,
                                     uint64_t *bytes)
{
    unsigned k, count = n < b->batch ? n : b->batch;
    uint64_t sum = 0;

    if (!b->single_bound) {
        for (k = 0; k < b->batch; k++) {
            b->msgs[k].msg_hdr.msg_iov = &b->iov[k];
            b->msgs[k].msg_hdr.msg_iovlen = 1;
            b->msgs[k].msg_hdr.msg_flags = 0;
        }
        b->single_bound = 1;
    }
    {
        /* Locals: the stores into the messages would otherwise make the
         * compiler load the arrays' addresses again for every datagram. */
        struct mmsghdr *msgs = b->msgs;
        struct budp_tx_scratch *scratch = b->scratch;
        struct iovec *iov = b->iov;
        int family = p->family, ecn_on = p->ecn;
        const budp_addr *connected = budp_msg_connected_peer(p);
        struct budp_msg_last_name last = { NULL, NULL, 0 };

        for (k = 0; k < count; k++) {
            struct msghdr *mh = &msgs[k].msg_hdr;
            int rc;

            iov[k].iov_base = (void *)d[k].data;
            iov[k].iov_len = d[k].len;
            rc = budp_msg_prep_send_plain(mh, &scratch[k], &d[k], family, ecn_on,
                                          connected, &last);
            if (rc > 0)
                rc = budp_msg_prep_send_full(mh, &scratch[k], &iov[k], 1, &d[k], p, 0);
            if (rc < 0)
                break;
            sum += d[k].len;
        }
    }
    b->count[0] = 1;
    *bytes = sum;
    return k;
}

/* Fill the send entries for d[0..n): returns the number of entries (at most
 * the batch size), in *used the datagrams they carry and in *bytes their
 * payload bytes. */
static unsigned build_entries(struct budp_tx_batch *b, const budp_datagram *d,
                              unsigned n, const struct budp_tx_params *p,
                              unsigned *used, uint64_t *bytes)
{
    unsigned entries = 0, dgrams = 0;
    uint64_t sum = 0;

    if (!b->gso_on) {
        *used = build_single_entries(b, d, n, p, bytes);
        return *used;
    }
    b->single_bound = 0;   /* runs point entries anywhere in tx_iov */
    while (dgrams < n && entries < b->batch && dgrams < b->iov_capacity) {
        unsigned room = b->iov_capacity - dgrams;
        unsigned limit = room < BUDP_GSO_MAX_SEGMENTS ? room : BUDP_GSO_MAX_SEGMENTS;
        unsigned run = b->gso_on && d[dgrams].len <= b->gso_segment_limit
                           ? budp_gso_run(&d[dgrams], n - dgrams, limit, p->pacing) : 1;

        for (unsigned k = 0; k < run; k++) {
            b->iov[dgrams + k].iov_base = (void *)d[dgrams + k].data;
            b->iov[dgrams + k].iov_len = d[dgrams + k].len;
        }
        if (budp_msg_prep_send(&b->msgs[entries].msg_hdr,
                               &b->scratch[entries], &b->iov[dgrams],
                               run, &d[dgrams], p,
                               run > 1 ? (uint16_t)d[dgrams].len : 0) < 0)
            break;
        b->count[entries++] = run;
        for (unsigned k = 0; k < run; k++)
            sum += d[dgrams + k].len;
        dgrams += run;
    }
    *used = dgrams;
    *bytes = sum;
    return entries;
}

int budp_tx_batch_send(struct budp_tx_batch *b, budp_tx_submit_fn submit, void *ctx,
                       const budp_datagram *d, unsigned n,
                       const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    unsigned sent = 0;

    /* Set while the datagrams a GSO send was refused for go again without
     * GSO: only if they then go is GSO the cause, and turned off. */
    int testing_gso = 0;

    while (sent < n) {
        unsigned used, before = sent;
        uint64_t bytes;
        unsigned entries = build_entries(b, &d[sent], n - sent, p, &used, &bytes);
        int rc;

        if (entries == 0)
            return sent > 0 ? (int)sent : -EINVAL;
        rc = submit(ctx, b->msgs, entries);
        if (rc < 0) {
            int err = -rc;
            if (err == EINTR)
                continue;
            if (testing_gso) {
                /* Refused without GSO too: the datagram, not GSO. */
                b->gso_on = 1;
                return sent > 0 ? (int)sent : -err;
            }
            /* A kernel or device that may refuse segmentation: try the same
             * datagrams without it. */
            if (b->count[0] > 1 && (err == EIO || err == EINVAL)) {
                b->gso_on = 0;
                testing_gso = 1;
                continue;
            }
            /* Segments larger than the path MTU: only datagrams that large
             * go one by one (and get fragmented), smaller runs keep GSO. */
            if (b->count[0] > 1 && err == EMSGSIZE) {
                b->gso_segment_limit = d[sent].len - 1;
                rep->gso_fallbacks++;
                continue;
            }
            return sent > 0 ? (int)sent : -err;
        }
        if (testing_gso) {
            rep->gso_fallbacks++;
            testing_gso = 0;
        }
        if ((unsigned)rc > entries) {
            rep->anomalies++;
            rc = (int)entries;
        }
        rep->syscalls++;
        if (used == entries) {
            sent += (unsigned)rc;   /* one datagram per entry */
        } else {
            for (int i = 0; i < rc; i++) {
                sent += b->count[i];
                if (b->count[i] > 1)
                    rep->coalesced++;
            }
        }
        if ((unsigned)rc == entries) {
            rep->bytes += bytes;
        } else {
            for (unsigned i = before; i < sent; i++)
                rep->bytes += d[i].len;
        }
        if ((unsigned)rc < entries)
            break;
    }
    return (int)sent;
}

#endif /* HAVE_RECVMMSG */
