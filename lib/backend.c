/* backend.c - the backends of this build, in order of preference. */
#include "build_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const struct budp_backend budp_backend_mmsg;
extern const struct budp_backend budp_backend_msgx;
extern const struct budp_backend budp_backend_loop;
extern const struct budp_backend budp_backend_uring;

/* AUTO takes the first available: the best batch calls first; loop works
 * everywhere. */
static const struct budp_backend *const backends[] = {
#ifdef HAVE_RECVMMSG
    &budp_backend_mmsg,
#endif
#ifdef BUDP_WITH_MSGX
    &budp_backend_msgx,
#endif
#ifdef BUDP_WITH_URING
    &budp_backend_uring,
#endif
    &budp_backend_loop,
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

/* budp_backend_choose, with asked_by naming what asked for a backend by
 * name (the option, or the environment) in the reason. */
static const struct budp_backend *choose(const struct budp_backend *const *list,
                                         size_t count, int id, const char *asked_by,
                                         int *err, char *reason, size_t size)
{
    /* Under AUTO, the first backend passed over says why the one taken
     * was not the first choice. */
    char passed_over[BUDP_REASON_BYTES] = "";

    for (size_t i = 0; i < count; i++) {
        const struct budp_backend *b = list[i];
        char why[BUDP_REASON_BYTES];
        int verdict;

        if (id != BUDP_BACKEND_AUTO && id != b->id)
            continue;
        verdict = b->probe(why, sizeof why);
        if (id != BUDP_BACKEND_AUTO) {
            if (verdict < 0) {
                *err = verdict;
                return NULL;
            }
            if (verdict == BUDP_PROBE_ABSENT)
                break;
            snprintf(reason, size, "%s: asked for by %s (%s%s)", b->name, asked_by,
                     verdict == BUDP_PROBE_ASKED_ONLY ? "AUTO passes it over: " : "",
                     why);
            *err = 0;
            return b;
        }
        if (verdict == BUDP_PROBE_READY) {
            snprintf(reason, size, "%s: %s", b->name,
                     passed_over[0] != '\0' ? passed_over : why);
            *err = 0;
            return b;
        }
        if (passed_over[0] == '\0')
            snprintf(passed_over, sizeof passed_over, "%s", why);
    }
    *err = -ENOTSUP;
    return NULL;
}

const struct budp_backend *budp_backend_choose(const struct budp_backend *const *list,
                                               size_t count, int id, int *err,
                                               char *reason, size_t size)
{
    return choose(list, count, id, "BUDP_OPT_BACKEND", err, reason, size);
}

/* BATCHUDP_BACKEND=name: the backend AUTO takes, as if BUDP_OPT_BACKEND
 * named it (a test suite run against each backend, a comparison on the
 * application's own traffic).  AUTO when unset or not a backend's name. */
static int auto_from_environment(void)
{
    static const struct { const char *name; int id; } names[] = {
        { "mmsg", BUDP_BACKEND_MMSG }, { "msgx", BUDP_BACKEND_MSGX },
        { "loop", BUDP_BACKEND_LOOP }, { "uring", BUDP_BACKEND_URING },
    };
    const char *env = getenv("BATCHUDP_BACKEND");

    if (env == NULL)
        return BUDP_BACKEND_AUTO;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(env, names[i].name) == 0)
            return names[i].id;
    return BUDP_BACKEND_AUTO;
}

const struct budp_backend *budp_backend_select(int id, int *err, char *reason,
                                               size_t size)
{
    int from_env = id == BUDP_BACKEND_AUTO ? auto_from_environment() : BUDP_BACKEND_AUTO;
    const struct budp_backend *b =
        from_env != BUDP_BACKEND_AUTO
            ? choose(backends, BACKEND_COUNT, from_env, "BATCHUDP_BACKEND", err, reason, size)
            : budp_backend_choose(backends, BACKEND_COUNT, id, err, reason, size);

#if defined(__APPLE__) && !defined(BUDP_WITH_MSGX)
    /* Said here, since a backend left out of the build cannot say it. */
    if (b != NULL && id == BUDP_BACKEND_AUTO)
        snprintf(reason, size, "%s: built without the msgx backend "
                               "(--disable-msgx or BUDP_WITHOUT_MSGX)", b->name);
#endif
    return b;
}

int budp_backend_id_max(void)
{
    /* The ids of the backends left out of this build are known too: an
     * option naming one is valid, and budp_bind says -ENOTSUP. */
    int max = BUDP_BACKEND_URING;

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
