/* gso.h - finding runs of datagrams that one UDP_SEGMENT send can carry. */
#ifndef BUDP_GSO_H
#define BUDP_GSO_H

#include "batchudp.h"

/* Linux sends at most this many segments in one GSO send. */
#define BUDP_GSO_MAX_SEGMENTS 64
/* Largest UDP payload of one GSO send (IPv4's limit, the smaller one). */
#define BUDP_GSO_MAX_BYTES 65507u

/* How many datagrams from d[0..n) one GSO send can carry, at most
 * max_segments: same destination, source and ECN mark, every length equal
 * to the first but the last, which may be shorter, none empty, every one
 * after the first sendable (budp_datagram_sendable_for pacing: the first is
 * checked with the run's message).  With pacing, the run leaves at the
 * first one's time: every later time must be the same (0 with 0), or in
 * order and within BUDP_PACING_GRANULARITY_NS of it.  1 means send d[0] on
 * its own. */
unsigned budp_gso_run(const budp_datagram *d, unsigned n, unsigned max_segments,
                      int pacing);

#endif
