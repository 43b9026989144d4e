/* teardown.c - a socket's release and free. */
#include "build_config.h"

#include <stdlib.h>

#include "receiver.h"
#include "sys.h"
#include "teardown.h"

void budp_socket_release(struct budp_socket *s, int on_receiver_thread)
{
    /* The thread first: it sleeps in the backend's wait until joined. */
    if (s->receiver != NULL)
        budp_receiver_release(s, on_receiver_thread);
    s->backend->release(s->backend_state);
    if (s->owns_fd)
        budp_sys_close(s->fd);
}

void budp_socket_free(struct budp_socket *s)
{
    if (s->receiver != NULL)
        budp_receiver_free(s->receiver);
    s->backend->close(s->backend_state);
    budp_slots_free(s->slots, s->slot_memory);
    free(s->views);
    pthread_mutex_destroy(&s->tx_lock);
    free(s);
}
