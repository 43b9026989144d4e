/* posix_msg.c - msghdr preparation and control-message parsing shared by
 * the POSIX backends. */
#include "build_config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "addr.h"
#include "posix_cmsg.h"
#include "posix_msg.h"
#include "views.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

void budp_rx_anomaly(const struct budp_rx_params *p)
{
    if (p->anomalies != NULL)
        atomic_fetch_add_explicit(p->anomalies, 1, memory_order_relaxed);
}

/* Record a datagram's destination address (PKTINFO and its kin). */
static void set_local(budp_rx_slot *slot, uint16_t family, const void *addr,
                      size_t len, uint16_t port, uint32_t scope_id)
{
    memset(&slot->local, 0, sizeof slot->local);
    slot->local.family = family;
    slot->local.port = port;
    slot->local.scope_id = scope_id;
    memcpy(slot->local.bytes, addr, len);
    slot->flags |= BUDP_DGRAM_HAS_LOCAL;
}

/* IPv4 TOS arrives as one byte on Linux, an int elsewhere; the ECN bits
 * are the low two either way, when read at the width that arrived. */
static int read_tos(const struct msghdr *mh, const struct cmsghdr *c,
                    unsigned *tos)
{
    if (budp_cmsg_holds(mh, c, sizeof(int))) {
        int v;
        memcpy(&v, CMSG_DATA(c), sizeof v);
        *tos = (unsigned)v;
        return 1;
    }
    if (budp_cmsg_holds(mh, c, 1)) {
        *tos = *(const unsigned char *)CMSG_DATA(c);
        return 1;
    }
    return 0;
}

static int is_tos(const struct cmsghdr *c)
{
    return (c->cmsg_level == IPPROTO_IP && (c->cmsg_type == IP_TOS
#ifdef IP_RECVTOS
                                            || c->cmsg_type == IP_RECVTOS
#endif
                                            )) ||
           (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS);
}

/* A receive time: struct timespec (Linux SO_TIMESTAMPNS) or struct
 * timeval (SO_TIMESTAMP elsewhere), as nanoseconds since the epoch.
 * Returns 0, or -1 when the message was cut short. */
static int read_time(const struct msghdr *mh, const struct cmsghdr *c,
                     budp_rx_slot *slot)
{
#ifdef SCM_TIMESTAMPNS
    if (c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        if (!budp_cmsg_holds(mh, c, sizeof ts))
            return -1;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        slot->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        slot->flags |= BUDP_DGRAM_HAS_TIME;
        return 0;
    }
#endif
    {
        struct timeval tv;
        if (!budp_cmsg_holds(mh, c, sizeof tv))
            return -1;
        memcpy(&tv, CMSG_DATA(c), sizeof tv);
        slot->time_ns = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
        slot->flags |= BUDP_DGRAM_HAS_TIME;
        return 0;
    }
}

static int is_time(const struct cmsghdr *c)
{
    if (c->cmsg_level != SOL_SOCKET)
        return 0;
#ifdef SCM_TIMESTAMPNS
    if (c->cmsg_type == SCM_TIMESTAMPNS)
        return 1;
#endif
#ifdef SCM_TIMESTAMP
    if (c->cmsg_type == SCM_TIMESTAMP)
        return 1;
#endif
    return 0;
}

/* A UDP_GRO control message's value, if one came. */
struct gro_value {
    int present;
    int segment;
};

/* Read the control messages the library asked for.  Returns 0, or -1 when
 * a message was cut short. */
static int parse_control(budp_rx_slot *slot, const struct msghdr *mh,
                         const struct budp_rx_params *p, struct gro_value *gro)
{
    int cut = 0;

    (void)gro; /* unused where the platform has no UDP_GRO */
    for (struct cmsghdr *c = budp_cmsg_first(mh); c != NULL; c = budp_cmsg_next(mh, c)) {
#ifdef UDP_GRO
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            if (!budp_cmsg_holds(mh, c, sizeof(int))) {
                cut = 1;
                continue;
            }
            memcpy(&gro->segment, CMSG_DATA(c), sizeof gro->segment);
            gro->present = 1;
            continue;
        }
#endif
#ifdef IP_PKTINFO
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            if (!budp_cmsg_holds(mh, c, sizeof pi)) {
                cut = 1;
                continue;
            }
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            set_local(slot, BUDP_AF_INET, &pi.ipi_addr, 4, p->local_port, 0);
            continue;
        }
#elif defined(IP_RECVDSTADDR)
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVDSTADDR) {
            if (!budp_cmsg_holds(mh, c, 4)) {
                cut = 1;
                continue;
            }
            set_local(slot, BUDP_AF_INET, CMSG_DATA(c), 4, p->local_port, 0);
            continue;
        }
