/* notify.h - a pollable wake-up fd: eventfd on Linux, a pipe elsewhere.
 * Signals coalesce: several signals before a drain read as one. */
#ifndef BUDP_NOTIFY_H
#define BUDP_NOTIFY_H

struct budp_notify {
    int read_fd;
    int write_fd; /* the same fd as read_fd for an eventfd */
};

int  budp_notify_open(struct budp_notify *n);
void budp_notify_close(struct budp_notify *n);
/* Make read_fd readable (no-op when it already is). */
void budp_notify_signal(struct budp_notify *n);
/* Make read_fd unreadable again. */
void budp_notify_drain(struct budp_notify *n);

#endif
