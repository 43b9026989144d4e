/* gro_sink.h - the receiving end of send and relay modes: a socket wrapped
 * by the library with GRO on, read after the measured part and checked
 * (every datagram of the expected length, counted). */
#ifndef BUDP_BENCH_GRO_SINK_H
#define BUDP_BENCH_GRO_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"
#include "bench.h"

struct gro_sink {
    budp_socket *s;
    unsigned size;             /* every datagram's expected length */
    uint64_t got, bad_lengths;
};

/* Wrap fd (a bound UDP socket, still the caller's to close) for datagrams
 * of size bytes.  0, or -errno with the reason in why. */
int  gro_sink_open(struct gro_sink *k, int fd, unsigned size, char *why,
                   size_t wsize);

/* Read until got reaches want, or nothing came for idle_ms.  0 or -errno. */
int  gro_sink_drain(struct gro_sink *k, uint64_t want, int idle_ms);

/* What reached the sink against the expected datagrams, into out:
 * datagrams, expected, lost, and bad_lengths (a datagram of another
 * length, or one more than was sent). */
void gro_sink_account(const struct gro_sink *k, uint64_t expected,
                      struct sample *out);

/* budp_close; the fd stays open. */
void gro_sink_close(struct gro_sink *k);

#endif
