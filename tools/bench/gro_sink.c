/* gro_sink.c - the GRO receiver that send and relay modes check their
 * datagrams with. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "gro_sink.h"

int gro_sink_open(struct gro_sink *k, int fd, unsigned size, char *why,
                  size_t wsize)
{
    budp_options *o = NULL;
    const char *what = "receiver options";
    int err;

    memset(k, 0, sizeof *k);
    k->size = size;
    if ((err = budp_options_new(&o)) < 0 ||
        (err = budp_options_set(o, BUDP_OPT_GRO, 1)) < 0 ||
        (err = budp_options_set(o, BUDP_OPT_BATCH_SIZE, 256)) < 0 ||
        (err = budp_options_set(o, BUDP_OPT_MAX_DATAGRAM, size)) < 0)
        goto fail;
    what = "receiver budp_open";
    if ((err = budp_open(&k->s, fd, o)) < 0)
        goto fail;
    budp_options_free(o);
    return 0;
fail:
    budp_options_free(o);
    k->s = NULL;
    snprintf(why, wsize, "%s: %s", what, budp_strerror(err));
    return err;
}

int gro_sink_drain(struct gro_sink *k, uint64_t want, int idle_ms)
{
    const budp_datagram *d;
    int i, n;

    while (k->got < want) {
        n = budp_recv(k->s, &d, 1024);
        if (n < 0)
            return n;
        if (n == 0) {
            n = budp_wait(k->s, idle_ms);
            if (n < 0)
                return n;
            if (n == 0)
                return 0;
            continue;
        }
        for (i = 0; i < n; i++)
            if (d[i].len != k->size)
                k->bad_lengths++;
        k->got += (unsigned)n;
    }
    return 0;
}

void gro_sink_account(const struct gro_sink *k, uint64_t expected,
                      struct sample *out)
{
    out->datagrams = k->got;
    out->expected = expected;
    out->lost = expected > k->got ? expected - k->got : 0;
    out->bad_lengths = k->bad_lengths + (k->got > expected ? k->got - expected : 0);
}

void gro_sink_close(struct gro_sink *k)
{
    budp_close(k->s);
    k->s = NULL;
}
