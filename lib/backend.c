/* backend.c - the backends of this build, in order of preference. */
#include "build_config.h"

#include <errno.h>
#include <stddef.h>

#include "backend.h"

extern const struct budp_backend budp_backend_mmsg;
extern const struct budp_backend budp_backend_msgx;
extern const struct budp_backend budp_backend_loop;

/* AUTO takes the first available: the best batch calls first; loop works
 * everywhere. */
static const struct budp_backend *const backends[] = {
#ifdef HAVE_RECVMMSG
    &budp_backend_mmsg,
#endif
#ifdef BUDP_WITH_MSGX
    &budp_backend_msgx,
#endif
    &budp_backend_loop,
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

const struct budp_backend *budp_backend_select(int id, int *err)
{
    for (size_t i = 0; i < BACKEND_COUNT; i++) {
        const struct budp_backend *b = backends[i];
        if ((id == BUDP_BACKEND_AUTO || id == b->id) && b->probe()) {
            *err = 0;
            return b;
        }
    }
    *err = -ENOTSUP;
    return NULL;
}

int budp_backend_id_max(void)
{
    /* The ids of the backends left out of this build are known too: an
     * option naming one is valid, and budp_bind says -ENOTSUP. */
    int max = BUDP_BACKEND_LOOP;

    for (size_t i = 0; i < BACKEND_COUNT; i++)
        if (backends[i]->id > max)
            max = backends[i]->id;
    return max;
}

unsigned budp_backend_rx_calls(const struct budp_backend *b, int n)
{
    if (n <= 0)
        return 0;
    return (b->caps & BUDP_CALL_PER_DATAGRAM) ? (unsigned)n : 1u;
}
