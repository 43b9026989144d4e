/* callback.c - the per-thread chain of running callbacks. */
#include "build_config.h"

#include "callback.h"

static _Thread_local struct budp_callback_frame *innermost;

struct budp_callback_frame *budp_callback_frame_of(const struct budp_socket *s)
{
    for (struct budp_callback_frame *f = innermost; f != NULL; f = f->outer)
        if (f->socket == s)
            return f;
    return NULL;
}

int budp_inside_callback(const struct budp_socket *s)
{
    return budp_callback_frame_of(s) != NULL;
}

int budp_run_callback(struct budp_socket *s, int on_receiver,
                      const budp_datagram *d, unsigned n, int *verdict)
{
    struct budp_callback_frame frame = { s, innermost, on_receiver, 0 };

    innermost = &frame;
    *verdict = s->callback(s->callback_user, d, n);
    innermost = frame.outer;
    return frame.closed;
}
