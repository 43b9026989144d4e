/* posix_msg.h - what every msghdr-based backend shares: filling a msghdr for a
 * receive slot and reading the result back (address, truncation, control
 * messages), and filling a msghdr for one datagram or one GSO run to send. */
#ifndef BUDP_POSIX_MSG_H
#define BUDP_POSIX_MSG_H

#include <stdalign.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "addr.h"
#include "backend.h"
#include "datagram_check.h"
#include "inline.h"
#include "slot.h"

/* Room for every control message a receive may carry: GRO segment size
 * (24 bytes), destination address (40), TOS/traffic class (24), receive
 * time (32). */
#define BUDP_RX_CONTROL_BYTES 160
/* Room for a send's control messages: GSO segment size (24 bytes), source
 * address (40), TOS/traffic class (24), departure time (24). */
#define BUDP_TX_CONTROL_BYTES 112

/* Control buffers, aligned as CMSG_FIRSTHDR needs.  Not a union with
 * struct cmsghdr: glibc ends that with a flexible array member, which
 * makes any struct holding it variable-sized (a GNU extension clang warns
 * about where the scratch is not a struct's last member). */
struct budp_control_rx {
    alignas(struct cmsghdr) char bytes[BUDP_RX_CONTROL_BYTES];
};
struct budp_control_tx {
    alignas(struct cmsghdr) char bytes[BUDP_TX_CONTROL_BYTES];
};

/* Scratch a receive needs per slot, kept by the backend. */
struct budp_rx_scratch {
    struct sockaddr_storage name;
    struct iovec iov;
    struct budp_control_rx control;
};

/* Scratch a send needs per message. */
struct budp_tx_scratch {
    struct sockaddr_storage name;
    struct budp_control_tx control;
};

/* The name length budp_msg_prep_recv gives a message: one the kernel did
 * not fill still has it, since it sets the length of every datagram's
 * source address (16 or 28 bytes). */
#define BUDP_RX_NAME_UNFILLED ((socklen_t)sizeof(struct sockaddr_storage))

/* What stays the same from one receive into sc to the next: mh points at
 * sc's name, iovec (of capacity bytes) and control space.  with_control:
 * whether any option that produces control messages is on (without one
 * the kernel skips control-message work entirely).  The kernel never
 * writes these fields. */
static inline void budp_msg_bind_recv(struct msghdr *mh, struct budp_rx_scratch *sc,
                                      uint32_t capacity, int with_control)
{
    sc->iov.iov_len = capacity;
    mh->msg_name = &sc->name;
    mh->msg_iov = &sc->iov;
    mh->msg_iovlen = 1;
    mh->msg_control = with_control ? sc->control.bytes : NULL;
}

/* The control space to offer the kernel: all of it, or none when no
 * option asks for a control message. */
static inline size_t budp_msg_control_room(int with_control)
{
    return with_control ? BUDP_RX_CONTROL_BYTES : 0;
}

/* After reading a bound mh back: reset the fields the kernel writes, for
 * the next receive into the same buffer.  control_room: from
 * budp_msg_control_room. */
static inline void budp_msg_reset_recv(struct msghdr *mh, size_t control_room)
{
    mh->msg_namelen = BUDP_RX_NAME_UNFILLED;
    mh->msg_controllen = control_room;
    mh->msg_flags = 0;
}

/* Before each receive into a bound mh: the buffer to fill, and the fields
 * the kernel wrote back last time. */
static inline void budp_msg_rearm_recv(struct msghdr *mh, struct budp_rx_scratch *sc,
                                       uint8_t *buf, int with_control)
{
    sc->iov.iov_base = buf;
    budp_msg_reset_recv(mh, budp_msg_control_room(with_control));
}

/* Bind and rearm at once, for a backend that builds its message anew for
 * each receive. */
static inline void budp_msg_prep_recv(struct msghdr *mh, struct budp_rx_scratch *sc,
                                      budp_rx_slot *slot, uint32_t capacity,
                                      int with_control)
{
    budp_msg_bind_recv(mh, sc, capacity, with_control);
    budp_msg_rearm_recv(mh, sc, budp_slot_buffer(slot), with_control);
}

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
void budp_msg_finish_recv_full(budp_rx_slot *slot, const struct msghdr *mh,
                               size_t len, const struct budp_rx_params *p);

/* budp_msg_finish_recv_full, with the common case inline (no control
 * message, no flag, a datagram within max_datagram and the slot, p's
 * plain_max: the same result through fewer steps, so every check stays
 * where it was), and the slot added to *sum. */
BUDP_ALWAYS_INLINE void budp_msg_finish_recv(budp_rx_slot *slot, const struct msghdr *mh,
                                        size_t len, const struct budp_rx_params *p,
                                        struct budp_rx_summary *sum)
{
    if ((mh->msg_controllen | (size_t)(unsigned)mh->msg_flags) != 0 ||
        len > p->plain_max ||
        (slot->flags | slot->segment_size) != 0) {
        budp_msg_finish_recv_full(slot, mh, len, p);
        budp_rx_summary_add(sum, slot);
        return;
    }
    /* Flags and segment size are zero already, and with them the ECN
     * codepoint and the destination address (a slot is its own view:
     * they are zero without their flags). */
    slot->len = (uint32_t)len;
    budp_addr_from_sockaddr(&slot->peer, (const struct sockaddr *)mh->msg_name,
                            mh->msg_namelen);
    sum->bytes += len;
}

