/* msgx.h - Apple's private batch calls, declared here because no public
 * header does.  Layout as XNU's bsd/sys/socket_private.h: 56 bytes on
 * 64-bit, msg_datalen holding the bytes received. */
#ifndef BUDP_MSGX_H
#define BUDP_MSGX_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct msghdr_x {
    void         *msg_name;
    socklen_t     msg_namelen;
    struct iovec *msg_iov;
    int           msg_iovlen;
    void         *msg_control;
    socklen_t     msg_controllen;
    int           msg_flags;
    size_t        msg_datalen;
};

typedef ssize_t (*budp_recvmsg_x_fn)(int s, const struct msghdr_x *msgp,
                                     unsigned cnt, int flags);
typedef ssize_t (*budp_sendmsg_x_fn)(int s, const struct msghdr_x *msgp,
                                     unsigned cnt, int flags);

/* XNU refuses more than this many messages in one call. */
#define BUDP_MSGX_MAX_BATCH 256

#endif
