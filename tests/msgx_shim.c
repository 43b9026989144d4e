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
    pthread_mutex_unlock(&lock);
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

ssize_t recvmsg_x(int s, const struct msghdr_x *msgp, unsigned int cnt, int flags)
{
    struct msghdr_x *msgs = (struct msghdr_x *)msgp;
    unsigned limit, got = 0;
    int injected, silent;

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
    pthread_mutex_unlock(&lock);
    if (injected) {
        errno = injected;
        return -1;
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

ssize_t sendmsg_x(int s, const struct msghdr_x *msgp, unsigned int cnt, int flags)
{
    unsigned limit, sent = 0;
    int injected;

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
    limit = cap_send != 0 && cap_send < cnt ? cap_send : cnt;
    pthread_mutex_unlock(&lock);
    if (injected) {
        errno = injected;
        return -1;
    }

    while (sent < limit) {
        struct msghdr mh;
        ssize_t n;

        memset(&mh, 0, sizeof mh);
        mh.msg_iov = msgp[sent].msg_iov;
        mh.msg_iovlen = (size_t)msgp[sent].msg_iovlen;
        n = sendmsg(s, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (sent == 0)
                return -1;
            break;
        }
        sent++;
    }
    pthread_mutex_lock(&lock);
    stats.send_messages += sent;
    pthread_mutex_unlock(&lock);
    return (ssize_t)sent;
}