/* Fill mh to send iov[0..niov) (one datagram, or a GSO run when
 * gso_size > 0) to d's destination (named, unless it is the connected
 * peer: budp_msg_names_connected_peer), with d's source address, ECN
 * codepoint and (p->pacing) departure time when set.  Control messages follow the path the datagram
 * takes, which is IPv4 for an IPv4 or IPv4-mapped destination on a
 * dual-stack socket too (the kernel's IPv4 output ignores IPV6_TCLASS).
 * Returns 0 or -EINVAL for a malformed d (budp_datagram_sendable; the
 * other datagrams of a run are the caller's to check), a bad address, or a
 * source address of the other family than the path. */
int budp_msg_prep_send_full(struct msghdr *mh, struct budp_tx_scratch *sc,
                            struct iovec *iov, size_t niov, const budp_datagram *d,
                            const struct budp_tx_params *p, uint16_t gso_size);

/* 1 when d names the connected peer (connected: the socket's, NULL when it
 * is not connected).  Such a datagram is sent naming no destination: XNU
 * and the BSDs refuse one on a connected UDP socket (EISCONN), and Linux
 * sends the same either way. */
static inline int budp_msg_names_connected_peer(const budp_datagram *d,
                                                const budp_addr *connected)
{
    return connected != NULL && d->peer.family != BUDP_AF_UNSPEC &&
           budp_addr_equal(&d->peer, connected);
}

/* The connected peer of a socket with send parameters p, or NULL. */
static inline const budp_addr *budp_msg_connected_peer(const struct budp_tx_params *p)
{
    return p->connected ? &p->peer : NULL;
}

/* The destination last converted while one batch of messages is filled:
 * a datagram to the same address takes the same name (the names are
 * read-only to the kernel, and a batch goes out in one call). */
struct budp_msg_last_name {
    const budp_addr *peer;   /* NULL: none yet */
    void *name;
    socklen_t namelen;
};

/* The common case of sending one datagram, d, through an mh whose msg_iov
 * (one iovec, d's payload), msg_iovlen and msg_flags are set already: d
 * well formed as budp_datagram_sendable checks it (no departure time
 * either), with no control message to add (no source address, no ECN mark
 * with ecn_on, the socket's BUDP_OPT_ECN), its destination for a socket of
 * family, converted into sc, or taken from *last when it is the same, or
 * none when it is the connected peer (budp_msg_names_connected_peer).
 * Returns 0, 1 when d needs the long way (control messages, or a failed
 * check, which budp_msg_prep_send_full makes again with the socket's
 * pacing and refuses or takes), or -EINVAL for a bad address.  Its
 * settings come as values, which a caller's loop keeps in registers. */
BUDP_ALWAYS_INLINE int budp_msg_prep_send_plain(struct msghdr *mh,
                                                struct budp_tx_scratch *sc,
                                                const budp_datagram *d, int family,
                                                int ecn_on, const budp_addr *connected,
                                                struct budp_msg_last_name *last)
{
    int namelen;

    if (!budp_datagram_sendable(d))
        return 1;
    if (d->local.family != BUDP_AF_UNSPEC || (ecn_on && d->ecn != 0))
        return 1;
    mh->msg_control = NULL;
    mh->msg_controllen = 0;
    if (last->peer != NULL && memcmp(&d->peer, last->peer, sizeof d->peer) == 0) {
        mh->msg_name = last->name;
        mh->msg_namelen = last->namelen;
        return 0;
    }
    namelen = budp_msg_names_connected_peer(d, connected)
                  ? 0 : budp_addr_to_sockaddr(&d->peer, family, &sc->name);
    if (namelen < 0)
        return namelen;
    mh->msg_name = namelen > 0 ? &sc->name : NULL;
    mh->msg_namelen = (socklen_t)namelen;
    last->peer = &d->peer;
    last->name = mh->msg_name;
    last->namelen = mh->msg_namelen;
    return 0;
}

/* budp_msg_prep_send_full, with the common case inline. */
static inline int budp_msg_prep_send(struct msghdr *mh, struct budp_tx_scratch *sc,
                                     struct iovec *iov, size_t niov,
                                     const budp_datagram *d,
                                     const struct budp_tx_params *p,
                                     uint16_t gso_size)
{
    struct budp_msg_last_name none = { NULL, NULL, 0 };
    int rc;

    if (gso_size != 0 || niov != 1)
        return budp_msg_prep_send_full(mh, sc, iov, niov, d, p, gso_size);
    mh->msg_iov = iov;
    mh->msg_iovlen = 1;
    mh->msg_flags = 0;
    rc = budp_msg_prep_send_plain(mh, sc, d, p->family, p->ecn,
                                  budp_msg_connected_peer(p), &none);
    return rc > 0 ? budp_msg_prep_send_full(mh, sc, iov, 1, d, p, 0) : rc;
}

#endif
