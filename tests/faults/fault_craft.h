/* fault_craft.h - crafted receive results (fault_craft.c). */
#ifndef BUDP_FAULT_CRAFT_H
#define BUDP_FAULT_CRAFT_H

#include <stddef.h>
#include <sys/socket.h>

#include "fault_shim.h"

/* The room the caller gave one message, read before the real call. */
struct fault_room {
    size_t data;    /* bytes of its first iovec */
    size_t name;    /* msg_namelen */
    size_t control; /* msg_controllen */
};

/* One UDP_GRO message of segment size seg as mh's only control message. */
void fault_put_gro_segment(struct msghdr *mh, size_t space, int seg);
/* A level/type message cut short as Linux cuts one when control space
 * runs out: cmsg_len is CMSG_LEN(kept) and it ends where the control
 * buffer ends; msg_flags gets MSG_CTRUNC. */
void fault_put_short_cmsg(struct msghdr *mh, size_t space, int level, int type,
                          size_t kept);

/* Rewrite one received message (len bytes) as f->craft asks; returns the
 * length to report.  CRAFT_COUNT_EXTRA is the caller's to apply. */
size_t fault_craft_message(struct msghdr *mh, size_t len,
                           const struct fault_room *room,
                           const struct fault_spec *f);

#endif
