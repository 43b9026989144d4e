/* fuzz_control.c - the receive result parser: whatever a kernel writes into
 * a receive's msghdr (length, flags, source address, control messages,
 * honest or not), budp_msg_finish_recv and budp_views_fill must hand out
 * views that stay inside the slot and keep the documented rules.
 *
 * Input: a parameter block, then the source address, then the control
 * messages (built as a kernel lays them out, optionally cut short as Linux
 * or the BSDs cut them, or taken as raw bytes). */
#include "config.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "input.h"
#include "posix_msg.h"
#include "views.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parser should report, worked out while building honest control
 * messages (the input's own model of the documented rules). */
struct expect {
    int known;          /* 0: raw or lying messages, no model */
    int cut;            /* a message the library reads was cut short */
    int gro_present;
    int gro_segment;
    int has_local;
    budp_addr local;
    int has_ecn;
    unsigned ecn;
    int has_time;
    uint64_t time_ns;
};

/* The kinds of control message the input can build. */
enum kind { K_GRO, K_PKTINFO, K_PKTINFO6, K_TOS_BYTE, K_TOS_INT, K_TCLASS,
            K_OTHER, K_TIME, K_COUNT };

static int kind_header(enum kind k, int *level, int *type, size_t *len)
{
    switch (k) {
#ifdef UDP_GRO
    case K_GRO:      *level = SOL_UDP; *type = UDP_GRO; *len = sizeof(int); return 1;
#endif
#ifdef IP_PKTINFO
    case K_PKTINFO:  *level = IPPROTO_IP; *type = IP_PKTINFO;
                     *len = sizeof(struct in_pktinfo); return 1;
#endif
#ifdef IPV6_PKTINFO
    case K_PKTINFO6: *level = IPPROTO_IPV6; *type = IPV6_PKTINFO;
                     *len = sizeof(struct in6_pktinfo); return 1;
#endif
    case K_TOS_BYTE: *level = IPPROTO_IP; *type = IP_TOS; *len = 1; return 1;
    case K_TOS_INT:  *level = IPPROTO_IP; *type = IP_TOS; *len = sizeof(int); return 1;
    case K_TCLASS:   *level = IPPROTO_IPV6; *type = IPV6_TCLASS; *len = sizeof(int); return 1;
#ifdef SCM_TIMESTAMPNS
    case K_TIME:     *level = SOL_SOCKET; *type = SCM_TIMESTAMPNS;
                     *len = sizeof(struct timespec); return 1;
#endif
    default:         return 0;
    }
}

/* Apply one message whose value has avail bytes (of len) to the model. */
static void model_apply(struct expect *e, enum kind k, const uint8_t *value,
                        size_t avail, size_t len, uint16_t port)
{
    if (k == K_TOS_BYTE || k == K_TOS_INT || k == K_TCLASS) {
        /* TOS is read at the width that arrived: one byte will do. */
        if (avail == 0) {
            e->cut = 1;
            return;
        }
        if (avail >= sizeof(int)) {
            int v;
            memcpy(&v, value, sizeof v);
            e->ecn = (unsigned)v & 3;
        } else {
            e->ecn = value[0] & 3;
        }
        e->has_ecn = 1;
        return;
    }
    if (avail < len) {
        e->cut = 1;
        return;
    }
    if (k == K_TIME) {
        struct timespec ts;
        memcpy(&ts, value, sizeof ts);
        e->has_time = 1;
        e->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    if (k == K_GRO) {
        e->gro_present = 1;
        memcpy(&e->gro_segment, value, sizeof(int));
    }
#ifdef IP_PKTINFO
    if (k == K_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, value, sizeof pi);
        memset(&e->local, 0, sizeof e->local);
        e->local.family = BUDP_AF_INET;
        e->local.port = port;
        memcpy(e->local.bytes, &pi.ipi_addr, 4);
        e->has_local = 1;
    }
#endif
#ifdef IPV6_PKTINFO
    if (k == K_PKTINFO6) {
        struct in6_pktinfo pi;
        memcpy(&pi, value, sizeof pi);
        memset(&e->local, 0, sizeof e->local);
        e->local.family = BUDP_AF_INET6;
        e->local.port = port;
        memcpy(e->local.bytes, &pi.ipi6_addr, 16);
        if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
            e->local.scope_id = pi.ipi6_ifindex;
        e->has_local = 1;
    }
#endif
}

/* Lay control messages out in buf (room bytes) as a kernel does.  Returns
 * the length written (the msg_controllen a kernel would report) and sets
 * *ctrunc when it ran out of room. */
static size_t build_control(struct fuzz_input *in, uint8_t *buf, size_t room,
                            uint16_t port, struct expect *e, int *ctrunc)
{
    unsigned count = fuzz_u8(in) % 8;
    /* 0: cut as Linux does (cmsg_len says what fits), 1: as the BSDs do
     * (cmsg_len keeps the full length, the bytes stop), 2: cmsg_len lies. */
    unsigned style = fuzz_u8(in) % 3;
    size_t used = 0;

    e->known = style != 2;
    for (unsigned i = 0; i < count; i++) {
        enum kind k = (enum kind)(fuzz_u8(in) % K_COUNT);
        int level = 0x7ff0, type = 0x7ff0;
        size_t len = fuzz_u8(in) % 48;
        uint8_t value[256];
        struct cmsghdr h;
        size_t full, avail;

        if (!kind_header(k, &level, &type, &len)) {
            level = 0x7ff0 + fuzz_u8(in) % 8;
            type = fuzz_u8(in);
        }
        fuzz_bytes(in, value, len);
        full = CMSG_SPACE(len);
        if (room - used < sizeof h) {
            *ctrunc = 1;
            break;
        }
        memset(&h, 0, sizeof h);
        h.cmsg_level = level;
        h.cmsg_type = type;
        h.cmsg_len = CMSG_LEN(len);
        if (style == 2)
            h.cmsg_len = fuzz_u16(in);
        if (full <= room - used) {
            memcpy(buf + used, &h, sizeof h);
            memcpy(buf + used + CMSG_LEN(0), value, len);
            avail = len;
            used += full;
        } else {
            avail = room - used - CMSG_LEN(0) < len ? room - used - CMSG_LEN(0) : len;
            if (style == 0)
                h.cmsg_len = CMSG_LEN(avail);
            memcpy(buf + used, &h, sizeof h);
            memcpy(buf + used + CMSG_LEN(0), value, avail);
            used = room;
            *ctrunc = 1;
        }
        if (k != K_OTHER)
            model_apply(e, k, value, avail, len, port);
        if (*ctrunc)
            break;
    }
    return used;
}

/* The segment size the documented rules give, from the model. */
static uint16_t model_segment(const struct expect *e, size_t len, int *anomaly)
{
    int seg = e->gro_segment;

    *anomaly = 0;
    if (!e->gro_present)
        return 0;
    if (seg <= 0 || seg > 65535) {
        *anomaly = 1;
        return 0;
    }
    if ((size_t)seg >= len)
        return 0;
    if ((len + (size_t)seg - 1) / (size_t)seg > BUDP_GRO_MAX_SEGMENTS) {
        *anomaly = 1;
        return 0;
    }
    return (uint16_t)seg;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 31 + 7);
}

