/* datagram_check.h - what a datagram handed to budp_send must be, checked
 * by the backend as it prepares each one (one pass over the caller's
 * array: the check reads what the preparation reads next).
 *
 * Each backend checks every datagram with budp_datagram_sendable before it
 * goes and stops before the first that fails; addresses are checked where
 * they are converted (budp_addr_to_sockaddr refuses an unknown family, and
 * so does the source-address path). */
#ifndef BUDP_DATAGRAM_CHECK_H
#define BUDP_DATAGRAM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "batchudp.h"

/* The datagram's last fields, time_ns to reserved, read as four words:
 * every bit must be zero but the ECN codepoint's two, and time_ns may be
 * set while pacing is on (budp_datagram_sendable_paced). */
#define BUDP_CHECK_TAIL offsetof(budp_datagram, time_ns)
_Static_assert(sizeof(budp_datagram) - BUDP_CHECK_TAIL == 4 * sizeof(uint64_t),
               "time_ns to the end is four words");

/* The ECN codepoint's bits within the tail's second word, in this
 * machine's byte order (a constant once compiled). */
static inline uint64_t budp_check_ecn_bits(void)
{
    uint8_t bytes[sizeof(uint64_t)] = { 0 };
    uint64_t word;

    bytes[offsetof(budp_datagram, ecn) - BUDP_CHECK_TAIL - sizeof(uint64_t)] = 3;
    memcpy(&word, bytes, sizeof word);
    return word;
}

/* 1 when d may be sent as far as its own fields go: flags, time_ns,
 * segment_size and reserved zero, ECN 0-3, at most 65535 bytes, data
 * present when len is not 0.  Its addresses are checked where they are
 * converted. */
static inline int budp_datagram_sendable(const budp_datagram *d)
{
    const uint8_t *tail = (const uint8_t *)d + BUDP_CHECK_TAIL;
    uint64_t w0, w1, w2, w3;

    memcpy(&w0, tail, sizeof w0);
    memcpy(&w1, tail + 8, sizeof w1);
    memcpy(&w2, tail + 16, sizeof w2);
    memcpy(&w3, tail + 24, sizeof w3);
    return (w0 | (w1 & ~budp_check_ecn_bits()) | w2 | w3 | d->flags |
            (d->len >> 16)) == 0 &&
           (d->data != NULL || d->len == 0);
}

/* budp_datagram_sendable for a socket with pacing on: time_ns may hold a
 * departure time.  The slow path of a failed budp_datagram_sendable. */
static inline int budp_datagram_sendable_paced(const budp_datagram *d)
{
    budp_datagram untimed = *d;

    untimed.time_ns = 0;
    return budp_datagram_sendable(&untimed);
}

/* budp_datagram_sendable with time_ns allowed when pacing is on. */
static inline int budp_datagram_sendable_for(const budp_datagram *d, int pacing)
{
    return budp_datagram_sendable(d) || (pacing && budp_datagram_sendable_paced(d));
}

#endif
