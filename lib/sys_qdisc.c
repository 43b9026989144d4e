/* sys_qdisc.c - whether the interface a route leaves by honours SO_TXTIME
 * departure times: the route and the queue disciplines, read from the
 * kernel over rtnetlink (Linux).  Part of the platform layer (sys.h). */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"

#if defined(__linux__)
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdalign.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Room for one reply of a dump: the kernel sends at most a page's worth,
 * or 8 KiB, per read. */
#define NL_BUFFER_BYTES 32768

struct nl_buffer {
    alignas(struct nlmsghdr) char bytes[NL_BUFFER_BYTES];
};

/* Add attribute type with len bytes of value to the message n. */
static void add_attr(struct nlmsghdr *n, unsigned short type, const void *value,
                     size_t len)
{
    struct rtattr *a = (struct rtattr *)(void *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), value, len);
    n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_open(void)
{
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

    return nl < 0 ? -errno : nl;
}

static int nl_send(int nl, const struct nlmsghdr *n)
{
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

    if (sendto(nl, n, n->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return -errno;
    return 0;
}

static int nl_read(int nl, struct nl_buffer *buf)
{
    ssize_t len;

    do
        len = recv(nl, buf->bytes, sizeof buf->bytes, 0);
    while (len < 0 && errno == EINTR);
    return len < 0 ? -errno : (int)len;
}

/* The interface the route to dest leaves by: its index, or an error. */
static int route_interface(int nl, const budp_addr *dest)
{
    struct {
        struct nlmsghdr n;
        struct rtmsg r;
        char attrs[64];
    } req;
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    int v4 = dest->family == BUDP_AF_INET ||
             memcmp(dest->bytes, mapped, sizeof mapped) == 0;
    struct nl_buffer buf;
    int len, rc;

    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.r);
    req.n.nlmsg_type = RTM_GETROUTE;
    req.n.nlmsg_flags = NLM_F_REQUEST;
    req.r.rtm_family = v4 ? AF_INET : AF_INET6;
    req.r.rtm_dst_len = v4 ? 32 : 128;
    add_attr(&req.n, RTA_DST, dest->family == BUDP_AF_INET ? dest->bytes
                              : v4 ? dest->bytes + 12 : dest->bytes, v4 ? 4 : 16);
    if (!v4 && dest->scope_id != 0)
        add_attr(&req.n, RTA_OIF, &dest->scope_id, sizeof dest->scope_id);
    if ((rc = nl_send(nl, &req.n)) < 0)
        return rc;
    if ((len = nl_read(nl, &buf)) < 0)
        return len;
    for (struct nlmsghdr *n = (struct nlmsghdr *)(void *)buf.bytes; NLMSG_OK(n, (unsigned)len);
         n = NLMSG_NEXT(n, len)) {
        if (n->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(n);
            return e->error < 0 ? e->error : -ENETUNREACH;
        }
        if (n->nlmsg_type != RTM_NEWROUTE)
            continue;
        {
            struct rtmsg *r = NLMSG_DATA(n);
            int attrs = (int)RTM_PAYLOAD(n);

            for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, attrs); a = RTA_NEXT(a, attrs))
                if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int)) {
                    int oif;
                    memcpy(&oif, RTA_DATA(a), sizeof oif);
                    return oif;
                }
        }
    }
    return -ENETUNREACH;
}

/* Children of a multiqueue root (mq: one per transmit queue) looked at. */
#define MAX_CHILDREN 256

/* What the queue disciplines of one interface say about departure times. */
struct qdisc_survey {
    int ifindex;
    int clock;            /* the clock asked about: CLOCK_* */
    uint32_t root_handle; /* the root's handle */
    char root_kind[16];
    int root_honours;     /* the root honours times in clock */
    unsigned count;       /* qdiscs under some parent, in child[] */
    struct { uint32_t parent; int honours; } child[MAX_CHILDREN];
};

/* 1 when a qdisc of kind (with options opts, len bytes) holds packets
 * until their time in clock. */
static int honours(const char *kind, const struct rtattr *opts, int len, int clock)
{
    if (strcmp(kind, "fq") == 0)
        return clock == CLOCK_MONOTONIC;
    if (strcmp(kind, "etf") == 0 && opts != NULL) {
        for (const struct rtattr *a = RTA_DATA(opts); RTA_OK(a, len);
             a = RTA_NEXT(a, len))
            if (a->rta_type == TCA_ETF_PARMS && RTA_PAYLOAD(a) >= sizeof(struct tc_etf_qopt)) {
                struct tc_etf_qopt q;
                memcpy(&q, RTA_DATA(a), sizeof q);
                return q.clockid == clock;
            }
    }
    return 0;
}

