/* posix_cmsg.h - walking the control messages a kernel wrote, by the
 * library's own bounds: what the receive path and the error queue share. */
#ifndef BUDP_POSIX_CMSG_H
#define BUDP_POSIX_CMSG_H

#include <stddef.h>
#include <sys/socket.h>

/* The control message at offset off of mh's control data, or NULL when no
 * whole header lies there or its cmsg_len is shorter than a header.  The
 * walk is written here rather than with CMSG_NXTHDR: Apple's form of that
 * macro returns the same header again for a cmsg_len of 0, so a zeroed
 * header (what follows the messages in a buffer zeroed before a receive
 * whose kernel leaves msg_controllen as it was, macOS 10.15's recvmsg_x)
 * would loop forever. */
static inline struct cmsghdr *budp_cmsg_at(const struct msghdr *mh, size_t off)
{
    struct cmsghdr *c;

    if (mh->msg_controllen < off || mh->msg_controllen - off < sizeof *c)
        return NULL;
    c = (struct cmsghdr *)(void *)((char *)mh->msg_control + off);
    return c->cmsg_len >= CMSG_LEN(0) ? c : NULL;
}

/* The first control message of mh, or NULL. */
static inline struct cmsghdr *budp_cmsg_first(const struct msghdr *mh)
{
    return budp_cmsg_at(mh, 0);
}

/* The message after c (one budp_cmsg_first or _next gave), or NULL. */
static inline struct cmsghdr *budp_cmsg_next(const struct msghdr *mh,
                                             const struct cmsghdr *c)
{
    size_t off = (size_t)((const char *)c - (const char *)mh->msg_control);
    size_t step;

    /* A length past the buffer's end (cut by the kernel: MSG_CTRUNC) ends
     * the walk before the aligned size below could wrap around. */
    if (c->cmsg_len > mh->msg_controllen - off)
        return NULL;
    /* The aligned size of c, as CMSG_NXTHDR steps. */
    step = CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
    if (step > mh->msg_controllen - off)
        return NULL;
    return budp_cmsg_at(mh, off + step);
}

/* The bytes of c's value that may be read.  When control space runs out,
 * Linux cuts the last message short by lowering its cmsg_len; the BSDs
 * and Apple stop the bytes at the end of the buffer and leave cmsg_len as
 * it was (MSG_CTRUNC either way).  So what counts is cmsg_len and the
 * room left in the buffer, the smaller of the two: nothing past
 * msg_controllen is read. */
static inline size_t budp_cmsg_value_bytes(const struct msghdr *mh,
                                           const struct cmsghdr *c)
{
    size_t room = mh->msg_controllen -
                  (size_t)((const char *)c - (const char *)mh->msg_control);
    size_t len = c->cmsg_len < room ? c->cmsg_len : room;

    return len < CMSG_LEN(0) ? 0 : len - CMSG_LEN(0);
}

/* 1 when c carries at least len bytes of value: a partial value is never
 * used. */
static inline int budp_cmsg_holds(const struct msghdr *mh, const struct cmsghdr *c,
                                  size_t len)
{
    return budp_cmsg_value_bytes(mh, c) >= len;
}

#endif
