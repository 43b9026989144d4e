/* msgx_shim.c - recvmsg_x/sendmsg_x emulated on Linux (see msgx_shim.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "msgx_shim.h"

/* The library may receive and send on two threads at once. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct msgx_shim_stats stats;
static int fail_recv, fail_send;
static unsigned cap_recv, cap_send;
static int silent_truncation = 1;
static int keep_controllen;
static int xnu_send_buffer;
static unsigned fail_after_count;
static int fail_after_err;
/* An error met after some messages of a call, reported by the next call on
 * that descriptor (recvmsg has already taken it off the socket). */
#define SHIM_MAX_FD 4096
static int pending_error[SHIM_MAX_FD];

void msgx_shim_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(&stats, 0, sizeof stats);
    fail_recv = fail_send = 0;
    cap_recv = cap_send = 0;
    memset(pending_error, 0, sizeof pending_error);
    silent_truncation = 1;
    keep_controllen = 0;
    xnu_send_buffer = 0;
    fail_after_err = 0;
    fail_after_count = 0;
    pthread_mutex_unlock(&lock);
    msgx_shim_sys_reset();
}

struct msgx_shim_stats msgx_shim_stats(void)
{
    struct msgx_shim_stats s;

    pthread_mutex_lock(&lock);
    s = stats;
    pthread_mutex_unlock(&lock);
    return s;
}

