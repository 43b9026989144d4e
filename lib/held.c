/* held.c - the datagrams a socket has received from the kernel and not
 * yet handed out (its backend's too): what closing a group's member drops
 * and counts. */
#include "build_config.h"

#include "held.h"
#include "receiver_state.h"

uint64_t budp_socket_held(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    uint32_t from, offset;
    uint64_t held = 0;
    budp_rx_slot *first;
    uint32_t run;

    if (s->backend->held != NULL)
        held = s->backend->held(s->backend_state);
    if (r == NULL)
        return held + budp_views_count(s->slots, s->filled, s->cursor, s->views,
                                       s->view_capacity, s->rx_params.max_datagram);
    /* The callback-thread receiver hands each batch over as it comes. */
    if (r->callback_mode)
        return held;
    from = r->read;
    offset = r->read_offset;
    while ((run = budp_ring_ready_run(&r->ring, from, &first)) > 0) {
        struct budp_view_cursor cur = { 0, offset };

        held += budp_views_count(first, run, cur, s->views, s->view_capacity,
                                 s->rx_params.max_datagram);
        from += run;
        offset = 0;
    }
    return held;
}