#endif
#ifdef IPV6_PKTINFO
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            if (!budp_cmsg_holds(mh, c, sizeof pi)) {
                cut = 1;
                continue;
            }
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            /* The interface is the address's scope only where the address
             * needs one. */
            set_local(slot, BUDP_AF_INET6, &pi.ipi6_addr, 16, p->local_port,
                      IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0);
            continue;
        }
#endif
        if (is_time(c)) {
            if (read_time(mh, c, slot) < 0)
                cut = 1;
            continue;
        }
        if (is_tos(c)) {
            unsigned tos;
            if (!read_tos(mh, c, &tos)) {
                cut = 1;
                continue;
            }
            slot->ecn = (uint8_t)(tos & 0x3);
            slot->flags |= BUDP_DGRAM_HAS_ECN;
        }
    }
    return cut ? -1 : 0;
}

/* The segment size to split len bytes at, from the UDP_GRO value: 0 for one
 * datagram.  A kernel coalesces at most
 * BUDP_GRO_MAX_SEGMENTS datagrams of seg bytes, the last one shorter or
 * equal.  A size above len says one datagram; a size of 0, above 65535, or
 * one that makes more segments than that is no kernel's: counted, and the
 * slot is never passed on as one whole datagram. */
static uint16_t gro_split(budp_rx_slot *slot, const struct gro_value *gro,
                          size_t len, const struct budp_rx_params *p)
{
    int seg = gro->segment;

    if (!gro->present)
        return 0;
    if (seg > 0 && (size_t)seg >= len && seg <= 65535) {
        if ((size_t)seg > len)
            budp_rx_anomaly(p);
        return 0;
    }
    if (seg <= 0 || seg > 65535 ||
        (len + (size_t)seg - 1) / (size_t)seg > BUDP_GRO_MAX_SEGMENTS) {
        budp_rx_anomaly(p);
        slot->flags |= BUDP_DGRAM_TRUNCATED;
        return 0;
    }
    return (uint16_t)seg;
}

/* The rare part of a receive's result: control messages, or a kernel that
 * ran out of room for them.  Sets flags, ECN and the GRO segment size. */
static void finish_control(budp_rx_slot *slot, const struct msghdr *mh,
                           size_t len, const struct budp_rx_params *p)
{
    struct gro_value gro = { 0, 0 };

    if (mh->msg_controllen > 0 && parse_control(slot, mh, p, &gro) < 0)
        slot->flags |= BUDP_DGRAM_CONTROL_TRUNCATED;
    if (mh->msg_flags & MSG_CTRUNC)
        slot->flags |= BUDP_DGRAM_CONTROL_TRUNCATED;
    if (p->gro)
        slot->segment_size = gro_split(slot, &gro, len, p);
    /* With GRO on, a lost control message may be the segment size: the slot
     * could hold several datagrams run together, never to pass as one. */
    if (p->gro && (slot->flags & BUDP_DGRAM_CONTROL_TRUNCATED) &&
        slot->segment_size == 0)
        slot->flags |= BUDP_DGRAM_TRUNCATED;
}

void budp_msg_finish_recv_full(budp_rx_slot *slot, const struct msghdr *mh,
                               size_t len, const struct budp_rx_params *p)
{
    /* A slot is its own view: local stays all zero without HAS_LOCAL. */
    memset(&slot->local, 0, sizeof slot->local);
    slot->flags = 0;
    slot->segment_size = 0;
    slot->ecn = 0;
    slot->time_ns = 0;
    budp_addr_from_sockaddr(&slot->peer, (const struct sockaddr *)mh->msg_name,
                            mh->msg_namelen);
    if (len > p->capacity)
        len = p->capacity;
    if (mh->msg_controllen > 0 || (mh->msg_flags & MSG_CTRUNC))
        finish_control(slot, mh, len, p);
    /* A GRO receive is split later; its segments are checked one by one,
     * and one the kernel cut short (a coalesced receive larger than the
     * slot, where the device allows more than 64 KiB) ends in a cut
     * segment. */
    if (slot->segment_size != 0 && (mh->msg_flags & MSG_TRUNC))
        slot->flags |= BUDP_SLOT_LAST_CUT;
    if (slot->segment_size == 0 &&
        ((mh->msg_flags & MSG_TRUNC) || len > p->max_datagram)) {
        slot->flags |= BUDP_DGRAM_TRUNCATED;
        if (len > p->max_datagram)
            len = p->max_datagram;
    }
    slot->len = (uint32_t)len;
}

