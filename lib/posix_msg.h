/* posix_msg.h - what every msghdr-based backend shares: filling a msghdr for a
 * receive slot and reading the result back (address, truncation, control
 * messages), and filling a msghdr for one datagram or one GSO run to send. */
#ifndef BUDP_POSIX_MSG_H
#define BUDP_POSIX_MSG_H

#include <sys/socket.h>
#include <sys/uio.h>

#include "backend.h"
#include "slot.h"

/* Room for every control message a receive may carry: GRO segment size,
 * destination address, TOS/traffic class. */
#define BUDP_RX_CONTROL_BYTES 160
/* Room for a send's control messages: GSO segment size, source address,
 * TOS/traffic class. */
#define BUDP_TX_CONTROL_BYTES 96

/* Scratch a receive needs per slot, kept by the backend. */
struct budp_rx_scratch {
    struct sockaddr_storage name;
    struct iovec iov;
    union {
        char bytes[BUDP_RX_CONTROL_BYTES];
        struct cmsghdr align;
    } control;
};

/* Scratch a send needs per message. */
struct budp_tx_scratch {
    struct sockaddr_storage name;
    union {
        char bytes[BUDP_TX_CONTROL_BYTES];
        struct cmsghdr align;
    } control;
};

/* The name length budp_msg_prep_recv gives a message: one the kernel did
 * not fill still has it, since it sets the length of every datagram's
 * source address (16 or 28 bytes). */
#define BUDP_RX_NAME_UNFILLED ((socklen_t)sizeof(struct sockaddr_storage))

/* Point mh at slot's buffer and sc's name and control space.  with_control:
 * whether any option that produces control messages is on (without one the
 * kernel skips control-message work entirely). */
void budp_msg_prep_recv(struct msghdr *mh, struct budp_rx_scratch *sc,
                        struct budp_rx_slot *slot, uint32_t capacity,
                        int with_control);

/* Count one kernel result not trusted, in p's counter. */
void budp_rx_anomaly(const struct budp_rx_params *p);

/* Read back what the kernel wrote: len bytes, mh's flags, name and control
 * messages.  Flags truncation (MSG_TRUNC, or a datagram that filled the slot
 * past max_datagram) and clips len; never lets a slot claim more than it
 * holds.  A control message shorter than its value is not read (the slot
 * is flagged BUDP_DGRAM_CONTROL_TRUNCATED), and a GRO segment size no
 * kernel gives (0, above the length, more than 64 segments) is not used:
 * the slot holds one datagram and counts an anomaly.  MSG_TRUNC on a GRO
 * receive marks its last segment cut (BUDP_SLOT_LAST_CUT). */
void budp_msg_finish_recv(struct budp_rx_slot *slot, const struct msghdr *mh,
                          size_t len, const struct budp_rx_params *p);

/* Fill mh to send iov[0..niov) (one datagram, or a GSO run when
 * gso_size > 0) to d's destination, with d's source address and ECN
 * codepoint when set.  Control messages follow the path the datagram
 * takes, which is IPv4 for an IPv4 or IPv4-mapped destination on a
 * dual-stack socket too (the kernel's IPv4 output ignores IPV6_TCLASS).
 * Returns 0 or -EINVAL for a bad address, or a source address of the other
 * family than the path. */
int budp_msg_prep_send(struct msghdr *mh, struct budp_tx_scratch *sc,
                       struct iovec *iov, size_t niov, const budp_datagram *d,
                       const struct budp_tx_params *p, uint16_t gso_size);

#endif
