/* msg.c - msghdr preparation and control-message parsing shared by backends. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "addr.h"
#include "msg.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

void budp_msg_prep_recv(struct msghdr *mh, struct budp_rx_scratch *sc,
                        struct budp_rx_slot *slot, uint32_t capacity,
                        int with_control)
{
    sc->iov.iov_base = slot->buf;
    sc->iov.iov_len = capacity;
    mh->msg_name = &sc->name;
    mh->msg_namelen = sizeof sc->name;
    mh->msg_iov = &sc->iov;
    mh->msg_iovlen = 1;
    mh->msg_control = with_control ? sc->control.bytes : NULL;
    mh->msg_controllen = with_control ? sizeof sc->control.bytes : 0;
    mh->msg_flags = 0;
}

/* Record a datagram's destination address (PKTINFO and its kin). */
static void set_local(struct budp_rx_slot *slot, uint16_t family, const void *addr,
                      size_t len, uint16_t port, uint32_t scope_id)
{
    memset(&slot->local, 0, sizeof slot->local);
    slot->local.family = family;
    slot->local.port = port;
    slot->local.scope_id = scope_id;
    memcpy(slot->local.bytes, addr, len);
    slot->flags |= BUDP_DGRAM_HAS_LOCAL;
}

static void parse_control(struct budp_rx_slot *slot, const struct msghdr *mh,
                          const struct budp_rx_params *p)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c != NULL;
         c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
#ifdef UDP_GRO
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int seg;
            memcpy(&seg, CMSG_DATA(c), sizeof seg);
            slot->segment_size = seg > 0 && seg <= 65535 ? (uint16_t)seg : 0;
            continue;
        }
#endif
#ifdef IP_PKTINFO
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            set_local(slot, BUDP_AF_INET, &pi.ipi_addr, 4, p->local_port, 0);
            continue;
        }
#elif defined(IP_RECVDSTADDR)
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVDSTADDR) {
            set_local(slot, BUDP_AF_INET, CMSG_DATA(c), 4, p->local_port, 0);
            continue;
        }
#endif
#ifdef IPV6_PKTINFO
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            /* The interface is the address's scope only where the address
             * needs one. */
            set_local(slot, BUDP_AF_INET6, &pi.ipi6_addr, 16, p->local_port,
                      IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0);
            continue;
        }
#endif
        if ((c->cmsg_level == IPPROTO_IP && (c->cmsg_type == IP_TOS
#ifdef IP_RECVTOS
                                             || c->cmsg_type == IP_RECVTOS
#endif
                                             )) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)) {
            /* IPv4 TOS arrives as one byte on Linux, an int elsewhere; the
             * ECN bits are the low two either way on little and big endian
             * only when read at the right width. */
            unsigned tos;
            if (c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int v;
                memcpy(&v, CMSG_DATA(c), sizeof v);
                tos = (unsigned)v;
            } else {
                tos = *(const unsigned char *)CMSG_DATA(c);
            }
            slot->ecn = (uint8_t)(tos & 0x3);
            slot->flags |= BUDP_DGRAM_HAS_ECN;
        }
    }
}

void budp_msg_finish_recv(struct budp_rx_slot *slot, const struct msghdr *mh,
                          size_t len, const struct budp_rx_params *p)
{
    slot->flags = 0;
    slot->segment_size = 0;
    slot->ecn = 0;
    if (mh->msg_namelen > 0)
        budp_addr_from_sockaddr(&slot->peer, (const struct sockaddr *)mh->msg_name);
    else
        memset(&slot->peer, 0, sizeof slot->peer);
    if (mh->msg_controllen > 0)
        parse_control(slot, mh, p);
    if (len > p->capacity)
        len = p->capacity;
    /* With GRO on, a lost control message may be the segment size: the slot
     * could hold several datagrams run together, never to pass as one. */
    if (p->gro && (mh->msg_flags & MSG_CTRUNC) && slot->segment_size == 0)
        slot->flags |= BUDP_DGRAM_TRUNCATED;
    /* A GRO receive is split later; its segments are checked one by one. */
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

int budp_msg_prep_send(struct msghdr *mh, struct budp_tx_scratch *sc,
                       struct iovec *iov, size_t niov, const budp_datagram *d,
                       int sock_family, int ecn_on, uint16_t gso_size)
{
    struct cmsghdr *c;
    size_t used = 0;
    int namelen = budp_addr_to_sockaddr(&d->peer, sock_family, &sc->name);

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
    if (d->local.family == BUDP_AF_INET && sock_family == AF_INET) {
#ifdef IP_PKTINFO
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        memcpy(&pi.ipi_spec_dst, d->local.bytes, 4);
        c = next_cmsg(mh, &used, IPPROTO_IP, IP_PKTINFO, sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
#endif
    } else if (d->local.family != BUDP_AF_UNSPEC) {
#ifdef IPV6_PKTINFO
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        if (d->local.family == BUDP_AF_INET) {
            pi.ipi6_addr.s6_addr[10] = 0xff;
            pi.ipi6_addr.s6_addr[11] = 0xff;
            memcpy(&pi.ipi6_addr.s6_addr[12], d->local.bytes, 4);
        } else {
            memcpy(&pi.ipi6_addr, d->local.bytes, 16);
            pi.ipi6_ifindex = d->local.scope_id;
        }
        c = next_cmsg(mh, &used, IPPROTO_IPV6, IPV6_PKTINFO, sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
#endif
    }
    if (ecn_on && d->ecn != 0) {
        int tos = d->ecn & 0x3;
        if (sock_family == AF_INET6)
            c = next_cmsg(mh, &used, IPPROTO_IPV6, IPV6_TCLASS, sizeof tos);
        else
            c = next_cmsg(mh, &used, IPPROTO_IP, IP_TOS, sizeof tos);
        memcpy(CMSG_DATA(c), &tos, sizeof tos);
    }
    if (used == 0) {
        mh->msg_control = NULL;
        mh->msg_controllen = 0;
    } else {
        mh->msg_controllen = used;
    }
    return 0;
}