void msgx_shim_fail_next_recv(int err)
{
    pthread_mutex_lock(&lock);
    fail_recv = err;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_fail_next_send(int err)
{
    pthread_mutex_lock(&lock);
    fail_send = err;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_cap_recv(unsigned cap)
{
    pthread_mutex_lock(&lock);
    cap_recv = cap;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_cap_send(unsigned cap)
{
    pthread_mutex_lock(&lock);
    cap_send = cap;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_silent_truncation(int on)
{
    pthread_mutex_lock(&lock);
    silent_truncation = on;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_keep_controllen(int on)
{
    pthread_mutex_lock(&lock);
    keep_controllen = on;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_xnu_send_buffer(int on)
{
    pthread_mutex_lock(&lock);
    xnu_send_buffer = on;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_send_fail_after(unsigned sent, int err)
{
    pthread_mutex_lock(&lock);
    fail_after_count = sent;
    fail_after_err = err;
    pthread_mutex_unlock(&lock);
}

/* The bytes of a message's iovecs. */
static size_t iov_total(const struct msghdr *mh)
{
    size_t total = 0;

    for (size_t i = 0; i < mh->msg_iovlen; i++)
        total += mh->msg_iov[i].iov_len;
    return total;
}

/* 1 when the n bytes at p are all zero. */
static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

ssize_t recvmsg_x(int s, const struct msghdr_x *msgp, unsigned int cnt, int flags)
{
    struct msghdr_x *msgs = (struct msghdr_x *)msgp;
    unsigned limit, got = 0;
    int injected, silent, keep;

    pthread_mutex_lock(&lock);
    stats.recv_calls++;
    if (cnt > stats.recv_max_cnt)
        stats.recv_max_cnt = cnt;
    if ((flags & ~MSG_DONTWAIT) != 0 || cnt == 0 || cnt > MSGX_SHIM_MAX_CNT ||
        msgp == NULL) {
        stats.recv_einval++;
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    injected = fail_recv;
    fail_recv = 0;
    if (injected)
        stats.injected++;
    if (!injected && s >= 0 && s < SHIM_MAX_FD && pending_error[s] != 0) {
        injected = pending_error[s];
        pending_error[s] = 0;
    }
    limit = cap_recv != 0 && cap_recv < cnt ? cap_recv : cnt;
    silent = silent_truncation;
    keep = keep_controllen;
    pthread_mutex_unlock(&lock);
    if (injected) {
        errno = injected;
        return -1;
    }
    for (unsigned i = 0; i < cnt; i++)
        if (msgs[i].msg_control != NULL &&
            !all_zero(msgs[i].msg_control, msgs[i].msg_controllen)) {
            pthread_mutex_lock(&lock);
            stats.recv_control_dirty++;
            pthread_mutex_unlock(&lock);
            break;
        }

    while (got < limit) {
        struct msghdr_x *x = &msgs[got];
        struct msghdr mh;
        ssize_t n;

        memset(&mh, 0, sizeof mh);
        mh.msg_name = x->msg_name;
        mh.msg_namelen = x->msg_name != NULL ? x->msg_namelen : 0;
        mh.msg_iov = x->msg_iov;
        mh.msg_iovlen = (size_t)x->msg_iovlen;
        mh.msg_control = x->msg_control;
        mh.msg_controllen = x->msg_control != NULL ? x->msg_controllen : 0;
        /* XNU always works without blocking past the first message; the
         * caller asked for MSG_DONTWAIT anyway. */
        n = recvmsg(s, &mh, MSG_DONTWAIT);
        if (n < 0) {
            /* An error after some messages ends the batch; the caller
             * meets it on its next call. */
            int err = errno;
            if (got == 0)
                return -1;
            if (err != EAGAIN && err != EWOULDBLOCK && s >= 0 && s < SHIM_MAX_FD) {
                pthread_mutex_lock(&lock);
                pending_error[s] = err;
                pthread_mutex_unlock(&lock);
            }
            break;
        }
        x->msg_namelen = mh.msg_namelen;
        if (!keep)
            x->msg_controllen = (socklen_t)mh.msg_controllen;
        x->msg_flags = mh.msg_flags;
        x->msg_datalen = (size_t)n;
        got++;
        if (mh.msg_flags & MSG_TRUNC) {
            pthread_mutex_lock(&lock);
            stats.recv_truncated++;
            pthread_mutex_unlock(&lock);
            if (silent)
                x->msg_flags &= ~MSG_TRUNC;
            /* XNU ends the batch at a truncated datagram. */
            break;
        }
    }
    pthread_mutex_lock(&lock);
    stats.recv_messages += got;
    if (got > 0)
        stats.recv_with_data++;
    pthread_mutex_unlock(&lock);
    return (ssize_t)got;
}

/* Why XNU's socket layer refuses a datagram of len bytes on s, as an
 * errno value, or 0: above SO_SNDBUF, EMSGSIZE; within
 * MSGX_SHIM_SNDBUF_RESERVE bytes under it, EWOULDBLOCK at every try (the
 * send buffer never has that much room: FB23671230). */
static int refused_by_send_buffer(int s, size_t len)
{
    int sndbuf = 0;
    socklen_t sl = sizeof sndbuf;

    if (getsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
        return 0;
    if (len > (size_t)sndbuf)
        return EMSGSIZE;
    if ((size_t)sndbuf - len < MSGX_SHIM_SNDBUF_RESERVE)
        return EWOULDBLOCK;
    return 0;
}

/* The errors XNU's sendmsg_x swallows once some of a batch went,
 * returning the count instead. */
static int swallowed_after_some(int err)
{
    return err == EWOULDBLOCK || err == EAGAIN || err == ENOBUFS ||
           err == EMSGSIZE || err == EINTR;
}

ssize_t sendmsg_x(int s, const struct msghdr_x *msgp, unsigned int cnt, int flags)
{
    unsigned limit, sent = 0, fail_at = 0;
    int injected, fail_err, send_buffer;

    pthread_mutex_lock(&lock);
    stats.send_calls++;
    if (cnt > stats.send_max_cnt)
        stats.send_max_cnt = cnt;
    if ((flags & ~MSG_DONTWAIT) != 0 || cnt == 0 || cnt > MSGX_SHIM_MAX_CNT ||
        msgp == NULL) {
        stats.send_einval++;
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    for (unsigned i = 0; i < cnt; i++)
        if (msgp[i].msg_name != NULL || msgp[i].msg_control != NULL ||
            msgp[i].msg_datalen != 0) {
            stats.send_einval++;
            pthread_mutex_unlock(&lock);
            errno = EINVAL;
            return -1;
        }
    injected = fail_send;
    fail_send = 0;
    if (injected)
        stats.injected++;
    fail_err = fail_after_err;
    fail_at = fail_after_count;
    fail_after_err = 0;
    send_buffer = xnu_send_buffer;
    limit = cap_send != 0 && cap_send < cnt ? cap_send : cnt;
    pthread_mutex_unlock(&lock);
    if (injected) {
        errno = injected;
        return -1;
    }

    while (sent < limit) {
        struct msghdr mh;
        ssize_t n;
        int err = 0;

        memset(&mh, 0, sizeof mh);
        mh.msg_iov = msgp[sent].msg_iov;
        mh.msg_iovlen = (size_t)msgp[sent].msg_iovlen;
        if (fail_err != 0 && sent == fail_at)
            err = fail_err;
        else if (send_buffer)
            err = refused_by_send_buffer(s, iov_total(&mh));
        if (err == 0) {
            n = msgx_shim_real_sendmsg(s, &mh, MSG_DONTWAIT);
            if (n < 0)
                err = errno;
        }
        if (err != 0) {
            pthread_mutex_lock(&lock);
            stats.send_refused++;
            pthread_mutex_unlock(&lock);
            if (sent > 0 && swallowed_after_some(err))
                break;
            /* None sent, or an error XNU reports without the count of
             * those that went before it. */
            pthread_mutex_lock(&lock);
            stats.send_messages += sent;
            pthread_mutex_unlock(&lock);
            errno = err;
            return -1;
        }
        sent++;
    }
    pthread_mutex_lock(&lock);
    stats.send_messages += sent;
    pthread_mutex_unlock(&lock);
    return (ssize_t)sent;
}
