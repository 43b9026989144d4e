/* fault_craft.c - results no healthy kernel gives, written over what a
 * receive really returned (fault_shim.h, enum fault_craft). */
#define _GNU_SOURCE
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "fault_craft.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

void fault_put_gro_segment(struct msghdr *mh, size_t space, int seg)
{
    struct cmsghdr *c = (struct cmsghdr *)mh->msg_control;

    if (c == NULL || space < CMSG_SPACE(sizeof seg))
        return;
    memset(c, 0, CMSG_SPACE(sizeof seg));
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_GRO;
    c->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
    mh->msg_controllen = CMSG_SPACE(sizeof seg);
}

/* A filler message the library does not know, then the short one, which
 * ends where the buffer ends (as Linux leaves a message it cut short). */
void fault_put_short_cmsg(struct msghdr *mh, size_t space, int level, int type,
                          size_t kept)
{
    unsigned char *base = mh->msg_control;
    size_t at;
    struct cmsghdr *c;

    if (base == NULL || space < CMSG_LEN(kept) + sizeof(struct cmsghdr))
        return;
    at = (space - CMSG_LEN(kept)) & ~(size_t)(sizeof(size_t) - 1);
    /* Bytes past the kept ones hold a pattern a parser that reads them
     * would pass on as an address or a segment size. */
    memset(base, 0x5a, space);
    if (at >= sizeof(struct cmsghdr)) {
        c = (struct cmsghdr *)base;
        c->cmsg_level = 0x7ffe;
        c->cmsg_type = 0;
        c->cmsg_len = at;
    }
    c = (struct cmsghdr *)(base + at);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = space - at;
    mh->msg_controllen = space;
    mh->msg_flags |= MSG_CTRUNC;
}

size_t fault_craft_message(struct msghdr *mh, size_t len,
                           const struct fault_room *room,
                           const struct fault_spec *f)
{
    switch (f->craft) {
    case CRAFT_LEN_PAST_BUFFER:
        return room->data + (f->value > 0 ? (size_t)f->value : 1);
    case CRAFT_TRUNC_FLAG:
        mh->msg_flags |= MSG_TRUNC;
        break;
    case CRAFT_HIDE_TRUNC:
        mh->msg_flags &= ~MSG_TRUNC;
        break;
    case CRAFT_BAD_FAMILY:
        if (mh->msg_name != NULL && room->name >= sizeof(struct sockaddr))
            ((struct sockaddr *)mh->msg_name)->sa_family =
                (sa_family_t)(f->value != 0 ? f->value : 0x7f7f);
        break;
    case CRAFT_NAME_TOO_LONG:
        mh->msg_namelen = (socklen_t)(room->name + 64);
        break;
    case CRAFT_GRO_SEGMENT:
        fault_put_gro_segment(mh, room->control, f->value);
        break;
    case CRAFT_SHORT_CMSG:
        fault_put_short_cmsg(mh, room->control, SOL_UDP, UDP_GRO, 2);
        break;
    default:
        break;
    }
    return len;
}
