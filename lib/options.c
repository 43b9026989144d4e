/* options.c - the options object: keys, defaults, bounds. */
#include "build_config.h"

#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "options.h"

struct budp_option_spec {
    int64_t min, max, def;
};

/* Indexed by key - BUDP_OPT_FIRST; the header documents the same table. */
static const struct budp_option_spec option_specs[BUDP_OPT_COUNT] = {
    [BUDP_OPT_BATCH_SIZE - BUDP_OPT_FIRST]      = { 1, 1024, 32 },
    [BUDP_OPT_MAX_DATAGRAM - BUDP_OPT_FIRST]    = { 1, 65535, 2048 },
    /* The maximum comes from the table of backends (max_of). */
    [BUDP_OPT_BACKEND - BUDP_OPT_FIRST]         = { BUDP_BACKEND_AUTO, BUDP_BACKEND_AUTO, BUDP_BACKEND_AUTO },
    [BUDP_OPT_THREADED - BUDP_OPT_FIRST]        = { 0, 1, 0 },
    [BUDP_OPT_RING_CAPACITY - BUDP_OPT_FIRST]   = { 0, 65536, 0 },
    [BUDP_OPT_OVERFLOW - BUDP_OPT_FIRST]        = { BUDP_OVERFLOW_WAIT, BUDP_OVERFLOW_DROP, BUDP_OVERFLOW_WAIT },
    [BUDP_OPT_GRO - BUDP_OPT_FIRST]             = { 0, 1, 1 },
    [BUDP_OPT_GSO - BUDP_OPT_FIRST]             = { 0, 1, 1 },
    [BUDP_OPT_PKTINFO - BUDP_OPT_FIRST]         = { 0, 1, 0 },
    [BUDP_OPT_ECN - BUDP_OPT_FIRST]             = { 0, 1, 0 },
    [BUDP_OPT_RECV_BUFFER - BUDP_OPT_FIRST]     = { 0, 1073741824, 0 },
    [BUDP_OPT_CALLBACK_THREAD - BUDP_OPT_FIRST] = { 0, 1, 0 },
    [BUDP_OPT_TIMESTAMPS - BUDP_OPT_FIRST]      = { 0, 1, 0 },
    [BUDP_OPT_PACING - BUDP_OPT_FIRST]          = { BUDP_PACING_OFF, BUDP_PACING_TAI, BUDP_PACING_OFF },
    [BUDP_OPT_ERRORS - BUDP_OPT_FIRST]          = { 0, 1, 0 },
    [BUDP_OPT_STEERING - BUDP_OPT_FIRST]        = { BUDP_STEER_HASH, BUDP_STEER_CPU, BUDP_STEER_HASH },
    [BUDP_OPT_STEER_OFFSET - BUDP_OPT_FIRST]    = { 0, BUDP_STEER_PAYLOAD_MAX, 0 },
    [BUDP_OPT_STEER_LENGTH - BUDP_OPT_FIRST]    = { 1, 8, 4 },
    [BUDP_OPT_ZEROCOPY - BUDP_OPT_FIRST]        = { 0, 1, 0 },
};

static const struct budp_option_spec *spec_of(int key)
{
    if (key < BUDP_OPT_FIRST || key > BUDP_OPT_LAST)
        return NULL;
    return &option_specs[key - BUDP_OPT_FIRST];
}

/* A key's maximum: the spec's, or for the backend the largest id known, so
 * that a new backend needs no change here. */
static int64_t max_of(int key, const struct budp_option_spec *spec)
{
    return key == BUDP_OPT_BACKEND ? budp_backend_id_max() : spec->max;
}

void budp_options_defaults(struct budp_options *o)
{
    for (int i = 0; i < BUDP_OPT_COUNT; i++)
        o->value[i] = option_specs[i].def;
}

int64_t budp_opt(const struct budp_options *o, int key)
{
    return o->value[key - BUDP_OPT_FIRST];
}

int budp_options_new(budp_options **out)
{
    struct budp_options *o;

    if (out == NULL)
        return -EINVAL;
    o = malloc(sizeof *o);
    if (o == NULL)
        return -ENOMEM;
    budp_options_defaults(o);
    *out = o;
    return 0;
}

int budp_options_set(budp_options *o, int key, int64_t value)
{
    const struct budp_option_spec *spec = spec_of(key);

    if (o == NULL || spec == NULL || value < spec->min || value > max_of(key, spec))
        return -EINVAL;
    /* The ring indexes slots with a mask, and needs two to pass slots
     * between the threads (0 asks for the automatic size). */
    if (key == BUDP_OPT_RING_CAPACITY &&
        (value == 1 || (value & (value - 1)) != 0))
        return -EINVAL;
    o->value[key - BUDP_OPT_FIRST] = value;
    return 0;
}

int budp_options_get(const budp_options *o, int key, int64_t *value)
{
    if (o == NULL || value == NULL || spec_of(key) == NULL)
        return -EINVAL;
    *value = budp_opt(o, key);
    return 0;
}

int budp_options_bounds(int key, int64_t *min, int64_t *max, int64_t *default_value)
{
    const struct budp_option_spec *spec = spec_of(key);

    if (spec == NULL)
        return -EINVAL;
    if (min != NULL)
        *min = spec->min;
    if (max != NULL)
        *max = max_of(key, spec);
    if (default_value != NULL)
        *default_value = spec->def;
    return 0;
}

void budp_options_free(budp_options *o)
{
    free(o);
}
