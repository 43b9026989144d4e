/* notify.h - a pollable wake-up fd: eventfd on Linux, a pipe elsewhere.
 * Signals coalesce: several signals before a drain read as one.  Part of
 * the platform layer (sys.h). */
#ifndef BUDP_NOTIFY_H
#define BUDP_NOTIFY_H

struct budp_notify {
    int read_fd;
    int write_fd; /* the same fd as read_fd for an eventfd */
};

int  budp_notify_open(struct budp_notify *n);
void budp_notify_close(struct budp_notify *n);
/* Make read_fd readable (no-op when it already is: a full pipe or counter
 * is readable).  Returns 0, or -errno when the write failed and read_fd may
 * not be readable: an eventfd write cannot fail so, a pipe's can, and the
 * caller then owes the wake-up and must try again (see receiver.c). */
int  budp_notify_signal(struct budp_notify *n);
/* Make read_fd unreadable again. */
void budp_notify_drain(struct budp_notify *n);
/* Sleep until read_fd is readable or timeout_ms passes (-1: forever).
 * Returns 1 readable, 0 at the timeout, or an error. */
int  budp_notify_wait(struct budp_notify *n, int timeout_ms);

#endif