static struct cmsghdr *next_cmsg(struct msghdr *mh, size_t *used, int level,
                                 int type, size_t len)
{
    /* Control messages are laid out back to back at CMSG_SPACE strides;
     * placing them by offset avoids CMSG_NXTHDR reading uninitialised
     * lengths in a buffer still being filled. */
    struct cmsghdr *c = (struct cmsghdr *)((char *)mh->msg_control + *used);

    memset(c, 0, CMSG_SPACE(len));
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    *used += CMSG_SPACE(len);
    return c;
}

static int is_v4_mapped(const uint8_t *a)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a, prefix, sizeof prefix) == 0;
}

/* 1 when d leaves on the IPv4 path: from an IPv4 socket, to an IPv4 or
 * IPv4-mapped destination, or (no destination of its own) on a socket
 * connected to one. */
static int ipv4_path(const budp_datagram *d, const struct budp_tx_params *p)
{
    if (p->family == BUDP_AF_INET || d->peer.family == BUDP_AF_INET)
        return 1;
    if (d->peer.family == BUDP_AF_INET6)
        return is_v4_mapped(d->peer.bytes);
    return p->connected && p->peer.family == BUDP_AF_INET6 &&
           is_v4_mapped(p->peer.bytes);
}

/* The source address d asks for, as the control message of its path.
 * -EINVAL when it is of the other family. */
static int put_source(struct msghdr *mh, size_t *used, const budp_addr *local,
                      int v4)
{
    struct cmsghdr *c;
    const uint8_t *v4_bytes = NULL;

    if (local->family != BUDP_AF_INET && local->family != BUDP_AF_INET6)
        return -EINVAL;
    if (local->family == BUDP_AF_INET)
        v4_bytes = local->bytes;
    else if (is_v4_mapped(local->bytes))
        v4_bytes = local->bytes + 12;
    if (v4 != (v4_bytes != NULL))
        return -EINVAL;
    if (v4) {
#ifdef IP_PKTINFO
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        memcpy(&pi.ipi_spec_dst, v4_bytes, 4);
        c = next_cmsg(mh, used, IPPROTO_IP, IP_PKTINFO, sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return 0;
#else
        return -EINVAL;
#endif
    }
#ifdef IPV6_PKTINFO
    {
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        memcpy(&pi.ipi6_addr, local->bytes, 16);
        pi.ipi6_ifindex = local->scope_id;
        c = next_cmsg(mh, used, IPPROTO_IPV6, IPV6_PKTINFO, sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return 0;
    }
#else
    return -EINVAL;
#endif
}

int budp_msg_prep_send_full(struct msghdr *mh, struct budp_tx_scratch *sc,
                            struct iovec *iov, size_t niov, const budp_datagram *d,
                            const struct budp_tx_params *p, uint16_t gso_size)
{
    struct cmsghdr *c;
    size_t used = 0;
    int namelen, v4 = ipv4_path(d, p);

    if (!budp_datagram_sendable_for(d, p->pacing))
        return -EINVAL;
    namelen = budp_msg_names_connected_peer(d, budp_msg_connected_peer(p))
                  ? 0 : budp_addr_to_sockaddr(&d->peer, p->family, &sc->name);
    if (namelen < 0)
        return namelen;
    mh->msg_name = namelen > 0 ? &sc->name : NULL;
    mh->msg_namelen = (socklen_t)namelen;
    mh->msg_iov = iov;
    mh->msg_iovlen = niov;
    mh->msg_control = sc->control.bytes;
    mh->msg_controllen = sizeof sc->control.bytes;
    mh->msg_flags = 0;

#ifdef UDP_SEGMENT
    if (gso_size > 0) {
        c = next_cmsg(mh, &used, SOL_UDP, UDP_SEGMENT, sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
    }
#else
    (void)gso_size;
#endif
    if (d->local.family != BUDP_AF_UNSPEC && put_source(mh, &used, &d->local, v4) < 0)
        return -EINVAL;
    if (p->ecn && d->ecn != 0) {
        int tos = d->ecn & 0x3;
        if (v4)
            c = next_cmsg(mh, &used, IPPROTO_IP, IP_TOS, sizeof tos);
        else
            c = next_cmsg(mh, &used, IPPROTO_IPV6, IPV6_TCLASS, sizeof tos);
        memcpy(CMSG_DATA(c), &tos, sizeof tos);
    }
#ifdef SCM_TXTIME
    if (p->pacing && d->time_ns != 0) {
        uint64_t when = d->time_ns;
        c = next_cmsg(mh, &used, SOL_SOCKET, SCM_TXTIME, sizeof when);
        memcpy(CMSG_DATA(c), &when, sizeof when);
    }
#endif
    if (used == 0) {
        mh->msg_control = NULL;
        mh->msg_controllen = 0;
    } else {
        mh->msg_controllen = used;
    }
    return 0;
}