static void survey_one(struct qdisc_survey *sv, const struct nlmsghdr *n)
{
    const struct tcmsg *t = NLMSG_DATA(n);
    int attrs = (int)(n->nlmsg_len - NLMSG_LENGTH(sizeof *t));
    const struct rtattr *opts = NULL;
    char kind[16] = "";
    int yes;

    if (t->tcm_ifindex != sv->ifindex)
        return;
    for (const struct rtattr *a = (const struct rtattr *)(const void *)((const char *)t +
                                                                         NLMSG_ALIGN(sizeof *t));
         RTA_OK(a, attrs); a = RTA_NEXT(a, attrs)) {
        if (a->rta_type == TCA_KIND)
            snprintf(kind, sizeof kind, "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
        else if (a->rta_type == TCA_OPTIONS)
            opts = a;
    }
    yes = honours(kind, opts, opts != NULL ? (int)RTA_PAYLOAD(opts) : 0, sv->clock);
    if (t->tcm_parent == TC_H_ROOT) {
        sv->root_handle = t->tcm_handle;
        snprintf(sv->root_kind, sizeof sv->root_kind, "%s", kind);
        sv->root_honours = yes;
    } else if (sv->count < MAX_CHILDREN) {
        /* Matched to the root once the dump is over: it may come later. */
        sv->child[sv->count].parent = t->tcm_parent;
        sv->child[sv->count].honours = yes;
        sv->count++;
    }
}

/* Dump the queue disciplines and survey ifindex's. */
static int survey(int nl, struct qdisc_survey *sv)
{
    struct {
        struct nlmsghdr n;
        struct tcmsg t;
    } req;
    struct nl_buffer buf;
    int rc;

    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.t);
    req.n.nlmsg_type = RTM_GETQDISC;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.t.tcm_family = AF_UNSPEC;
    if ((rc = nl_send(nl, &req.n)) < 0)
        return rc;
    for (;;) {
        int len = nl_read(nl, &buf);

        if (len < 0)
            return len;
        for (struct nlmsghdr *n = (struct nlmsghdr *)(void *)buf.bytes;
             NLMSG_OK(n, (unsigned)len); n = NLMSG_NEXT(n, len)) {
            if (n->nlmsg_type == NLMSG_DONE)
                return 0;
            if (n->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(n);
                return e->error < 0 ? e->error : 0;
            }
            if (n->nlmsg_type == RTM_NEWQDISC)
                survey_one(sv, n);
        }
    }
}

int budp_sys_pacing_honoured(const budp_addr *dest, int tai, char *detail, size_t size)
{
    struct qdisc_survey sv;
    char name[IF_NAMESIZE] = "?";
    unsigned children = 0, honouring = 0;
    const char *clock_name = tai ? "CLOCK_TAI" : "CLOCK_MONOTONIC";
    int nl = nl_open(), rc, yes;

    if (nl < 0)
        return nl;
    memset(&sv, 0, sizeof sv);
    sv.clock = tai ? CLOCK_TAI : CLOCK_MONOTONIC;
    rc = route_interface(nl, dest);
    if (rc >= 0) {
        sv.ifindex = rc;
        rc = survey(nl, &sv);
    }
    close(nl);
    if (rc < 0)
        return rc;
    if (if_indextoname((unsigned)sv.ifindex, name) == NULL)
        snprintf(name, sizeof name, "%d", sv.ifindex);
    if (sv.root_kind[0] == '\0') {
        snprintf(detail, size, "%s: no queue discipline found: sends at once", name);
        return 0;
    }
    for (unsigned i = 0; i < sv.count; i++)
        if (TC_H_MAJ(sv.child[i].parent) == TC_H_MAJ(sv.root_handle)) {
            children++;
            honouring += (unsigned)sv.child[i].honours;
        }
    /* A multiqueue root (mq) sends each queue through its own child. */
    if (children > 0 && !sv.root_honours) {
        yes = honouring == children;
        snprintf(detail, size, "%s: %s with %u of %u queues honouring %s times", name,
                 sv.root_kind, honouring, children, clock_name);
        return yes;
    }
    if (sv.root_honours)
        snprintf(detail, size, "%s: %s, %s honoured", name, sv.root_kind, clock_name);
    else if (strcmp(sv.root_kind, "fq") == 0 || strcmp(sv.root_kind, "etf") == 0)
        snprintf(detail, size, "%s: %s, which does not honour %s times", name,
                 sv.root_kind, clock_name);
    else
        snprintf(detail, size, "%s: %s sends at once", name, sv.root_kind);
    return sv.root_honours;
}

#else

int budp_sys_pacing_honoured(const budp_addr *dest, int tai, char *detail, size_t size)
{
    (void)dest;
    (void)tai;
    snprintf(detail, size, "no departure times on this system");
    return -ENOTSUP;
}

#endif