/* The views of the slot: inside its buffer, in order, each within
 * max_datagram, together no more than the slot holds. */
static void check_views(const budp_rx_slot *slot, uint32_t capacity,
                        uint32_t max_datagram)
{
    budp_datagram views[BUDP_GRO_MAX_SEGMENTS + 1];
    struct budp_view_cursor cur = { 0, 0 };
    struct budp_view_tally tally;
    uint64_t total = 0;
    unsigned n;

    memset(views, 0, sizeof views);
    memset(&tally, 0, sizeof tally);
    n = budp_views_fill(slot, 1, &cur, views, BUDP_GRO_MAX_SEGMENTS + 1,
                        max_datagram, &tally);
    FUZZ_CHECK(n >= 1 && n <= BUDP_GRO_MAX_SEGMENTS);
    FUZZ_CHECK(cur.slot == 1 && cur.offset == 0);
    FUZZ_CHECK(n == budp_slot_datagrams(slot));
    FUZZ_CHECK(tally.datagrams == n);
    for (unsigned i = 0; i < n; i++) {
        const budp_datagram *v = &views[i];
        size_t off = (size_t)(v->data - slot->data);

        FUZZ_CHECK(v->data >= slot->data && off <= capacity);
        FUZZ_CHECK(v->len <= capacity - off);
        FUZZ_CHECK(off + v->len <= slot->len);
        FUZZ_CHECK(v->len <= max_datagram);
        FUZZ_CHECK(off == (size_t)i * (slot->segment_size ? slot->segment_size : 0));
        /* Read every byte: a view past the buffer is caught here too. */
        for (uint32_t b = 0; b < v->len; b++)
            FUZZ_CHECK(v->data[b] == pattern(off + b));
        FUZZ_CHECK((v->flags & ~(uint32_t)BUDP_DGRAM_TRUNCATED &
                    ~(uint32_t)BUDP_DGRAM_COALESCED) ==
                   (slot->flags & ~(uint32_t)(BUDP_DGRAM_TRUNCATED | BUDP_SLOT_LAST_CUT)));
        /* The library's own mark stays inside; the cut segment is the last. */
        if ((slot->flags & BUDP_SLOT_LAST_CUT) && i == n - 1)
            FUZZ_CHECK(v->flags & BUDP_DGRAM_TRUNCATED);
        FUZZ_CHECK(!(slot->flags & BUDP_DGRAM_TRUNCATED) ||
                   (v->flags & BUDP_DGRAM_TRUNCATED));
        FUZZ_CHECK(!!(v->flags & BUDP_DGRAM_COALESCED) == (slot->segment_size != 0));
        FUZZ_CHECK(v->segment_size == slot->segment_size);
        FUZZ_CHECK(v->time_ns == slot->time_ns);
        FUZZ_CHECK(memcmp(&v->peer, &slot->peer, sizeof v->peer) == 0);
        FUZZ_CHECK(v->ecn <= 3);
        total += v->len;
    }
    FUZZ_CHECK(total <= slot->len);
    FUZZ_CHECK(tally.bytes == total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in;
    struct budp_rx_params p;
    struct budp_rx_scratch sc;
    budp_rx_slot slot;
    struct msghdr mh;
    struct expect e;
    _Atomic uint64_t anomalies = 0;
    uint8_t mode, flags_in, *buf, *name_copy, *control_copy;
    struct budp_rx_summary sum;
    uint32_t capacity;
    size_t len, namelen, controllen = 0;
    int with_control, ctrunc = 0, raw_control;

    fuzz_input_init(&in, data, size);
    mode = fuzz_u8(&in);
    memset(&p, 0, sizeof p);
    p.gro = mode & 1;
    with_control = (mode >> 1) & 1;
    raw_control = (mode >> 4) & 1;
    p.max_datagram = 1 + fuzz_u16(&in) % 65535;
    switch ((mode >> 2) & 3) {
    case 0: capacity = p.max_datagram + 1; break;  /* what budp_bind sets */
    case 1: capacity = 65535 + 1; break;           /* a GRO slot */
    default: capacity = 1 + fuzz_u16(&in); break;  /* anything */
    }
    p.capacity = capacity;
    p.plain_max = capacity < p.max_datagram ? capacity : p.max_datagram;  /* as socket.c */
    p.local_port = fuzz_u16(&in);
    p.anomalies = (mode & 0x20) ? &anomalies : NULL;

    buf = malloc(capacity);
    if (buf == NULL)
        return 0;
    for (size_t i = 0; i < capacity; i++)
        buf[i] = pattern(i);

    /* Stale contents from an earlier receive: junk everywhere, or what a
     * plain datagram leaves (a slot is its own view: no flag, and with the
     * flags the segment size, ECN codepoint and destination all zero), the
     * case budp_msg_finish_recv takes a shorter path for. */
    memset(&sc, 0xa5, sizeof sc);
    memset(&slot, 0x5a, sizeof slot);
    if (mode & 0x80) {
        slot.flags = 0;
        slot.segment_size = 0;
        slot.ecn = 0;
        slot.time_ns = 0;
        memset(&slot.local, 0, sizeof slot.local);
    }
    slot.data = buf;
    budp_msg_prep_recv(&mh, &sc, &slot, capacity, with_control);
    FUZZ_CHECK(mh.msg_iovlen == 1 && mh.msg_iov->iov_base == buf &&
               mh.msg_iov->iov_len == capacity);
    FUZZ_CHECK(mh.msg_name == &sc.name && mh.msg_namelen == sizeof sc.name);
    FUZZ_CHECK(with_control ? mh.msg_controllen == sizeof sc.control.bytes
                            : mh.msg_control == NULL && mh.msg_controllen == 0);
    FUZZ_CHECK(mh.msg_flags == 0);

    /* The kernel's result.  Length: usually what fits, sometimes the
     * datagram's real length (MSG_TRUNC) or nonsense. */
    len = fuzz_u32(&in);
    if (!(mode & 0x40))
        len %= (size_t)capacity + 1;
    flags_in = fuzz_u8(&in);
    mh.msg_flags = ((flags_in & 1) ? MSG_TRUNC : 0) | ((flags_in & 2) ? MSG_CTRUNC : 0) |
                   ((flags_in & 4) ? MSG_EOR | MSG_OOB : 0);

    /* Source address: a family and as many bytes as the kernel said. */
    namelen = fuzz_u8(&in);
    switch (namelen & 3) {
    case 0: namelen = sizeof(struct sockaddr_in); break;
    case 1: namelen = sizeof(struct sockaddr_in6); break;
    default: namelen = (namelen >> 2) % (sizeof sc.name + 1); break;
    }
    fuzz_bytes(&in, &sc.name, namelen);
    if (namelen >= sizeof(sa_family_t)) {
        uint8_t f = fuzz_u8(&in);
        sa_family_t fam = (f & 3) == 0 ? AF_INET : (f & 3) == 1 ? AF_INET6 : (sa_family_t)(f >> 2);
        memcpy((uint8_t *)&sc.name + offsetof(struct sockaddr, sa_family), &fam, sizeof fam);
    }
    mh.msg_namelen = (socklen_t)namelen;

    memset(&e, 0, sizeof e);
    if (with_control) {
        if (raw_control) {
            controllen = fuzz_u8(&in) % (sizeof sc.control.bytes + 1);
            fuzz_bytes(&in, sc.control.bytes, controllen);
        } else {
            controllen = build_control(&in, (uint8_t *)sc.control.bytes,
                                       sizeof sc.control.bytes, p.local_port, &e,
                                       &ctrunc);
            if (ctrunc)
                mh.msg_flags |= MSG_CTRUNC;
        }
        mh.msg_controllen = controllen;
    }

    /* The kernel wrote msg_namelen and msg_controllen bytes: copies of
     * exactly that size make a read past either one a reported error. */
    name_copy = malloc(namelen ? namelen : 1);
    control_copy = malloc(controllen ? controllen : 1);
    if (name_copy == NULL || control_copy == NULL) {
        free(name_copy);
        free(control_copy);
        free(buf);
        return 0;
    }
    memcpy(name_copy, &sc.name, namelen);
    mh.msg_name = name_copy;
    if (with_control) {
        memcpy(control_copy, sc.control.bytes, controllen);
        mh.msg_control = control_copy;
    }

    memset(&sum, 0, sizeof sum);
    budp_msg_finish_recv(&slot, &mh, len, &p, &sum);

    /* The slot. */
    FUZZ_CHECK(slot.data == buf);
    FUZZ_CHECK(slot.len <= capacity && slot.len <= len);
    FUZZ_CHECK((slot.flags & ~(uint32_t)(BUDP_DGRAM_TRUNCATED | BUDP_DGRAM_HAS_LOCAL |
                                         BUDP_DGRAM_HAS_ECN | BUDP_DGRAM_CONTROL_TRUNCATED |
                                         BUDP_DGRAM_HAS_TIME | BUDP_SLOT_LAST_CUT)) == 0);
    FUZZ_CHECK((slot.flags & BUDP_DGRAM_HAS_TIME) || slot.time_ns == 0);
    FUZZ_CHECK(p.gro || slot.segment_size == 0);
    /* A cut GRO receive, and only that, marks its last segment cut. */
    FUZZ_CHECK(!!(slot.flags & BUDP_SLOT_LAST_CUT) ==
               (slot.segment_size != 0 && (mh.msg_flags & MSG_TRUNC)));
    if (slot.segment_size == 0) {
        FUZZ_CHECK(slot.len <= p.max_datagram);
        if ((mh.msg_flags & MSG_TRUNC) || (len < capacity ? len : capacity) > p.max_datagram)
            FUZZ_CHECK(slot.flags & BUDP_DGRAM_TRUNCATED);
        if (!(slot.flags & BUDP_DGRAM_TRUNCATED))
            FUZZ_CHECK(slot.len == (len < capacity ? len : capacity));
    } else {
        FUZZ_CHECK(slot.segment_size < slot.len);
        FUZZ_CHECK((slot.len + slot.segment_size - 1u) / slot.segment_size <=
                   BUDP_GRO_MAX_SEGMENTS);
        FUZZ_CHECK(slot.len == (len < capacity ? len : capacity));
    }
    if (mh.msg_flags & MSG_CTRUNC)
        FUZZ_CHECK(slot.flags & BUDP_DGRAM_CONTROL_TRUNCATED);
    if (p.gro && (slot.flags & BUDP_DGRAM_CONTROL_TRUNCATED) && slot.segment_size == 0)
        FUZZ_CHECK(slot.flags & BUDP_DGRAM_TRUNCATED);
    FUZZ_CHECK(slot.ecn <= 3);
    FUZZ_CHECK((slot.flags & BUDP_DGRAM_HAS_ECN) || slot.ecn == 0);
    /* What the backend sums up for the batch is the slot's. */
    FUZZ_CHECK(sum.bytes == slot.len && sum.flags == slot.flags &&
               sum.segments == slot.segment_size);
    if (!with_control && !(mh.msg_flags & MSG_CTRUNC))
        FUZZ_CHECK((slot.flags & (BUDP_DGRAM_HAS_LOCAL | BUDP_DGRAM_HAS_ECN |
                                  BUDP_DGRAM_HAS_TIME | BUDP_DGRAM_CONTROL_TRUNCATED)) == 0);
    if (slot.flags & BUDP_DGRAM_HAS_LOCAL) {
        FUZZ_CHECK(slot.local.family == BUDP_AF_INET || slot.local.family == BUDP_AF_INET6);
        FUZZ_CHECK(slot.local.port == p.local_port);
        FUZZ_CHECK(fuzz_addr_is_clean(&slot.local));
    } else {
        static const budp_addr none;
        FUZZ_CHECK(memcmp(&slot.local, &none, sizeof none) == 0);
    }
    FUZZ_CHECK(fuzz_addr_is_clean(&slot.peer));
    /* The address comes from the msg_namelen bytes the kernel wrote. */
    if (slot.peer.family == BUDP_AF_INET)
        FUZZ_CHECK(namelen >= sizeof(struct sockaddr_in));
    if (slot.peer.family == BUDP_AF_INET6)
        FUZZ_CHECK(namelen >= sizeof(struct sockaddr_in6));

    /* Honest control messages: what the documented rules say. */
    if (with_control && e.known) {
        int anomaly;
        uint16_t seg = model_segment(&e, len < capacity ? len : capacity, &anomaly);

        FUZZ_CHECK(!!(slot.flags & BUDP_DGRAM_HAS_LOCAL) == e.has_local);
        if (e.has_local)
            FUZZ_CHECK(memcmp(&slot.local, &e.local, sizeof e.local) == 0);
        FUZZ_CHECK(!!(slot.flags & BUDP_DGRAM_HAS_ECN) == e.has_ecn);
        if (e.has_ecn)
            FUZZ_CHECK(slot.ecn == e.ecn);
        FUZZ_CHECK(!!(slot.flags & BUDP_DGRAM_HAS_TIME) == e.has_time);
        if (e.has_time)
            FUZZ_CHECK(slot.time_ns == e.time_ns);
        FUZZ_CHECK(!!(slot.flags & BUDP_DGRAM_CONTROL_TRUNCATED) ==
                   (e.cut || !!(mh.msg_flags & MSG_CTRUNC)));
        if (p.gro) {
            FUZZ_CHECK(slot.segment_size == seg);
            if (anomaly)
                FUZZ_CHECK(slot.flags & BUDP_DGRAM_TRUNCATED);
            if (p.anomalies != NULL && anomaly)
                FUZZ_CHECK(anomalies > 0);
        }
    }

    check_views(&slot, capacity, p.max_datagram);

    free(control_copy);
    free(name_copy);
    free(buf);
    return 0;
}
