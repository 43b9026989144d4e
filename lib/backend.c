/* backend.c - choosing a backend. */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "backend.h"

unsigned budp_backend_rx_calls(const struct budp_backend *b, int n)
{
    if (n <= 0)
        return 0;
    return b->call_per_datagram ? (unsigned)n : 1u;
}

const struct budp_backend *budp_backend_select(int id, int *err)
{
    /* AUTO: the best batch calls first; loop works everywhere. */
    static const struct budp_backend *const preference[] = {
#ifdef HAVE_RECVMMSG
        &budp_backend_mmsg,
#endif
#ifdef BUDP_WITH_MSGX
        &budp_backend_msgx,
#endif
        &budp_backend_loop,
    };
    size_t count = sizeof preference / sizeof preference[0];

    for (size_t i = 0; i < count; i++) {
        const struct budp_backend *b = preference[i];
        if ((id == BUDP_BACKEND_AUTO || id == b->id) && b->available()) {
            *err = 0;
            return b;
        }
    }
    *err = -ENOTSUP;
    return NULL;
}
