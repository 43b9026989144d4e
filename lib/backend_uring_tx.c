/* backend_uring_tx.c - the io_uring backend's sending half: each batch
 * of messages (posix_txbatch.c builds them, GSO trains joined) goes as one
 * chain of linked sendmsg requests, one io_uring_enter, and GSO trains
 * optionally without a copy (IORING_OP_SENDMSG_ZC).  The send ring is used
 * under the socket's send lock. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where liburing was found. */
#if defined(BUDP_WITH_URING) && defined(__linux__)

#include <errno.h>
#include <unistd.h>

#include "backend_uring.h"
#include "sys.h"

int budp_uring_tx_open(struct budp_uring *st, const struct budp_backend_config *cfg)
{
    /* SUBMIT_ALL: a request refused as it is read does not stop the
     * ones after it from going in (they fail through the link, with a
     * completion each, so every request is accounted for). */
    int rc = io_uring_queue_init(budp_uring_pow2(cfg->batch_size), &st->tx,
                                 IORING_SETUP_SUBMIT_ALL);

    if (rc < 0)
        return rc;
    st->tx_ready = 1;
    if (cfg->zerocopy) {
        struct io_uring_probe *p = io_uring_get_probe_ring(&st->tx);
        int have = p != NULL && io_uring_opcode_supported(p, IORING_OP_SENDMSG_ZC);

        if (p != NULL)
            io_uring_free_probe(p);
        if (!have)
            return -ENOTSUP;
        st->zerocopy = 1;
        st->page = (uintptr_t)sysconf(_SC_PAGESIZE);
        st->zc_frags_max = URING_ZEROCOPY_FRAGS_MAX;
    }
    return budp_tx_batch_open(&st->batch, cfg->fd, cfg->batch_size, cfg->gso);
}

/* The pages a zero-copy send of mh's payload pins, each one fragment (a
 * buffer that goes on where the one before it ended, inside a page, shares
 * that page's), counted up to limit + 1; *bytes receives the payload's
 * length. */
static unsigned train_pages(const struct msghdr *mh, uintptr_t page, unsigned limit,
                            uint64_t *bytes)
{
    uintptr_t end = 0;
    unsigned frags = 0;

    *bytes = 0;
    for (size_t i = 0; i < (size_t)mh->msg_iovlen && frags <= limit; i++) {
        uintptr_t start = (uintptr_t)mh->msg_iov[i].iov_base;
        size_t len = mh->msg_iov[i].iov_len;

        if (len == 0)
            continue;
        frags += (unsigned)((start + len - 1) / page - start / page + 1);
        if (start == end && start % page != 0)
            frags--;
        end = start + len;
        *bytes += len;
    }
    return frags;
}

/* 1 when mh is a GSO train worth sending without a copy: at least
 * BUDP_ZEROCOPY_MIN_BYTES, in few enough pages. */
static int zerocopy_fits(const struct budp_uring *st, const struct msghdr *mh)
{
    uint64_t bytes;

    return mh->msg_iovlen > 1 &&
           train_pages(mh, st->page, st->zc_frags_max, &bytes) <= st->zc_frags_max &&
           bytes >= BUDP_ZEROCOPY_MIN_BYTES;
}

/* One linked sendmsg request per message, so that they go in order and
 * the first failure stops the rest; one io_uring_enter.  It returns once
 * every request has completed and every zero-copy buffer has been let go,
 * so the caller's memory is free again: how many went (the first ones:
 * the failure, if any, is msgs[went]), the first failure's error in
 * *error (0: none). */
static unsigned submit_chain(struct budp_uring *st, struct mmsghdr *msgs, unsigned n,
                             int *error)
{
    unsigned results = 0, notices = 0, went = 0;
    int rc;

    *error = 0;
    for (unsigned k = 0; k < n; k++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&st->tx);
        struct msghdr *mh = &msgs[k].msg_hdr;

        if (sqe == NULL) {
            *error = -EBUSY;   /* not seen: the ring holds a batch */
            return 0;
        }
        if (st->zerocopy && zerocopy_fits(st, mh))
            io_uring_prep_sendmsg_zc(sqe, st->base.fd, mh, MSG_DONTWAIT);
        else
            io_uring_prep_sendmsg(sqe, st->base.fd, mh, MSG_DONTWAIT);
        io_uring_sqe_set_data64(sqe, k);
        if (k + 1 < n)
            sqe->flags |= IOSQE_IO_LINK;
    }
    /* Every request goes in before any result is read: one left in the
     * queue would go out with the next batch, pointing at this one's
     * buffers.  The kernel short of memory (EAGAIN), or of room for
     * completions (EBUSY), is waited out. */
    for (unsigned submitted = 0; submitted < n;) {
        rc = io_uring_submit_and_wait(&st->tx, n - submitted);
        if (rc > 0)
            submitted += (unsigned)rc;
        else if (rc == -EAGAIN || rc == -EBUSY)
            budp_sys_sleep_us(50);
        else if (rc != -EINTR && rc != 0) {
            *error = rc;   /* not seen: the ring and its requests are sound */
            return 0;
        }
    }
    while (results < n || notices > 0) {
        struct io_uring_cqe *cqe;

        rc = io_uring_wait_cqe(&st->tx, &cqe);
        if (rc == -EINTR)
            continue;
        if (rc < 0) {
            *error = rc;   /* not seen: waiting on a live ring */
            return went;
        }
        if (cqe->flags & IORING_CQE_F_NOTIF) {
            notices--;
        } else {
            results++;
            if (cqe->flags & IORING_CQE_F_MORE)
                notices++;
            if (cqe->res < 0 && *error == 0)
                *error = cqe->res;
            else if (*error == 0)
                went++;
        }
        io_uring_cqe_seen(&st->tx, cqe);
    }
    return went;
}

/* The batch call.  A zero-copy train the kernel refuses for its size
 * (EMSGSIZE: more pages than this kernel takes) teaches the socket the
 * limit, and goes again, with the rest, copied. */
static int submit_linked(void *ctx, struct mmsghdr *msgs, unsigned n)
{
    struct budp_uring *st = ctx;
    unsigned done = 0;

    for (;;) {
        unsigned went;
        int error;

        went = submit_chain(st, msgs + done, n - done, &error);
        done += went;
        if (error == -EMSGSIZE && st->zerocopy &&
            zerocopy_fits(st, &msgs[done].msg_hdr)) {
            uint64_t bytes;
            unsigned pages = train_pages(&msgs[done].msg_hdr, st->page,
                                         st->zc_frags_max, &bytes);

            st->zc_frags_max = pages > 1 ? pages - 1 : 1;
            continue;
        }
        if (error == 0 || done > 0)
            return (int)done;
        return error;
    }
}

int budp_uring_send(void *state, const budp_datagram *d, unsigned n,
                    const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct budp_uring *st = state;

    return budp_tx_batch_send(&st->batch, submit_linked, st, d, n, p, rep);
}

#endif /* BUDP_WITH_URING && __linux__ */
